package dev.pledge.core.lra;

import static dev.pledge.core.Status.ABORTING;
import static dev.pledge.core.Status.BEGUN;
import static dev.pledge.core.Status.PREPARED;
import static dev.pledge.core.engine.Trigger.ALL_ENDED;
import static dev.pledge.core.engine.Trigger.OP_RETRY;
import static dev.pledge.core.engine.Trigger.RETRY_DUE;
import static dev.pledge.core.lra.LraDecider.ACCEPTED;
import static dev.pledge.core.lra.LraDecider.HTTP_ERROR;
import static dev.pledge.core.lra.LraDecider.PROVISIONAL;

import dev.pledge.core.Branch;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Progress;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Draft;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Slot;
import java.util.ArrayList;
import java.util.List;

/**
 * How an ending LRA moves on: what is sent next (the main phase, then forgets, then after
 * callbacks), what is sent again when due or after a restart, and how a participant that answered
 * {@code 202} is polled for its status. An LRA ends when nothing is left to send.
 */
final class LraPhases {
  private LraPhases() {}

  /** The op of the main phase: complete while closing, compensate while cancelling. */
  static Op mainOp(Status status) {
    return status == ABORTING ? Op.COMPENSATE : Op.COMPLETE;
  }

  static boolean done(Progress progress) {
    return progress.status().isDone();
  }

  /** Whether the participant must be told to forget: it answered 202 or failed, and can forget. */
  static boolean needsForget(Transaction tx, Branch branch) {
    if (branch.url(Op.FORGET) == null) {
      return false;
    }
    Progress main = branch.op(mainOp(tx.status()));
    return main.status() == OpStatus.FAILED
        || (main.status() == OpStatus.SUCCEEDED
            && (ACCEPTED.equals(main.lastError()) || PROVISIONAL.equals(main.lastError())));
  }

  /**
   * The parent closes a nested LRA closed before: every participant that completed meanwhile did so
   * provisionally, keeping what it needed to compensate, and is told to forget it. (A completion
   * still under way when the parent closes is final: nothing to forget.)
   */
  static void markProvisional(Draft draft) {
    for (Slot.BranchOp slot : draft.slots(Op.COMPLETE)) {
      Progress progress = draft.progress(slot);
      if (progress.status() == OpStatus.SUCCEEDED) {
        draft.set(slot, new Progress(OpStatus.SUCCEEDED, progress.attempts(), null, PROVISIONAL));
      }
    }
  }

  /**
   * Whether the participant answered the last attempt of its complete or compensate, but not with
   * its outcome ({@code 202}, or an HTTP error such as {@code 503}): it is then asked for its
   * status rather than sent the op again, as the specification asks.
   */
  static boolean answeredWithoutOutcome(String lastError) {
    return ACCEPTED.equals(lastError) || (lastError != null && lastError.startsWith(HTTP_ERROR));
  }

  /**
   * Sends what is due next and ends the LRA once nothing is left: the main phase (every participant
   * at once when closing, one at a time from the last to join when cancelling), then forgets, then
   * after callbacks.
   */
  static void advance(Draft draft) {
    Transaction tx = draft.state();
    Status status = tx.status();
    if (status == BEGUN || status.isFinal()) {
      return;
    }
    Op main = mainOp(status);
    boolean mainDone = true;
    if (main == Op.COMPLETE) {
      for (Branch branch : tx.branches()) {
        Slot.BranchOp slot = new Slot.BranchOp(branch.branchId(), main);
        Progress progress = draft.progress(slot);
        if (progress.status() == OpStatus.IDLE) {
          if (branch.url(main) == null) {
            draft.set(slot, progress.skipped());
            continue;
          }
          send(draft, slot);
        }
        mainDone &= done(draft.progress(slot));
      }
    } else {
      List<Branch> branches = tx.branches();
      for (int i = branches.size() - 1; i >= 0; i--) {
        Branch branch = branches.get(i);
        Slot.BranchOp slot = new Slot.BranchOp(branch.branchId(), main);
        Progress progress = draft.progress(slot);
        if (done(progress)) {
          continue;
        }
        if (progress.status() == OpStatus.IDLE) {
          if (branch.url(main) == null) {
            draft.set(slot, progress.skipped());
            continue;
          }
          send(draft, slot);
        }
        mainDone = false;
        break; // one at a time, in reverse join order
      }
    }
    if (!mainDone) {
      return;
    }
    if (status == PREPARED) {
      return; // a nested LRA waits for its parent before forgetting and after callbacks
    }
    boolean forgotten = true;
    for (Branch branch : draft.state().branches()) {
      Slot.BranchOp slot = new Slot.BranchOp(branch.branchId(), Op.FORGET);
      Progress progress = draft.progress(slot);
      if (progress.status() == OpStatus.IDLE && needsForget(draft.state(), branch)) {
        send(draft, slot);
      } else if (progress.status() == OpStatus.IDLE) {
        continue;
      }
      forgotten &= done(draft.progress(slot));
    }
    if (!forgotten) {
      return;
    }
    boolean heard = true;
    for (Branch branch : draft.state().branches()) {
      Slot.BranchOp slot = new Slot.BranchOp(branch.branchId(), Op.AFTER);
      Progress progress = draft.progress(slot);
      if (progress.status() == OpStatus.IDLE) {
        if (branch.url(Op.AFTER) == null) {
          draft.set(slot, progress.skipped());
          continue;
        }
        send(draft, slot);
      }
      heard &= done(draft.progress(slot));
    }
    if (heard) {
      draft.fire(ALL_ENDED);
    }
  }

