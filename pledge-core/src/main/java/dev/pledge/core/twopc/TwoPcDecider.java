package dev.pledge.core.twopc;

import static dev.pledge.core.Status.ABORTED;
import static dev.pledge.core.Status.ABORTING;
import static dev.pledge.core.Status.BEGUN;
import static dev.pledge.core.Status.COMMITTED;
import static dev.pledge.core.Status.COMMITTING;
import static dev.pledge.core.engine.Trigger.ALL_SUCCEEDED;
import static dev.pledge.core.engine.Trigger.OPERATOR_RETRY;
import static dev.pledge.core.engine.Trigger.OP_FAILED;
import static dev.pledge.core.engine.Trigger.OP_RETRY;
import static dev.pledge.core.engine.Trigger.OP_SUCCEEDED;
import static dev.pledge.core.engine.Trigger.RECOVERED;
import static dev.pledge.core.engine.Trigger.RETRY_BOUND_REACHED;
import static dev.pledge.core.engine.Trigger.RETRY_DUE;
import static dev.pledge.core.engine.Trigger.STALE_ANSWER;
import static dev.pledge.core.engine.Trigger.STARTED;
import static dev.pledge.core.engine.Trigger.TIMEOUT;

import dev.pledge.core.Branch;
import dev.pledge.core.BranchSpec;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.Progress;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decider;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Draft;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Phases;
import dev.pledge.core.engine.Slot;
import dev.pledge.core.engine.TransitionTable;
import dev.pledge.core.engine.Trigger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Two-phase commit, driven by the coordinator: prepare every branch in parallel; once every prepare
 * has succeeded, log the commit decision and commit every branch; if any prepare says no, or the
 * timeout passes, or a recovering coordinator finds the transaction undecided, log the abort
 * decision and roll back every branch (presumed abort). Commit and rollback retry until they
 * succeed.
 *
 * <p>The same decider runs {@code xa} ({@link #xa()}, {@link #XA_TABLE}): to the coordinator an xa
 * branch is a 2pc branch whose prepare, commit and rollback the participant's SDK maps onto a
 * database prepared transaction; only the mode, and so the table's rows and the page, differ.
 */
public final class TwoPcDecider implements Decider {
  public static final TransitionTable TABLE = table(Mode.TWO_PC);

  /** xa's table: 2pc's rows under its own mode. */
  public static final TransitionTable XA_TABLE = table(Mode.XA);

  private final Mode mode;
  private final TransitionTable table;

  /** The 2pc decider. */
  public TwoPcDecider() {
    this(Mode.TWO_PC, TABLE);
  }

  private TwoPcDecider(Mode mode, TransitionTable table) {
    this.mode = mode;
    this.table = table;
  }

  /** The xa decider: 2pc's logic, xa's mode and table. */
  public static TwoPcDecider xa() {
    return new TwoPcDecider(Mode.XA, XA_TABLE);
  }

  private static TransitionTable table(Mode mode) {
    if (mode != Mode.TWO_PC && mode != Mode.XA) {
      throw new IllegalArgumentException("2pc's table is for 2pc and xa, not " + mode.code());
    }
    return TransitionTable.of(mode)
        .row(null, STARTED, BEGUN, "prepare every branch in parallel")
        .row(BEGUN, OP_SUCCEEDED, BEGUN, "record the vote; wait for the other prepares")
        .row(BEGUN, ALL_SUCCEEDED, COMMITTING, "log the commit decision, then commit every branch")
        .row(BEGUN, OP_FAILED, ABORTING, "log the abort decision, then roll back every branch")
        .row(BEGUN, TIMEOUT, ABORTING, "presumed abort: roll back every branch")
        .row(
            BEGUN,
            RECOVERED,
            ABORTING,
            "presumed abort: an undecided transaction found by recovery rolls back")
        .row(
            BEGUN,
            OP_RETRY,
            BEGUN,
            "unknown, pending or unanswered prepare: ask again after a capped, jittered backoff")
        .row(BEGUN, RETRY_DUE, BEGUN, "prepare again: its backoff passed")
        .row(BEGUN, STALE_ANSWER, BEGUN, "ignore a duplicate or late answer")
        .row(BEGUN, OPERATOR_RETRY, BEGUN, "prepare every waiting branch now")
        .row(COMMITTING, OP_SUCCEEDED, COMMITTING, "record the commit; wait for the others")
        .row(COMMITTING, ALL_SUCCEEDED, COMMITTED, "none: every branch committed")
        .row(
            COMMITTING,
            OP_RETRY,
            COMMITTING,
            "unknown or unanswered: commit again after a capped, jittered backoff, without end")
        .row(COMMITTING, RETRY_DUE, COMMITTING, "commit again")
        .row(
            COMMITTING,
            RETRY_BOUND_REACHED,
            COMMITTING,
            "flag for an operator; keep retrying at the cap")
        .row(COMMITTING, STALE_ANSWER, COMMITTING, "ignore a duplicate or late answer")
        .row(COMMITTING, RECOVERED, COMMITTING, "re-send every commit not yet acknowledged")
        .row(COMMITTING, OPERATOR_RETRY, COMMITTING, "commit every waiting branch now")
        .row(ABORTING, OP_SUCCEEDED, ABORTING, "record the rollback; wait for the others")
        .row(ABORTING, ALL_SUCCEEDED, ABORTED, "none: every branch rolled back")
        .row(
            ABORTING,
            OP_RETRY,
            ABORTING,
            "unknown or unanswered: roll back again after a capped, jittered backoff, without end")
        .row(ABORTING, RETRY_DUE, ABORTING, "roll back again")
        .row(
            ABORTING,
            RETRY_BOUND_REACHED,
            ABORTING,
            "flag for an operator; keep retrying at the cap")
        .row(
            ABORTING,
            STALE_ANSWER,
            ABORTING,
            "ignore a duplicate or late answer (a prepare cut off by the abort)")
        .row(ABORTING, RECOVERED, ABORTING, "re-send every rollback not yet acknowledged")
        .row(ABORTING, OPERATOR_RETRY, ABORTING, "roll back every waiting branch now")
        .build();
  }

  @Override
  public TransitionTable table() {
    return table;
  }

  @Override
  public Decision start(TransactionSpec spec, Instant now, Instant deadline, RetryPolicy policy) {
    List<Branch> branches = new ArrayList<>();
    for (BranchSpec branch : spec.branches()) {
      branches.add(Branch.of(branch, mode));
    }
    Transaction initial =
        new Transaction(
            spec.gid(),
            mode,
            BEGUN,
            1,
            now,
            now,
            deadline,
            null,
            Progress.IDLE,
            branches,
            List.of(),
            null);
    Draft draft = Draft.creating(initial, now, policy, table);
    draft.fireStart();
    for (Slot slot : draft.slots(Op.PREPARE)) {
      draft.send(slot);
    }
    return draft.finish();
  }

  @Override
  public Decision decide(Transaction state, Event event, Instant now, RetryPolicy policy) {
    Draft draft = new Draft(state, now, policy, table);
    Status status = state.status();
    if (status.isFinal()) {
      return isRequest(event)
          ? draft.reject(mode.code() + " decides by itself from the prepare votes")
          : draft.finish();
    }
    switch (event) {
      case Event.OpCompleted done -> onAnswer(draft, done);
      case Event.Tick tick -> onTick(draft);
      case Event.Recovered recovered -> {
        if (status == BEGUN) {
          abort(draft, RECOVERED);
        } else {
          Phases.resendNow(draft, phaseOp(status), RECOVERED);
        }
      }
      case Event.RetryNow retry -> Phases.resendNow(draft, phaseOp(status), OPERATOR_RETRY);
      case Event.CheckCompleted c -> draft.fire(STALE_ANSWER);
      case Event.DeliveryCompleted d -> draft.fire(STALE_ANSWER);
      case Event.SubscribersResolved s -> draft.fire(STALE_ANSWER);
      case Event.CommitRequested c -> {
        return draft.reject(mode.code() + " decides by itself from the prepare votes");
      }
      case Event.AbortRequested a -> {
        return draft.reject(mode.code() + " decides by itself from the prepare votes");
      }
      case Event.BranchRegistered b -> {
        return draft.reject(mode.code() + " branches are given when the transaction starts");
      }
      case Event.Redrive r -> {
        return draft.reject(Draft.NO_DELIVERIES);
      }
      case Event.KeyTurn t -> {
        return draft.reject(Draft.NO_DELIVERIES);
      }
    }
    return draft.finish();
  }

  private static boolean isRequest(Event event) {
    return event instanceof Event.CommitRequested
        || event instanceof Event.AbortRequested
        || event instanceof Event.BranchRegistered;
  }

  private Op phaseOp(Status status) {
    return switch (status) {
      case BEGUN -> Op.PREPARE;
      case COMMITTING -> Op.COMMIT;
      case ABORTING -> Op.ROLLBACK;
      case PREPARED, COMMITTED, ABORTED ->
          throw new IllegalStateException(mode.code() + " has no phase in " + status.label());
    };
  }

  private void onAnswer(Draft draft, Event.OpCompleted done) {
    Status status = draft.state().status();
    if (draft.state().branch(done.branchId()) == null || done.op() != phaseOp(status)) {
      draft.fire(STALE_ANSWER);
      return;
    }
    Slot.BranchOp slot = new Slot.BranchOp(done.branchId(), done.op());
    if (status != BEGUN) {
      Phases.onFinishingAnswer(draft, slot, done.attempt(), done.outcome());
      return;
    }
    switch (draft.classify(slot, done.attempt(), done.outcome())) {
      case STALE -> draft.fire(STALE_ANSWER);
      case SUCCEEDED -> {
        draft.set(slot, draft.progress(slot).succeeded());
        if (Phases.allSucceeded(draft, Op.PREPARE)) {
          draft.fire(ALL_SUCCEEDED);
          Phases.sendAll(draft, Op.COMMIT);
        } else {
          draft.fire(OP_SUCCEEDED);
        }
      }
      case FAILED -> {
        draft.set(slot, draft.progress(slot).failed(Draft.reason(done.outcome())));
        abort(draft, OP_FAILED);
      }
      case RETRY -> draft.retryLater(slot, Draft.reason(done.outcome()), OP_RETRY);
    }
  }

  private void onTick(Draft draft) {
    Status status = draft.state().status();
    if (status == BEGUN && !draft.now().isBefore(draft.state().deadline())) {
      abort(draft, TIMEOUT);
      return;
    }
    draft.onDue(draft.slots(phaseOp(status)), OP_RETRY);
  }

  private static void abort(Draft draft, Trigger trigger) {
    draft.fire(trigger);
    draft.abandon(draft.slots(Op.PREPARE));
    Phases.sendAll(draft, Op.ROLLBACK);
  }
}
