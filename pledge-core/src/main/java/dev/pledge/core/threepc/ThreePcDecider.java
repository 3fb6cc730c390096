package dev.pledge.core.threepc;

import static dev.pledge.core.Status.ABORTED;
import static dev.pledge.core.Status.ABORTING;
import static dev.pledge.core.Status.BEGUN;
import static dev.pledge.core.Status.COMMITTED;
import static dev.pledge.core.Status.COMMITTING;
import static dev.pledge.core.Status.PREPARED;
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
import dev.pledge.core.Outcome;
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
 * Three-phase commit, driven by the coordinator, with participants that time out on their own.
 *
 * <p>The rounds: {@code can-commit} to every branch (a vote; a yes means the participant did its
 * work tentatively and can still go either way); once every branch voted yes, the coordinator logs
 * {@code prepared} (the pre-commit decision) and sends {@code pre-commit} to every branch; once
 * every branch acknowledged it, {@code committing} and {@code do-commit} to every branch until each
 * acknowledges. Any no, the timeout, or a recovering coordinator before the pre-commit decision:
 * {@code aborting}, and {@code abort} to every branch.
 *
 * <p>The participant's side, which is what makes 3pc non-blocking: a participant that voted yes and
 * then hears nothing aborts by itself after its own timeout; one that is pre-committed and hears
 * nothing commits by itself after its own timeout. Neither waits for a crashed coordinator.
 *
 * <p><b>Why the coordinator commits on a timeout or a recovery in {@code prepared}.</b> The
 * coordinator sends {@code pre-commit} only after {@code prepared} is in the log, and {@code
 * prepared} is logged only once every branch voted yes. So in {@code begun} no participant can be
 * pre-committed, and aborting is safe: every participant has either not voted, voted no, or voted
 * yes and will abort by itself anyway. In {@code prepared}, some participants may already be
 * pre-committed, and a pre-committed participant commits by itself when its timeout passes, with or
 * without the coordinator. Aborting there could contradict a branch that already committed on its
 * own; committing contradicts nobody, because every branch voted yes. So once {@code prepared} is
 * logged, the only outcome the coordinator may reach is commit: a recovering coordinator, or one
 * whose deadline passes while pre-commits are still unacknowledged, moves to {@code committing} and
 * sends {@code do-commit} to every branch (a participant that only voted yes commits on {@code
 * do-commit} as on a pre-commit followed by a commit). {@code prepared} is undecided only in the
 * sense that nothing has committed yet: the table has no row from it towards abort, and a test
 * holds it to that.
 *
 * <p><b>What this relies on.</b> A participant that voted yes must hear {@code pre-commit} (or
 * {@code do-commit}) before its own abort timeout passes; otherwise it aborts while the others
 * commit. That needs a bound on message delay, on lost messages in a row and on the coordinator's
 * downtime, all shorter than the participants' timeouts: a synchronous network. A network partition
 * breaks it, and then 3pc ends in a mixed outcome that no coordinator can prevent. That is why 3pc
 * is documented as unsafe under partitions and why 2pc and xa, which block instead, are the
 * default. A participant that answers {@code pre-commit} or {@code do-commit} with a {@code 409}
 * says it already aborted by itself: the coordinator records that heuristic outcome as the
 * transaction's flag at once, never hides it, and keeps asking (an operator settles it).
 */