  /**
   * Sends the next attempt of {@code slot}. An op whose participant answered {@code 202} is
   * followed up with {@code GET status} when the participant has a status URL; an after callback
   * carries the LRA's final status; complete and compensate carry the participant's data.
   */
  static void send(Draft draft, Slot.BranchOp slot) {
    Progress next = draft.progress(slot).sent(draft.now(), draft.policy().callTimeout());
    draft.set(slot, next);
    Transaction tx = draft.state();
    Branch branch = tx.branch(slot.branchId());
    Op op = slot.op();
    String url = branch.url(op);
    String payload = branch.payload();
    if ((op == Op.COMPLETE || op == Op.COMPENSATE)
        && answeredWithoutOutcome(next.lastError())
        && branch.url(Op.STATUS) != null) {
      op = Op.STATUS;
      url = branch.url(Op.STATUS);
      payload = "";
      // The poll is an attempt of the op it reports on; the status slot mirrors it, for the log.
      draft.set(new Slot.BranchOp(branch.branchId(), Op.STATUS), next);
    } else if (op == Op.AFTER) {
      payload = LraDecider.finalStatus(tx);
    } else if (op == Op.FORGET) {
      payload = "";
    }
    draft.effect(
        new Effect.CallOp(
            tx.gid(), Mode.LRA, branch.branchId(), op, next.attempts(), url, payload));
  }

  private static List<Slot.BranchOp> activeSlots(Draft draft) {
    List<Slot.BranchOp> slots = new ArrayList<>();
    for (Op op : List.of(Op.COMPLETE, Op.COMPENSATE, Op.FORGET, Op.AFTER)) {
      for (Slot.BranchOp slot : draft.slots(op)) {
        if (draft.progress(slot).status().isActive()) {
          slots.add(slot);
        }
      }
    }
    return slots;
  }

  static void resendActive(Draft draft) {
    for (Slot.BranchOp slot : activeSlots(draft)) {
      send(draft, slot);
    }
  }

  static void onDue(Draft draft) {
    for (Slot.BranchOp slot : activeSlots(draft)) {
      Progress progress = draft.progress(slot);
      if (!progress.isDue(draft.now())) {
        continue;
      }
      if (progress.status() == OpStatus.IN_FLIGHT) {
        settlePoll(draft, slot.branchId());
        draft.retryLater(
            slot,
            ACCEPTED.equals(progress.lastError())
                ? ACCEPTED
                : "no answer within " + draft.policy().callTimeout(),
            OP_RETRY);
      } else {
        send(draft, slot);
        draft.fire(RETRY_DUE);
      }
    }
  }

  /** Ends the status slot's mirror of a poll once the poll is answered or given up on. */
  static void settlePoll(Draft draft, String branchId) {
    Slot.BranchOp poll = new Slot.BranchOp(branchId, Op.STATUS);
    Progress progress = draft.progress(poll);
    if (progress.status().isActive()) {
      draft.set(poll, progress.abandoned());
    }
  }
}
