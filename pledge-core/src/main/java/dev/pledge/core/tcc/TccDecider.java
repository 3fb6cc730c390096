package dev.pledge.core.tcc;

import static dev.pledge.core.Status.ABORTED;
import static dev.pledge.core.Status.ABORTING;
import static dev.pledge.core.Status.BEGUN;
import static dev.pledge.core.Status.COMMITTED;
import static dev.pledge.core.Status.COMMITTING;
import static dev.pledge.core.engine.Trigger.ABORT_REQUESTED;
import static dev.pledge.core.engine.Trigger.ALL_SUCCEEDED;
import static dev.pledge.core.engine.Trigger.BRANCH_REGISTERED;
import static dev.pledge.core.engine.Trigger.COMMIT_REQUESTED;
import static dev.pledge.core.engine.Trigger.OPERATOR_RETRY;
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
import dev.pledge.core.FieldError;
import dev.pledge.core.Limits;
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
import java.util.Objects;

/**
 * Try-confirm-cancel. The initiator begins the transaction, registers each branch and calls its try
 * itself; then it asks the coordinator to commit (confirm every branch) or abort (cancel every
 * registered branch). The timeout, or a recovering coordinator that finds the transaction still
 * open, aborts it: the initiator may have died between its tries. Confirm and cancel retry until
 * they succeed; the participant's barrier makes a cancel that overtakes its try harmless.
 */
public final class TccDecider implements Decider {
  public static final TransitionTable TABLE =
      TransitionTable.of(Mode.TCC)
          .row(null, STARTED, BEGUN, "wait for branches; the initiator calls try itself")
          .row(BEGUN, BRANCH_REGISTERED, BEGUN, "record the branch")
          .row(
              BEGUN,
              COMMIT_REQUESTED,
              COMMITTING,
              "log the commit decision, then confirm every branch")
          .row(BEGUN, ABORT_REQUESTED, ABORTING, "log the abort decision, then cancel every branch")
          .row(BEGUN, TIMEOUT, ABORTING, "presumed abort: cancel every branch")
          .row(
              BEGUN,
              RECOVERED,
              ABORTING,
              "presumed abort: an undecided transaction found by recovery cancels")
          .row(BEGUN, STALE_ANSWER, BEGUN, "ignore an answer that belongs to no call")
          .row(COMMITTING, OP_SUCCEEDED, COMMITTING, "record the confirm; wait for the others")
          .row(COMMITTING, ALL_SUCCEEDED, COMMITTED, "none: every branch confirmed")
          .row(
              COMMITTING,
              OP_RETRY,
              COMMITTING,
              "unknown or unanswered: confirm again after a capped, jittered backoff, without end")
          .row(COMMITTING, RETRY_DUE, COMMITTING, "confirm again")
          .row(
              COMMITTING,
              RETRY_BOUND_REACHED,
              COMMITTING,
              "flag for an operator; keep retrying at the cap")
          .row(COMMITTING, STALE_ANSWER, COMMITTING, "ignore a duplicate or late answer")
          .row(COMMITTING, RECOVERED, COMMITTING, "re-send every confirm not yet acknowledged")
          .row(COMMITTING, OPERATOR_RETRY, COMMITTING, "confirm every waiting branch now")
          .row(ABORTING, OP_SUCCEEDED, ABORTING, "record the cancel; wait for the others")
          .row(ABORTING, ALL_SUCCEEDED, ABORTED, "none: every branch cancelled")
          .row(
              ABORTING,
              OP_RETRY,
              ABORTING,
              "unknown or unanswered: cancel again after a capped, jittered backoff, without end")
          .row(ABORTING, RETRY_DUE, ABORTING, "cancel again")
          .row(
              ABORTING,
              RETRY_BOUND_REACHED,
              ABORTING,
              "flag for an operator; keep retrying at the cap")
          .row(ABORTING, STALE_ANSWER, ABORTING, "ignore a duplicate or late answer")
          .row(ABORTING, RECOVERED, ABORTING, "re-send every cancel not yet acknowledged")
          .row(ABORTING, OPERATOR_RETRY, ABORTING, "cancel every waiting branch now")
          .build();

  private final Limits limits;