public final class ThreePcDecider implements Decider {
  public static final TransitionTable TABLE =
      TransitionTable.of(Mode.THREE_PC)
          .row(null, STARTED, BEGUN, "send can-commit to every branch in parallel")
          .row(BEGUN, OP_SUCCEEDED, BEGUN, "record the yes vote; wait for the other votes")
          .row(
              BEGUN,
              ALL_SUCCEEDED,
              PREPARED,
              "log the pre-commit decision (every branch voted yes), then send pre-commit to every"
                  + " branch")
          .row(
              BEGUN, OP_FAILED, ABORTING, "log the abort decision, then send abort to every branch")
          .row(
              BEGUN,
              TIMEOUT,
              ABORTING,
              "presumed abort: send abort to every branch (none can be pre-committed yet)")
          .row(
              BEGUN,
              RECOVERED,
              ABORTING,
              "presumed abort: no pre-commit was ever sent, so abort is safe; send abort to every"
                  + " branch")
          .row(
              BEGUN,
              OP_RETRY,
              BEGUN,
              "unknown, pending or unanswered can-commit: ask again after a capped, jittered backoff")
          .row(BEGUN, RETRY_DUE, BEGUN, "send can-commit again: its backoff passed")
          .row(BEGUN, STALE_ANSWER, BEGUN, "ignore a duplicate or late answer")
          .row(BEGUN, OPERATOR_RETRY, BEGUN, "send every waiting can-commit now")
          .row(
              PREPARED,
              OP_SUCCEEDED,
              PREPARED,
              "record the pre-commit acknowledgement; wait for the others")
          .row(
              PREPARED,
              ALL_SUCCEEDED,
              COMMITTING,
              "log the commit, then send do-commit to every branch")
          .row(
              PREPARED,
              OP_RETRY,
              PREPARED,
              "unknown or unanswered pre-commit: send it again after a capped, jittered backoff")
          .row(
              PREPARED,
              OP_FAILED,
              PREPARED,
              "heuristic: the branch aborted by itself before its pre-commit arrived; flag the"
                  + " transaction at once and keep asking")
          .row(PREPARED, RETRY_DUE, PREPARED, "send pre-commit again")
          .row(
              PREPARED,
              RETRY_BOUND_REACHED,
              PREPARED,
              "flag for an operator; keep retrying at the cap")
          .row(PREPARED, STALE_ANSWER, PREPARED, "ignore a duplicate or late answer")
          .row(
              PREPARED,
              TIMEOUT,
              COMMITTING,
              "every branch voted yes and some may be pre-committed: commit, send do-commit to"
                  + " every branch; unacknowledged pre-commits are abandoned")
          .row(
              PREPARED,
              RECOVERED,
              COMMITTING,
              "the pre-commit decision is logged, so the only safe outcome is commit: send do-commit"
                  + " to every branch")
          .row(PREPARED, OPERATOR_RETRY, PREPARED, "send every waiting pre-commit now")
          .row(COMMITTING, OP_SUCCEEDED, COMMITTING, "record the commit; wait for the others")
          .row(COMMITTING, ALL_SUCCEEDED, COMMITTED, "none: every branch committed")
          .row(
              COMMITTING,
              OP_RETRY,
              COMMITTING,
              "unknown or unanswered: send do-commit again after a capped, jittered backoff,"
                  + " without end")
          .row(
              COMMITTING,
              OP_FAILED,
              COMMITTING,
              "heuristic: the branch aborted by itself; flag the transaction at once and keep"
                  + " asking")
          .row(COMMITTING, RETRY_DUE, COMMITTING, "send do-commit again")
          .row(
              COMMITTING,
              RETRY_BOUND_REACHED,
              COMMITTING,
              "flag for an operator; keep retrying at the cap")
          .row(COMMITTING, STALE_ANSWER, COMMITTING, "ignore a duplicate or late answer")
          .row(COMMITTING, RECOVERED, COMMITTING, "re-send every do-commit not yet acknowledged")
          .row(COMMITTING, OPERATOR_RETRY, COMMITTING, "send every waiting do-commit now")
          .row(ABORTING, OP_SUCCEEDED, ABORTING, "record the abort; wait for the others")
          .row(ABORTING, ALL_SUCCEEDED, ABORTED, "none: every branch aborted")
          .row(
              ABORTING,
              OP_RETRY,
              ABORTING,
              "unknown or unanswered: send abort again after a capped, jittered backoff, without"
                  + " end")
          .row(ABORTING, RETRY_DUE, ABORTING, "send abort again")
          .row(
              ABORTING,
              RETRY_BOUND_REACHED,
              ABORTING,
              "flag for an operator; keep retrying at the cap")
          .row(
              ABORTING,
              STALE_ANSWER,
              ABORTING,
              "ignore a duplicate or late answer (a can-commit cut off by the abort)")
          .row(ABORTING, RECOVERED, ABORTING, "re-send every abort not yet acknowledged")
          .row(ABORTING, OPERATOR_RETRY, ABORTING, "send every waiting abort now")
          .build();

