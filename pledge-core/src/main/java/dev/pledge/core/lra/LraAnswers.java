package dev.pledge.core.lra;

import static dev.pledge.core.Status.BEGUN;
import static dev.pledge.core.Status.PREPARED;
import static dev.pledge.core.engine.Trigger.ALL_ENDED;
import static dev.pledge.core.engine.Trigger.OP_FAILED_FINALLY;
import static dev.pledge.core.engine.Trigger.OP_RETRY;
import static dev.pledge.core.engine.Trigger.OP_SUCCEEDED;
import static dev.pledge.core.engine.Trigger.STALE_ANSWER;
import static dev.pledge.core.lra.LraDecider.ACCEPTED;
import static dev.pledge.core.lra.LraDecider.allEnded;
import static dev.pledge.core.lra.LraPhases.advance;
import static dev.pledge.core.lra.LraPhases.done;
import static dev.pledge.core.lra.LraPhases.mainOp;
import static dev.pledge.core.lra.LraPhases.settlePoll;

import dev.pledge.core.Branch;
import dev.pledge.core.Op;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Outcome;
import dev.pledge.core.Progress;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Draft;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Slot;

/**
 * A participant's answer to an op of an ending LRA: a stale answer (an older attempt, an op the LRA
 * is past) only fires {@code STALE_ANSWER}; a current one ends the op, or retries it later, and the
 * LRA moves on.
 */
final class LraAnswers {
  private LraAnswers() {}

  static void onAnswer(Draft draft, Event.OpCompleted done) {
    Transaction state = draft.state();
    Branch branch = state.branch(done.branchId());
    Op op = done.op() == Op.STATUS ? mainOp(state.status()) : done.op();
    boolean belongs =
        branch != null
            && state.status() != BEGUN
            && (op == mainOp(state.status()) || op == Op.FORGET || op == Op.AFTER);
    if (!belongs) {
      draft.fire(STALE_ANSWER);
      return;
    }
    Slot.BranchOp slot = new Slot.BranchOp(done.branchId(), op);
    Progress progress = draft.progress(slot);
    int attempt = done.attempt();
    if (!progress.status().isActive() || attempt < 1 || attempt > progress.attempts()) {
      draft.fire(STALE_ANSWER);
      return;
    }
    boolean current = progress.status() == OpStatus.IN_FLIGHT && attempt == progress.attempts();
    boolean mainPhase = op == Op.COMPLETE || op == Op.COMPENSATE;
    if (mainPhase) {
      settlePoll(draft, done.branchId());
    }
    switch (done.outcome()) {
      case Outcome.Succeeded s -> {
        draft.set(slot, progress.succeeded());
        draft.fire(OP_SUCCEEDED);
      }
      case Outcome.Failed f when mainPhase -> {
        draft.set(slot, progress.failed(f.reason()));
        draft.fire(OP_FAILED_FINALLY);
      }
      case Outcome.Failed f -> {
        if (!current) {
          draft.fire(STALE_ANSWER);
          return;
        }
        draft.retryLater(slot, Draft.reason(f), OP_RETRY);
      }
      case Outcome.Pending p -> {
        if (!current) {
          draft.fire(STALE_ANSWER);
          return;
        }
        draft.retryLater(slot, mainPhase ? ACCEPTED : "pending", OP_RETRY);
      }
      case Outcome.Unknown u -> {
        if (!current) {
          draft.fire(STALE_ANSWER);
          return;
        }
        // After a 202 the participant is still asked for its status: keep that in mind.
        draft.retryLater(
            slot, ACCEPTED.equals(progress.lastError()) ? ACCEPTED : Draft.reason(u), OP_RETRY);
      }
    }
    Status before = draft.state().status();
    advance(draft);
    if (before == PREPARED
        && draft.state().status() == PREPARED
        && allEnded(draft.state(), Op.COMPLETE)
        && done(draft.progress(slot))) {
      draft.fire(ALL_ENDED);
    }
  }
}