  public TccDecider(Limits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  @Override
  public TransitionTable table() {
    return TABLE;
  }

  @Override
  public Decision start(TransactionSpec spec, Instant now, Instant deadline, RetryPolicy policy) {
    Transaction initial =
        new Transaction(
            spec.gid(),
            Mode.TCC,
            BEGUN,
            1,
            now,
            now,
            deadline,
            null,
            Progress.IDLE,
            List.of(),
            List.of(),
            null);
    Draft draft = Draft.creating(initial, now, policy, TABLE);
    draft.fireStart();
    return draft.finish();
  }

  @Override
  public Decision decide(Transaction state, Event event, Instant now, RetryPolicy policy) {
    Draft draft = new Draft(state, now, policy, TABLE);
    Status status = state.status();
    switch (event) {
      case Event.BranchRegistered registered -> {
        return register(draft, registered.branch());
      }
      case Event.Redrive r -> {
        return draft.reject(Draft.NO_DELIVERIES);
      }
      case Event.KeyTurn t -> {
        return draft.reject(Draft.NO_DELIVERIES);
      }
      case Event.CommitRequested commit -> {
        if (status == COMMITTING || status == COMMITTED) {
          return draft.finish();
        }
        if (status != BEGUN) {
          return draft.reject("cannot commit: the transaction is " + status.label());
        }
        draft.fire(COMMIT_REQUESTED);
        Phases.sendAll(draft, Op.CONFIRM);
      }
      case Event.AbortRequested abort -> {
        if (status == ABORTING || status == ABORTED) {
          return draft.finish();
        }
        if (status != BEGUN) {
          return draft.reject("cannot abort: the transaction is " + status.label());
        }
        abort(draft, ABORT_REQUESTED);
      }
      case Event.OpCompleted done -> {
        if (status.isFinal()) {
          return draft.finish();
        }
        Op phaseOp = status == COMMITTING ? Op.CONFIRM : status == ABORTING ? Op.CANCEL : null;
        if (phaseOp == null || done.op() != phaseOp || state.branch(done.branchId()) == null) {
          draft.fire(STALE_ANSWER);
        } else {
          Phases.onFinishingAnswer(
              draft, new Slot.BranchOp(done.branchId(), phaseOp), done.attempt(), done.outcome());
        }
      }
      case Event.Tick tick -> {
        if (status == BEGUN && !now.isBefore(state.deadline())) {
          abort(draft, TIMEOUT);
        } else if (status == COMMITTING) {
          draft.onDue(draft.slots(Op.CONFIRM), OP_RETRY);
        } else if (status == ABORTING) {
          draft.onDue(draft.slots(Op.CANCEL), OP_RETRY);
        }
      }
      case Event.Recovered recovered -> {
        if (status == BEGUN) {
          abort(draft, RECOVERED);
        } else if (status == COMMITTING) {
          Phases.resendNow(draft, Op.CONFIRM, RECOVERED);
        } else if (status == ABORTING) {
          Phases.resendNow(draft, Op.CANCEL, RECOVERED);
        }
      }
      case Event.RetryNow retry -> {
        if (status == COMMITTING) {
          Phases.resendNow(draft, Op.CONFIRM, OPERATOR_RETRY);
        } else if (status == ABORTING) {
          Phases.resendNow(draft, Op.CANCEL, OPERATOR_RETRY);
        }
      }
      case Event.CheckCompleted c -> {
        return draft.finish();
      }
      case Event.DeliveryCompleted d -> {
        return draft.finish();
      }
      case Event.SubscribersResolved s -> {
        return draft.finish();
      }
    }
    return draft.finish();
  }

  private Decision register(Draft draft, BranchSpec spec) {
    Transaction state = draft.state();
    Branch existing = state.branch(spec.branchId());
    if (existing != null) {
      boolean same =
          existing.urls().equals(spec.urls()) && existing.payload().equals(spec.payload());
      return same
          ? draft.finish()
          : draft.reject("branch " + spec.branchId() + " is already registered with another body");
    }
    if (state.status() != BEGUN) {
      return draft.reject("cannot register a branch: the transaction is " + state.status().label());
    }
    List<FieldError> errors = new ArrayList<>();
    TransactionSpec.validateBranch(spec, Mode.TCC, "branch", limits, errors);
    if (state.branches().size() >= limits.maxBranches()) {
      errors.add(
          new FieldError(
              "branch", "the transaction already has " + limits.maxBranches() + " branches"));
    }
    if (!errors.isEmpty()) {
      return draft.reject(errors.toString());
    }
    List<Branch> branches = new ArrayList<>(state.branches());
    branches.add(Branch.of(spec, Mode.TCC));
    draft.change(state.withBranches(branches));
    draft.fire(BRANCH_REGISTERED);
    return draft.finish();
  }

  private static void abort(Draft draft, Trigger trigger) {
    draft.fire(trigger);
    Phases.sendAll(draft, Op.CANCEL);
  }
}
