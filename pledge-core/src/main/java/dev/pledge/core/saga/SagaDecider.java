package dev.pledge.core.saga;

import static dev.pledge.core.Status.ABORTED;
import static dev.pledge.core.Status.ABORTING;
import static dev.pledge.core.Status.BEGUN;
import static dev.pledge.core.Status.COMMITTED;
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
import dev.pledge.core.OpStatus;
import dev.pledge.core.Progress;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decider;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Draft;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Slot;
import dev.pledge.core.engine.TransitionTable;
import dev.pledge.core.engine.Trigger;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Saga: steps run forward, each an action with a compensation. Without any {@code after}, steps run
 * one after another in the order given; with {@code after}, they form a DAG and a step runs once
 * every step it names has succeeded, so independent steps run in parallel.
 *
 * <p>When an action says no, or the timeout passes, the saga aborts: every step whose action may
 * have run (any call was sent, whatever came back) is compensated, in reverse order: a step is
 * compensated only after every step that ran after it has been. Compensations retry until they
 * succeed. A compensation that overtakes its action is safe, and the late action blocked, by the
 * participant's barrier.
 */
public final class SagaDecider implements Decider {
  public static final TransitionTable TABLE =
      TransitionTable.of(Mode.SAGA)
          .row(null, STARTED, BEGUN, "call the actions of the steps that wait for no other")
          .row(
              BEGUN, OP_SUCCEEDED, BEGUN, "call the actions whose earlier steps have all succeeded")
          .row(BEGUN, ALL_SUCCEEDED, COMMITTED, "none: every action ran")
          .row(
              BEGUN,
              OP_FAILED,
              ABORTING,
              "log the abort, then compensate in reverse order every step whose action may have run")
          .row(
              BEGUN,
              TIMEOUT,
              ABORTING,
              "log the abort, then compensate in reverse order every step whose action may have run")
          .row(
              BEGUN,
              OP_RETRY,
              BEGUN,
              "unknown, pending or unanswered action: call again after a capped, jittered backoff, within the timeout")
          .row(BEGUN, RETRY_DUE, BEGUN, "call the action again: its backoff passed")
          .row(BEGUN, STALE_ANSWER, BEGUN, "ignore a duplicate or late answer")
          .row(BEGUN, RECOVERED, BEGUN, "re-send every action that was in flight")
          .row(BEGUN, OPERATOR_RETRY, BEGUN, "call every waiting action now")
          .row(
              ABORTING,
              OP_SUCCEEDED,
              ABORTING,
              "compensate the steps whose later steps are all compensated")
          .row(
              ABORTING, ALL_SUCCEEDED, ABORTED, "none: every step that may have run is compensated")
          .row(
              ABORTING,
              OP_RETRY,
              ABORTING,
              "unknown or unanswered: compensate again after a capped, jittered backoff, without end")
          .row(ABORTING, RETRY_DUE, ABORTING, "compensate again")
          .row(
              ABORTING,
              RETRY_BOUND_REACHED,
              ABORTING,
              "flag for an operator; keep retrying at the cap")
          .row(
              ABORTING,
              STALE_ANSWER,
              ABORTING,
              "ignore a duplicate or late answer (an action cut off by the abort)")
          .row(ABORTING, RECOVERED, ABORTING, "re-send every compensation that was in flight")
          .row(ABORTING, OPERATOR_RETRY, ABORTING, "compensate every waiting step now")
          .build();

  @Override
  public TransitionTable table() {
    return TABLE;
  }

