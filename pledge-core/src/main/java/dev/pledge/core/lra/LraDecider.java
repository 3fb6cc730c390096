package dev.pledge.core.lra;

import static dev.pledge.core.Status.ABORTED;
import static dev.pledge.core.Status.ABORTING;
import static dev.pledge.core.Status.BEGUN;
import static dev.pledge.core.Status.COMMITTED;
import static dev.pledge.core.Status.COMMITTING;
import static dev.pledge.core.Status.PREPARED;
import static dev.pledge.core.engine.Trigger.ABORT_REQUESTED;
import static dev.pledge.core.engine.Trigger.COMMIT_REQUESTED;
import static dev.pledge.core.engine.Trigger.NESTED_CLOSE_REQUESTED;
import static dev.pledge.core.engine.Trigger.OPERATOR_RETRY;
import static dev.pledge.core.engine.Trigger.RECOVERED;
import static dev.pledge.core.engine.Trigger.TIMEOUT;

import dev.pledge.core.Branch;
import dev.pledge.core.Limits;
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
import dev.pledge.core.engine.TransitionTable;
import java.time.Instant;
import java.util.List;
import java.util.Objects;

/**
 * MicroProfile Long Running Actions. An LRA is open ({@code begun}) while participants join it one
 * by one, each with optional complete, compensate, status, forget and after URLs. Close completes
 * every participant (all at once); cancel, or the time limit, compensates every participant one at
 * a time in reverse join order. A participant that answers {@code 202} is asked for its status
 * (when it has a status URL; otherwise the op is sent again) until it reports an end; one that
 * reports {@code FailedToComplete} or {@code FailedToCompensate} has failed for good. A participant
 * that had to remember its outcome (it answered {@code 202} or failed) is told to forget it. Then
 * every participant with an after URL hears the LRA's final status, and the LRA is over.
 *
 * <p>A nested LRA (its gid is its parent's gid, a dot, and its own part) joins its parent as a
 * participant. Closing it completes its participants provisionally ({@code prepared}); it ends when
 * its parent does: the parent's close closes it for good, the parent's cancel compensates every one
 * of its participants, completed or not.
 *
 * <p>This class dispatches each event; the work is in {@link LraMembers} (join and leave), {@link
 * LraPhases} (what is sent next) and {@link LraAnswers} (a participant's answer).
 */
public final class LraDecider implements Decider {
  /** The final statuses an LRA reports, as Narayana's API names them. */
  public static final String CLOSED = "Closed";

  public static final String CANCELLED = "Cancelled";
  public static final String FAILED_TO_CLOSE = "FailedToClose";
  public static final String FAILED_TO_CANCEL = "FailedToCancel";

  /** The deadline of a nested LRA closed provisionally: its parent ends it, not a timer. */
  public static final Instant NO_DEADLINE = Instant.parse("2999-01-01T00:00:00Z");

  /** The last error an op keeps after its participant answered {@code 202}. */
  static final String ACCEPTED = "accepted: still working";

  /** The note a completion keeps once its nested LRA's parent closed after it. */
  static final String PROVISIONAL = "completed provisionally, before the parent closed";

  /** How the last error of an op begins when its participant answered with an HTTP error. */
  static final String HTTP_ERROR = "unknown: HTTP ";

  /** The transition table of mode {@code lra} ({@link LraTable}). */
  public static final TransitionTable TABLE = LraTable.TABLE;

  private final Limits limits;