  /** How the flag of a heuristic outcome starts, so that a later one does not replace it. */
  public static final String HEURISTIC = "heuristic: ";

  private static final String DECIDES_ITSELF = "3pc decides by itself from the votes";

  @Override
  public TransitionTable table() {
    return TABLE;
  }

  @Override
  public Decision start(TransactionSpec spec, Instant now, Instant deadline, RetryPolicy policy) {
    List<Branch> branches = new ArrayList<>();
    for (BranchSpec branch : spec.branches()) {
      branches.add(Branch.of(branch, Mode.THREE_PC));
    }
    Transaction initial =
        new Transaction(
            spec.gid(),
            Mode.THREE_PC,
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
    for (Slot slot : draft.slots(Op.CAN_COMMIT)) {
      draft.send(slot);
    }
    return draft.finish();
  }

  @Override
  public Decision decide(Transaction state, Event event, Instant now, RetryPolicy policy) {
    Draft draft = new Draft(state, now, policy, TABLE);
    Status status = state.status();
    if (status.isFinal()) {
      return isRequest(event) ? draft.reject(DECIDES_ITSELF) : draft.finish();
    }
    switch (event) {
      case Event.OpCompleted done -> onAnswer(draft, done);
      case Event.Tick tick -> onTick(draft);
      case Event.Recovered recovered -> {
        switch (status) {
          case BEGUN -> abort(draft, RECOVERED);
          case PREPARED -> commit(draft, RECOVERED);
          case COMMITTING, ABORTING -> Phases.resendNow(draft, phaseOp(status), RECOVERED);
          case COMMITTED, ABORTED -> throw new IllegalStateException("final: " + status);
        }
      }
      case Event.RetryNow retry -> Phases.resendNow(draft, phaseOp(status), OPERATOR_RETRY);
      case Event.CheckCompleted c -> draft.fire(STALE_ANSWER);
      case Event.DeliveryCompleted d -> draft.fire(STALE_ANSWER);
      case Event.SubscribersResolved s -> draft.fire(STALE_ANSWER);
      case Event.CommitRequested c -> {
        return draft.reject(DECIDES_ITSELF);
      }
      case Event.AbortRequested a -> {
        return draft.reject(DECIDES_ITSELF);
      }
      case Event.BranchRegistered b -> {
        return draft.reject("3pc branches are given when the transaction starts");
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

  /** The op the coordinator sends in {@code status}. */
  private static Op phaseOp(Status status) {
    return switch (status) {
      case BEGUN -> Op.CAN_COMMIT;
      case PREPARED -> Op.PRE_COMMIT;
      case COMMITTING -> Op.DO_COMMIT;
      case ABORTING -> Op.ABORT;
      case COMMITTED, ABORTED ->
          throw new IllegalStateException("3pc has no phase in " + status.label());
    };
  }

  private static void onAnswer(Draft draft, Event.OpCompleted done) {
    Status status = draft.state().status();
    if (draft.state().branch(done.branchId()) == null || done.op() != phaseOp(status)) {
      draft.fire(STALE_ANSWER);
      return;
    }
    Slot.BranchOp slot = new Slot.BranchOp(done.branchId(), done.op());
    switch (status) {
      case BEGUN -> onVote(draft, slot, done);
      case PREPARED, COMMITTING -> onCommitRound(draft, slot, done);
      case ABORTING -> Phases.onFinishingAnswer(draft, slot, done.attempt(), done.outcome());
      case COMMITTED, ABORTED -> throw new IllegalStateException("final: " + status);
    }
  }

  private static void onVote(Draft draft, Slot.BranchOp slot, Event.OpCompleted done) {
    switch (draft.classify(slot, done.attempt(), done.outcome())) {
      case STALE -> draft.fire(STALE_ANSWER);
      case SUCCEEDED -> {
        draft.set(slot, draft.progress(slot).succeeded());
        if (Phases.allSucceeded(draft, Op.CAN_COMMIT)) {
          draft.fire(ALL_SUCCEEDED);
          sendAll(draft, Op.PRE_COMMIT);
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

  /**
   * An answer to pre-commit or do-commit. Both must finish; a {@code 409} from either is the
   * participant saying it already aborted by itself: a heuristic outcome, flagged at once.
   */
  private static void onCommitRound(Draft draft, Slot.BranchOp slot, Event.OpCompleted done) {
    Draft.Answer answer = draft.classify(slot, done.attempt(), done.outcome());
    if (answer == Draft.Answer.STALE) {
      draft.fire(STALE_ANSWER);
      return;
    }
    if (done.outcome() instanceof Outcome.Failed failed) {
      draft.retryLater(slot, Draft.reason(failed), OP_FAILED);
      flagHeuristic(draft, slot, failed);
      return;
    }
    if (answer == Draft.Answer.SUCCEEDED) {
      draft.set(slot, draft.progress(slot).succeeded());
      if (!Phases.allSucceeded(draft, slot.op())) {
        draft.fire(OP_SUCCEEDED);
      } else if (slot.op() == Op.PRE_COMMIT) {
        draft.fire(ALL_SUCCEEDED);
        sendAll(draft, Op.DO_COMMIT);
      } else {
        draft.fire(ALL_SUCCEEDED);
      }
      return;
    }
    draft.retryLater(slot, Draft.reason(done.outcome()), OP_RETRY);
  }

  /**
   * Records a branch that decided by itself against the coordinator. A heuristic replaces any
   * earlier flag that is not one (a retry bound), so it is never hidden behind a lesser one.
   */
  private static void flagHeuristic(Draft draft, Slot.BranchOp slot, Outcome.Failed failed) {
    String flag = draft.state().flag();
    if (flag == null || !flag.startsWith(HEURISTIC)) {
      draft.change(
          draft
              .state()
              .withFlag(
                  HEURISTIC
                      + slot.branchId()
                      + " answered "
                      + slot.op().label()
                      + " with 409 ("
                      + failed.reason()
                      + "): it aborted by itself while the coordinator commits"));
    }
  }

  private static void onTick(Draft draft) {
    Status status = draft.state().status();
    boolean deadlinePassed = !draft.now().isBefore(draft.state().deadline());
    if (status == BEGUN && deadlinePassed) {
      abort(draft, TIMEOUT);
      return;
    }
    if (status == PREPARED && deadlinePassed) {
      commit(draft, TIMEOUT);
      return;
    }
    draft.onDue(draft.slots(phaseOp(status)), OP_RETRY);
  }

  /** Sends {@code op} to every branch. A 3pc transaction has at least one branch. */
  private static void sendAll(Draft draft, Op op) {
    for (Slot slot : draft.slots(op)) {
      draft.send(slot);
    }
  }

  private static void abort(Draft draft, Trigger trigger) {
    draft.fire(trigger);
    draft.abandon(draft.slots(Op.CAN_COMMIT));
    sendAll(draft, Op.ABORT);
  }

  /** From {@code prepared}: commit without waiting for the pre-commits still unacknowledged. */
  private static void commit(Draft draft, Trigger trigger) {
    draft.fire(trigger);
    draft.abandon(draft.slots(Op.PRE_COMMIT));
    sendAll(draft, Op.DO_COMMIT);
  }
}
