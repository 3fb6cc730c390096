package dev.pledge.core.engine;

import dev.pledge.core.Op;
import dev.pledge.core.OpStatus;
import java.util.List;

/**
 * The steps tcc and 2pc share: sending one op to every branch, and gathering the answers of a phase
 * that must finish (confirm, cancel, commit, rollback).
 */
public final class Phases {
  private Phases() {}

  /** Sends {@code op} to every branch; with no branch the phase is complete at once. */
  public static void sendAll(Draft draft, Op op) {
    List<Slot.BranchOp> slots = draft.slots(op);
    for (Slot slot : slots) {
      draft.send(slot);
    }
    if (slots.isEmpty()) {
      draft.fire(Trigger.ALL_SUCCEEDED);
    }
  }

  /** Whether {@code op} has succeeded on every branch. */
  public static boolean allSucceeded(Draft draft, Op op) {
    for (Slot.BranchOp slot : draft.slots(op)) {
      if (draft.progress(slot).status() != OpStatus.SUCCEEDED) {
        return false;
      }
    }
    return true;
  }

  /** Handles an answer to a must-finish op of the current phase. */
  public static void onFinishingAnswer(
      Draft draft, Slot.BranchOp slot, int attempt, dev.pledge.core.Outcome outcome) {
    switch (draft.classify(slot, attempt, outcome)) {
      case STALE -> draft.fire(Trigger.STALE_ANSWER);
      case SUCCEEDED -> {
        draft.set(slot, draft.progress(slot).succeeded());
        draft.fire(allSucceeded(draft, slot.op()) ? Trigger.ALL_SUCCEEDED : Trigger.OP_SUCCEEDED);
      }
      case RETRY, FAILED -> draft.retryLater(slot, Draft.reason(outcome), Trigger.OP_RETRY);
    }
  }

  /**
   * Re-sends, after a recovery or on an operator's request, every op of the phase still under way.
   */
  public static void resendNow(Draft draft, Op op, Trigger trigger) {
    draft.fire(trigger);
    draft.resendActive(draft.slots(op));
  }
}