  public LraDecider(Limits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  @Override
  public TransitionTable table() {
    return TABLE;
  }

  /** Whether {@code gid} names a nested LRA: its parent's gid, a dot, its own part. */
  public static boolean isNested(String gid) {
    return gid.indexOf('.') > 0;
  }

  /** The gid of a nested LRA's parent, or null for a top-level one. */
  public static String parentOf(String gid) {
    int dot = gid.lastIndexOf('.');
    return dot > 0 ? gid.substring(0, dot) : null;
  }

  /**
   * The status an LRA reports in Narayana's API: {@code Active}, {@code Closing}, {@code Closed},
   * {@code Cancelling}, {@code Cancelled}, {@code FailedToClose}, {@code FailedToCancel}.
   */
  public static String lraStatus(Transaction tx) {
    return switch (tx.status()) {
      case BEGUN -> "Active";
      case PREPARED ->
          allEnded(tx, Op.COMPLETE)
              ? anyFailed(tx, Op.COMPLETE) ? FAILED_TO_CLOSE : CLOSED
              : "Closing";
      case COMMITTING -> "Closing";
      case ABORTING -> "Cancelling";
      case COMMITTED -> anyFailed(tx, Op.COMPLETE) ? FAILED_TO_CLOSE : CLOSED;
      case ABORTED -> anyFailed(tx, Op.COMPENSATE) ? FAILED_TO_CANCEL : CANCELLED;
    };
  }

  /** The final status the after callbacks carry, once the main phase is over. */
  static String finalStatus(Transaction tx) {
    return tx.status() == ABORTING || tx.status() == ABORTED
        ? anyFailed(tx, Op.COMPENSATE) ? FAILED_TO_CANCEL : CANCELLED
        : anyFailed(tx, Op.COMPLETE) ? FAILED_TO_CLOSE : CLOSED;
  }

  private static boolean anyFailed(Transaction tx, Op op) {
    for (Branch branch : tx.branches()) {
      if (branch.op(op).status() == OpStatus.FAILED) {
        return true;
      }
    }
    return false;
  }

  static boolean allEnded(Transaction tx, Op op) {
    for (Branch branch : tx.branches()) {
      if (!branch.op(op).status().isDone()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public Decision start(TransactionSpec spec, Instant now, Instant deadline, RetryPolicy policy) {
    Transaction initial =
        new Transaction(
            spec.gid(),
            Mode.LRA,
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
        return LraMembers.join(draft, registered.branch(), limits);
      }
      case Event.BranchLeft left -> {
        return LraMembers.leave(draft, left.branchId());
      }
      case Event.Redrive r -> {
        return draft.reject(Draft.NO_DELIVERIES);
      }
      case Event.KeyTurn t -> {
        return draft.reject(Draft.NO_DELIVERIES);
      }
      case Event.CommitRequested close -> {
        if (status == COMMITTING || status == COMMITTED) {
          return draft.finish();
        }
        if (status == BEGUN && isNested(state.gid().value())) {
          // A nested LRA's close is provisional: its parent decides.
          draft.change(draft.state().withDeadline(NO_DEADLINE));
          draft.fire(NESTED_CLOSE_REQUESTED);
          LraPhases.advance(draft);
          return draft.finish();
        }
        if (status != BEGUN && status != PREPARED) {
          return draft.reject("cannot close: the LRA is " + lraStatus(state));
        }
        if (status == PREPARED) {
          LraPhases.markProvisional(draft);
        }
        draft.fire(COMMIT_REQUESTED);
        LraPhases.advance(draft);
      }
      case Event.AbortRequested cancel -> {
        if (status == ABORTING || status == ABORTED) {
          return draft.finish();
        }
        if (status != BEGUN && status != PREPARED) {
          return draft.reject("cannot cancel: the LRA is " + lraStatus(state));
        }
        draft.fire(ABORT_REQUESTED);
        draft.abandon(draft.slots(Op.COMPLETE)); // a provisional completion cut off by the parent
        LraPhases.advance(draft);
      }
      case Event.OpCompleted done -> {
        if (status.isFinal()) {
          return draft.finish();
        }
        LraAnswers.onAnswer(draft, done);
      }
      case Event.Tick tick -> {
        if (status == BEGUN) {
          if (!now.isBefore(state.deadline())) {
            draft.fire(TIMEOUT);
            LraPhases.advance(draft);
          }
        } else if (!status.isFinal()) {
          LraPhases.onDue(draft);
          LraPhases.advance(draft);
        }
      }
      case Event.Recovered recovered -> {
        if (status == BEGUN) {
          draft.fire(RECOVERED);
        } else if (!status.isFinal()) {
          draft.fire(RECOVERED);
          LraPhases.resendActive(draft);
          LraPhases.advance(draft);
        }
      }
      case Event.RetryNow retry -> {
        if (!status.isFinal() && status != BEGUN) {
          draft.fire(OPERATOR_RETRY);
          LraPhases.resendActive(draft);
          LraPhases.advance(draft);
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
}