  @Override
  public Decision start(TransactionSpec spec, Instant now, Instant deadline, RetryPolicy policy) {
    List<Branch> branches = new ArrayList<>();
    for (BranchSpec branch : spec.branches()) {
      branches.add(Branch.of(branch, Mode.SAGA));
    }
    Transaction initial =
        new Transaction(
            spec.gid(),
            Mode.SAGA,
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
    Draft draft = Draft.creating(initial, now, policy, TABLE);
    draft.fireStart();
    sendReadyActions(draft);
    return draft.finish();
  }

  @Override
  public Decision decide(Transaction state, Event event, Instant now, RetryPolicy policy) {
    Draft draft = new Draft(state, now, policy, TABLE);
    Status status = state.status();
    switch (event) {
      case Event.CommitRequested c -> {
        return draft.reject("a saga commits by itself when every action has run");
      }
      case Event.AbortRequested a -> {
        return draft.reject("a saga aborts by itself when an action fails or the timeout passes");
      }
      case Event.BranchRegistered b -> {
        return draft.reject("saga steps are given when the transaction starts");
      }
      case Event.Redrive r -> {
        return draft.reject(Draft.NO_DELIVERIES);
      }
      case Event.KeyTurn t -> {
        return draft.reject(Draft.NO_DELIVERIES);
      }
      default -> {
        if (status.isFinal()) {
          return draft.finish();
        }
      }
    }
    Op phaseOp = status == BEGUN ? Op.ACTION : Op.COMPENSATE;
    switch (event) {
      case Event.OpCompleted done -> {
        if (state.branch(done.branchId()) == null || done.op() != phaseOp) {
          draft.fire(STALE_ANSWER);
        } else if (status == BEGUN) {
          onAction(draft, new Slot.BranchOp(done.branchId(), Op.ACTION), done);
        } else {
          onCompensation(draft, new Slot.BranchOp(done.branchId(), Op.COMPENSATE), done);
        }
      }
      case Event.Tick tick -> {
        if (status == BEGUN && !now.isBefore(state.deadline())) {
          abort(draft, TIMEOUT);
        } else {
          draft.onDue(draft.slots(phaseOp), OP_RETRY);
        }
      }
      case Event.Recovered recovered -> resendNow(draft, phaseOp, RECOVERED);
      case Event.RetryNow retry -> resendNow(draft, phaseOp, OPERATOR_RETRY);
      case Event.CheckCompleted c -> draft.fire(STALE_ANSWER);
      case Event.DeliveryCompleted d -> draft.fire(STALE_ANSWER);
      case Event.SubscribersResolved s -> draft.fire(STALE_ANSWER);
      case Event.CommitRequested c -> throw new IllegalStateException("handled above");
      case Event.AbortRequested a -> throw new IllegalStateException("handled above");
      case Event.BranchRegistered b -> throw new IllegalStateException("handled above");
      case Event.Redrive r -> throw new IllegalStateException("handled above");
      case Event.KeyTurn t -> throw new IllegalStateException("handled above");
    }
    return draft.finish();
  }

  private static void resendNow(Draft draft, Op op, Trigger trigger) {
    draft.fire(trigger);
    draft.resendActive(draft.slots(op));
  }

  private static void onAction(Draft draft, Slot.BranchOp slot, Event.OpCompleted done) {
    switch (draft.classify(slot, done.attempt(), done.outcome())) {
      case STALE -> draft.fire(STALE_ANSWER);
      case SUCCEEDED -> {
        draft.set(slot, draft.progress(slot).succeeded());
        if (allDone(draft, Op.ACTION)) {
          draft.fire(ALL_SUCCEEDED);
        } else {
          draft.fire(OP_SUCCEEDED);
          sendReadyActions(draft);
        }
      }
      case FAILED -> {
        draft.set(slot, draft.progress(slot).failed(Draft.reason(done.outcome())));
        abort(draft, OP_FAILED);
      }
      case RETRY -> draft.retryLater(slot, Draft.reason(done.outcome()), OP_RETRY);
    }
  }

  private static void onCompensation(Draft draft, Slot.BranchOp slot, Event.OpCompleted done) {
    switch (draft.classify(slot, done.attempt(), done.outcome())) {
      case STALE -> draft.fire(STALE_ANSWER);
      case SUCCEEDED -> {
        draft.set(slot, draft.progress(slot).succeeded());
        if (allDone(draft, Op.COMPENSATE)) {
          draft.fire(ALL_SUCCEEDED);
        } else {
          draft.fire(OP_SUCCEEDED);
          sendReadyCompensations(draft);
        }
      }
      case RETRY, FAILED -> draft.retryLater(slot, Draft.reason(done.outcome()), OP_RETRY);
    }
  }

  private static void abort(Draft draft, Trigger trigger) {
    draft.fire(trigger);
    draft.abandon(draft.slots(Op.ACTION));
    for (Branch branch : draft.state().branches()) {
      if (!branch.op(Op.ACTION).wasAttempted()) {
        Slot slot = new Slot.BranchOp(branch.branchId(), Op.COMPENSATE);
        draft.set(slot, draft.progress(slot).skipped());
      }
    }
    if (allDone(draft, Op.COMPENSATE)) {
      draft.fire(ALL_SUCCEEDED);
    } else {
      sendReadyCompensations(draft);
    }
  }

  /** Whether {@code op} is settled on every step: succeeded, or skipped as never needed. */
  private static boolean allDone(Draft draft, Op op) {
    for (Branch branch : draft.state().branches()) {
      OpStatus status = branch.op(op).status();
      if (status != OpStatus.SUCCEEDED && status != OpStatus.SKIPPED) {
        return false;
      }
    }
    return true;
  }

  private static void sendReadyActions(Draft draft) {
    Transaction state = draft.state();
    for (Branch branch : state.branches()) {
      if (branch.op(Op.ACTION).status() != OpStatus.IDLE) {
        continue;
      }
      boolean ready = true;
      for (String dep : dependencies(state, branch)) {
        ready &= state.branch(dep).op(Op.ACTION).status() == OpStatus.SUCCEEDED;
      }
      if (ready) {
        draft.send(new Slot.BranchOp(branch.branchId(), Op.ACTION));
      }
    }
  }

  private static void sendReadyCompensations(Draft draft) {
    Transaction state = draft.state();
    for (Branch branch : state.branches()) {
      if (branch.op(Op.COMPENSATE).status() != OpStatus.IDLE) {
        continue;
      }
      boolean ready = true;
      for (Branch later : state.branches()) {
        if (dependencies(state, later).contains(branch.branchId())) {
          OpStatus laterStatus = later.op(Op.COMPENSATE).status();
          ready &= laterStatus == OpStatus.SUCCEEDED || laterStatus == OpStatus.SKIPPED;
        }
      }
      if (ready) {
        draft.send(new Slot.BranchOp(branch.branchId(), Op.COMPENSATE));
      }
    }
  }

  /**
   * The steps {@code branch} runs after: its {@code after} list when the saga is a DAG (any step
   * has one), otherwise the step before it.
   */
  public static List<String> dependencies(Transaction state, Branch branch) {
    boolean dag = false;
    for (Branch b : state.branches()) {
      dag |= !b.after().isEmpty();
    }
    if (dag) {
      return branch.after();
    }
    int index = state.branches().indexOf(branch);
    return index <= 0 ? List.of() : List.of(state.branches().get(index - 1).branchId());
  }
}
