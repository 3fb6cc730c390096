package dev.pledge.core.tcc;

import static dev.pledge.core.Op.CANCEL;
import static dev.pledge.core.Op.CONFIRM;
import static dev.pledge.core.Op.TRY;
import static dev.pledge.core.OpStatus.IDLE;
import static dev.pledge.core.OpStatus.IN_FLIGHT;
import static dev.pledge.core.OpStatus.SUCCEEDED;
import static dev.pledge.core.OpStatus.WAITING;
import static dev.pledge.core.Status.ABORTED;
import static dev.pledge.core.Status.ABORTING;
import static dev.pledge.core.Status.BEGUN;
import static dev.pledge.core.Status.COMMITTED;
import static dev.pledge.core.Status.COMMITTING;
import static dev.pledge.core.engine.Specs.T0;
import static dev.pledge.core.engine.Specs.gid;
import static dev.pledge.core.engine.Specs.tcc;
import static dev.pledge.core.engine.Specs.tccBranch;
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
import static java.time.Duration.ofMillis;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.BranchSpec;
import dev.pledge.core.Limits;
import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Driver;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Specs;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The tcc decider, one behaviour per test. Branches are named {@code b1, b2, …}. */
public class TccDeciderTest {
  private static final Outcome UNKNOWN = new Outcome.Unknown("connection reset");

  /** Begins a tcc transaction and registers {@code branchIds}, as the initiator would. */
  private static Driver begin(dev.pledge.core.Gid gid, String... branchIds) {
    Driver run = Driver.start(tcc(gid));
    for (String branchId : branchIds) {
      run.advance(ofMillis(5)).on(new Event.BranchRegistered(tccBranch(branchId)));
    }
    return run;
  }

  @Test
  public void begin_waitsForBranches_andCallsNothing() {
    Driver run = Driver.start(tcc(gid()));
    assertThat(run.last().fired()).containsExactly(run.row(null, STARTED));
    assertThat(run.last().effects()).isEmpty();
    assertThat(run.status()).isEqualTo(BEGUN);
    assertThat(run.tx().branches()).isEmpty();
    assertThat(run.tx().wakeAt()).isEqualTo(T0.plusSeconds(60));
  }

  @Test
  public void registeredBranch_isRecordedAndNotCalled() {
    Driver run = Driver.start(tcc(gid()));
    Decision d = run.on(new Event.BranchRegistered(tccBranch("b1")));
    assertThat(d.fired()).containsExactly(run.row(BEGUN, BRANCH_REGISTERED));
    assertThat(d.effects()).isEmpty(); // the initiator calls try itself
    assertThat(run.tx().version()).isEqualTo(2);
    assertThat(run.statuses(TRY)).containsExactly(IDLE);
    assertThat(run.statuses(CONFIRM)).containsExactly(IDLE);
    assertThat(run.statuses(CANCEL)).containsExactly(IDLE);
  }

  @Test
  public void commit_confirmsEveryBranch() {
    Driver run = begin(gid(), "b1", "b2");
    Decision d = run.on(new Event.CommitRequested());
    assertThat(d.fired()).containsExactly(run.row(BEGUN, COMMIT_REQUESTED));
    assertThat(d.effects()).containsExactly(run.call("b1", CONFIRM, 1), run.call("b2", CONFIRM, 1));
    assertThat(run.status()).isEqualTo(COMMITTING);
    assertThat(run.statuses(CONFIRM)).containsExactly(IN_FLIGHT, IN_FLIGHT);
    assertThat(run.statuses(CANCEL)).containsExactly(IDLE, IDLE);

    d = run.succeed("b2", CONFIRM);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_SUCCEEDED));
    assertThat(d.effects()).isEmpty();
    d = run.succeed("b1", CONFIRM);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, ALL_SUCCEEDED));
    assertThat(run.status()).isEqualTo(COMMITTED);
    assertThat(run.statuses(CONFIRM)).containsExactly(SUCCEEDED, SUCCEEDED);
    assertThat(run.statuses(CANCEL)).containsExactly(IDLE, IDLE);
    assertThat(run.statuses(TRY)).containsExactly(IDLE, IDLE);
  }

  @Test
  public void abort_cancelsEveryRegisteredBranch() {
    Driver run = begin(gid(), "b1", "b2");
    Decision d = run.on(new Event.AbortRequested());
    assertThat(d.fired()).containsExactly(run.row(BEGUN, ABORT_REQUESTED));
    assertThat(d.effects()).containsExactly(run.call("b1", CANCEL, 1), run.call("b2", CANCEL, 1));
    assertThat(run.status()).isEqualTo(ABORTING);

    d = run.succeed("b1", CANCEL);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, OP_SUCCEEDED));
    d = run.succeed("b2", CANCEL);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, ALL_SUCCEEDED));
    assertThat(run.status()).isEqualTo(ABORTED);
    assertThat(run.statuses(CANCEL)).containsExactly(SUCCEEDED, SUCCEEDED);
    assertThat(run.statuses(CONFIRM)).containsExactly(IDLE, IDLE);
  }

  @Test
  public void cancelOvertakingTry_isStillSent() {
    // The initiator registered b1 and b2 and called their tries; neither has answered it when the
    // timeout passes. The coordinator does not know how the tries went, so it cancels both: a
    // cancel
    // that arrives before its try is a null compensation, and the try that arrives after it is
    // blocked; both are the barrier's job.
    Driver run = begin(gid(), "b1", "b2");
    Decision d = run.at(T0.plusSeconds(60)).tick();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, TIMEOUT));
    assertThat(d.effects()).containsExactly(run.call("b1", CANCEL, 1), run.call("b2", CANCEL, 1));
    assertThat(run.statuses(CANCEL)).containsExactly(IN_FLIGHT, IN_FLIGHT);
  }

  @Test
  public void tccTimeout_cancelsEveryBranch_onlyOnceTheDeadlineIsReached() {
    Driver run = begin(gid(), "b1");
    Decision d = run.at(T0.plusSeconds(60).minusMillis(1)).tick();
    assertThat(d.fired()).isEmpty();
    assertThat(d.changes(run.tx())).isFalse();
    d = run.at(T0.plusSeconds(60)).tick();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, TIMEOUT));
    assertThat(d.effects()).containsExactly(run.call("b1", CANCEL, 1));
  }

  @Test
  public void recoveredUndecidedTcc_presumesAbort() {
    Driver run = begin(gid(), "b1", "b2");
    Decision d = run.on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(BEGUN, RECOVERED));
    assertThat(d.effects()).containsExactly(run.call("b1", CANCEL, 1), run.call("b2", CANCEL, 1));
    assertThat(run.status()).isEqualTo(ABORTING);
  }

  @Test
  public void commitWithNoBranch_commitsAtOnce() {
    Driver run = Driver.start(tcc(gid()));
    Decision d = run.on(new Event.CommitRequested());
    assertThat(d.fired())
        .containsExactly(run.row(BEGUN, COMMIT_REQUESTED), run.row(COMMITTING, ALL_SUCCEEDED));
    assertThat(d.effects()).isEmpty();
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void timeoutWithNoBranch_abortsAtOnce() {
    Driver run = Driver.start(tcc(gid()));
    Decision d = run.at(T0.plusSeconds(60)).tick();
    assertThat(d.fired())
        .containsExactly(run.row(BEGUN, TIMEOUT), run.row(ABORTING, ALL_SUCCEEDED));
    assertThat(run.status()).isEqualTo(ABORTED);
  }

  @Test
  public void tccCommitAfterAbort_isRejected() {
    Driver run = begin(gid(), "b1");
    run.on(new Event.AbortRequested());
    Decision d = run.on(new Event.CommitRequested());
    assertThat(d.rejection()).isEqualTo("cannot commit: the transaction is aborting");
    run.succeed("b1", CANCEL);
    d = run.on(new Event.CommitRequested());
    assertThat(d.rejection()).isEqualTo("cannot commit: the transaction is aborted");
    assertThat(run.status()).isEqualTo(ABORTED);
  }

  @Test
  public void tccAbortAfterCommit_isRejected() {
    Driver run = begin(gid(), "b1");
    run.on(new Event.CommitRequested());
    assertThat(run.on(new Event.AbortRequested()).rejection())
        .isEqualTo("cannot abort: the transaction is committing");
    run.succeed("b1", CONFIRM);
    assertThat(run.on(new Event.AbortRequested()).rejection())
        .isEqualTo("cannot abort: the transaction is committed");
  }

  @Test
  public void timeoutAfterCommitDecision_changesNothing() {
    Driver run = begin(gid(), "b1");
    run.on(new Event.CommitRequested());
    run.answer("b1", CONFIRM, UNKNOWN);
    // Past the deadline, a logged commit stays a commit: the tick only retries the confirm.
    Decision d = run.at(T0.plusSeconds(120)).tick();
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("b1", CONFIRM, 2));
    assertThat(run.status()).isEqualTo(COMMITTING);
  }

  @Test
  public void repeatedCommitOrAbort_isIdempotent() {
    Driver run = begin(gid(), "b1");
    run.on(new Event.CommitRequested());
    var committing = run.tx();
    Decision d = run.on(new Event.CommitRequested());
    assertThat(d.isRejected()).isFalse();
    assertThat(d.fired()).isEmpty();
    assertThat(d.effects()).isEmpty();
    assertThat(d.next()).isSameAs(committing);

    Driver other = begin(Specs.gid(), "b1");
    other.on(new Event.AbortRequested());
    d = other.on(new Event.AbortRequested());
    assertThat(d.isRejected()).isFalse();
    assertThat(d.effects()).isEmpty();
    assertThat(d.changes(other.tx())).isFalse();
  }

  @Test
  public void registeringTheSameBranchTwice_isIdempotent_anotherBodyIsRejected() {
    Driver run = begin(gid(), "b1");
    var state = run.tx();
    Decision d = run.on(new Event.BranchRegistered(tccBranch("b1")));
    assertThat(d.isRejected()).isFalse();
    assertThat(d.fired()).isEmpty();
    assertThat(d.next()).isSameAs(state);

    BranchSpec other = new BranchSpec("b1", tccBranch("b1").urls(), "{\"other\":true}", List.of());
    d = run.on(new Event.BranchRegistered(other));
    assertThat(d.rejection()).isEqualTo("branch b1 is already registered with another body");
  }

  @Test
  public void registeringAfterTheDecision_isRejected() {
    Driver run = begin(gid(), "b1");
    run.on(new Event.CommitRequested());
    Decision d = run.on(new Event.BranchRegistered(tccBranch("b2")));
    assertThat(d.rejection()).isEqualTo("cannot register a branch: the transaction is committing");
    // The branch registered before the decision may still be registered again (a retried request).
    assertThat(run.on(new Event.BranchRegistered(tccBranch("b1"))).isRejected()).isFalse();
  }

  @Test
  public void registeringAnInvalidBranch_namesEveryBadField() {
    Driver run = Driver.start(tcc(gid()));
    BranchSpec bad =
        new BranchSpec(
            "b 1",
            Map.of(
                TRY,
                "http://localhost:9000/b1/try",
                CONFIRM,
                "ftp://localhost/b1/confirm",
                Op.ACTION,
                "http://localhost:9000/b1/action"),
            null,
            List.of("b0"));
    Decision d = run.on(new Event.BranchRegistered(bad));
    assertThat(d.rejection())
        .isEqualTo(
            "[branch.branchId: must match [A-Za-z0-9._:-]{1,64}, "
                + "branch.confirm: must be an http:// or https:// URL, "
                + "branch.cancel: required for a tcc branch, "
                + "branch.action: not an op of a tcc branch, "
                + "branch.after: only saga steps have after]");
    assertThat(run.tx().branches()).isEmpty();
  }

  @Test
  public void registeringBeyondTheBranchLimit_isRejected() {
    Driver run = Driver.start(tcc(gid()));
    int max = Limits.DEFAULT.maxBranches();
    for (int i = 1; i <= max; i++) {
      assertThat(run.on(new Event.BranchRegistered(tccBranch("b" + i))).isRejected()).isFalse();
    }
    Decision d = run.on(new Event.BranchRegistered(tccBranch("b" + (max + 1))));
    assertThat(d.rejection()).isEqualTo("[branch: the transaction already has 64 branches]");
    assertThat(run.tx().branches()).hasSize(max);
  }

  @Test
  public void answerWhileUndecided_isIgnored() {
    Driver run = begin(gid(), "b1");
    // The initiator calls try itself: no answer to the coordinator belongs to a call in begun.
    Decision d = run.answer("b1", TRY, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(d.changes(run.tx())).isFalse();
    assertThat(run.statuses(TRY)).containsExactly(IDLE);
  }

  @Test
  public void confirmSayingNo_isRetriedNeverTakenAsFailed() {
    Driver run = begin(gid(), "b1");
    run.on(new Event.CommitRequested());
    Decision d = run.answer("b1", CONFIRM, new Outcome.Failed("insufficient funds"));
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_RETRY));
    assertThat(d.effects()).isEmpty();
    assertThat(run.statuses(CONFIRM)).containsExactly(WAITING);
    assertThat(run.progress("b1", CONFIRM).lastError()).isEqualTo("failed: insufficient funds");
    assertThat(run.status()).isEqualTo(COMMITTING);

    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("b1", CONFIRM, 2));
    run.succeed("b1", CONFIRM);
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void confirm_flagsOperatorAfterBound_andKeepsRetrying() {
    Driver run = begin(gid(), "b1");
    run.on(new Event.CommitRequested());
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    for (int attempt = 1; attempt < bound; attempt++) {
      run.answer("b1", CONFIRM, UNKNOWN);
      run.tickWhenDue();
    }
    Decision d = run.answer("b1", CONFIRM, UNKNOWN);
    assertThat(d.fired())
        .containsExactly(run.row(COMMITTING, OP_RETRY), run.row(COMMITTING, RETRY_BOUND_REACHED));
    assertThat(run.tx().flag())
        .isEqualTo("b1/confirm has failed 10 attempts: unknown: connection reset");
    d = run.tickWhenDue();
    assertThat(d.effects()).containsExactly(run.call("b1", CONFIRM, bound + 1));
    run.succeed("b1", CONFIRM);
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void cancel_isRetriedWithoutEnd_andFlaggedAfterBound() {
    Driver run = begin(gid(), "b1", "b2");
    run.on(new Event.AbortRequested());
    run.succeed("b2", CANCEL);
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    for (int attempt = 1; attempt < bound; attempt++) {
      Decision d = run.answer("b1", CANCEL, Outcome.PENDING);
      assertThat(d.fired()).containsExactly(run.row(ABORTING, OP_RETRY));
      d = run.tickWhenDue();
      assertThat(d.fired()).containsExactly(run.row(ABORTING, RETRY_DUE));
      assertThat(d.effects()).containsExactly(run.call("b1", CANCEL, attempt + 1));
    }
    Decision d = run.answer("b1", CANCEL, Outcome.PENDING);
    assertThat(d.fired())
        .containsExactly(run.row(ABORTING, OP_RETRY), run.row(ABORTING, RETRY_BOUND_REACHED));
    assertThat(run.tx().flag()).isEqualTo("b1/cancel has failed 10 attempts: pending");
    assertThat(run.statuses(CANCEL)).containsExactly(WAITING, SUCCEEDED);
  }

  @Test
  public void hangingCancel_isBackedOff_andFlaggedAfterBound() {
    Driver run = begin(gid(), "b1");
    run.on(new Event.AbortRequested());
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    // No cancel is ever answered: each attempt is overdue at the call timeout, then backed off.
    for (int attempt = 1; attempt < bound; attempt++) {
      Decision d = run.tickWhenDue();
      assertThat(d.fired()).containsExactly(run.row(ABORTING, OP_RETRY));
      assertThat(d.effects()).isEmpty();
      assertThat(run.statuses(CANCEL)).containsExactly(WAITING);
      d = run.tickWhenDue();
      assertThat(d.fired()).containsExactly(run.row(ABORTING, RETRY_DUE));
      assertThat(d.effects()).containsExactly(run.call("b1", CANCEL, attempt + 1));
    }
    assertThat(run.tx().flag()).isNull();
    Decision d = run.tickWhenDue();
    assertThat(d.fired())
        .containsExactly(run.row(ABORTING, OP_RETRY), run.row(ABORTING, RETRY_BOUND_REACHED));
    assertThat(d.effects()).isEmpty();
    assertThat(run.tx().flag())
        .isEqualTo("b1/cancel has failed 10 attempts: no answer within PT10S");
    d = run.tickWhenDue();
    assertThat(d.effects()).containsExactly(run.call("b1", CANCEL, bound + 1));
    run.succeed("b1", CANCEL);
    assertThat(run.status()).isEqualTo(ABORTED);
  }

  @Test
  public void duplicateAnswer_isIgnored() {
    Driver run = begin(gid(), "b1", "b2");
    run.on(new Event.CommitRequested());
    run.succeed("b1", CONFIRM);
    Decision d = run.answer("b1", CONFIRM, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, STALE_ANSWER));
    assertThat(d.changes(run.tx())).isFalse();
    // An answer for the other phase's op, or a branch that does not exist, is as stale.
    assertThat(run.answer("b2", CANCEL, 1, Outcome.SUCCEEDED).fired())
        .containsExactly(run.row(COMMITTING, STALE_ANSWER));
    assertThat(run.answer("b9", CONFIRM, 1, Outcome.SUCCEEDED).fired())
        .containsExactly(run.row(COMMITTING, STALE_ANSWER));
    assertThat(run.statuses(CONFIRM)).containsExactly(SUCCEEDED, IN_FLIGHT);
  }

  @Test
  public void duplicateCancelAnswer_isIgnored() {
    Driver run = begin(gid(), "b1", "b2");
    run.on(new Event.AbortRequested());
    run.answer("b1", CANCEL, UNKNOWN);
    Decision d = run.answer("b1", CANCEL, 1, UNKNOWN);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, STALE_ANSWER));
    assertThat(run.statuses(CANCEL)).containsExactly(WAITING, IN_FLIGHT);
  }

  @Test
  public void lateDefinitiveAnswerToEarlierAttempt_isAccepted() {
    Driver run = begin(gid(), "b1");
    run.on(new Event.CommitRequested());
    // The confirm's answer is overdue: it counts as unknown and waits out the backoff.
    Decision d = run.advance(ofSeconds(10)).tick();
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_RETRY));
    assertThat(d.effects()).isEmpty();
    assertThat(run.statuses(CONFIRM)).containsExactly(WAITING);
    assertThat(run.progress("b1", CONFIRM).lastError()).isEqualTo("no answer within PT10S");
    assertThat(run.progress("b1", CONFIRM).dueAt())
        .isBetween(run.now().plusMillis(160), run.now().plusMillis(200));
    d = run.tickWhenDue(); // attempt 2 goes out, attempt 1 still unanswered
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("b1", CONFIRM, 2));
    d = run.answer("b1", CONFIRM, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, ALL_SUCCEEDED));
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void recoveredCommittingTcc_resendsUnacknowledgedConfirms() {
    Driver run = begin(gid(), "b1", "b2");
    run.on(new Event.CommitRequested());
    run.succeed("b1", CONFIRM);
    Decision d = run.advance(ofSeconds(1)).on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, RECOVERED));
    assertThat(d.effects()).containsExactly(run.call("b2", CONFIRM, 2));
    assertThat(run.statuses(CONFIRM)).containsExactly(SUCCEEDED, IN_FLIGHT);
  }

  @Test
  public void recoveredAbortingTcc_resendsUnacknowledgedCancels() {
    Driver run = begin(gid(), "b1", "b2");
    run.on(new Event.AbortRequested());
    run.answer("b2", CANCEL, UNKNOWN);
    Decision d = run.on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(ABORTING, RECOVERED));
    assertThat(d.effects()).containsExactly(run.call("b1", CANCEL, 2), run.call("b2", CANCEL, 2));
  }

  @Test
  public void operatorRetry_sendsWaitingConfirmsOrCancelsNow() {
    Driver run = begin(gid(), "b1");
    run.on(new Event.CommitRequested());
    run.answer("b1", CONFIRM, UNKNOWN);
    Decision d = run.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, OPERATOR_RETRY));
    assertThat(d.effects()).containsExactly(run.call("b1", CONFIRM, 2));

    Driver other = begin(Specs.gid(), "b1");
    other.on(new Event.AbortRequested());
    other.answer("b1", CANCEL, UNKNOWN);
    d = other.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(other.row(ABORTING, OPERATOR_RETRY));
    assertThat(d.effects()).containsExactly(other.call("b1", CANCEL, 2));
  }

  @Test
  public void operatorRetryOrRecoveryOfAFinishedTcc_doesNothing() {
    Driver run = begin(gid(), "b1");
    run.on(new Event.CommitRequested());
    run.succeed("b1", CONFIRM);
    var committed = run.tx();
    for (Event event :
        new Event[] {
          new Event.Tick(),
          new Event.Recovered(),
          new Event.RetryNow(),
          new Event.OpCompleted("b1", CONFIRM, 1, Outcome.SUCCEEDED),
          new Event.CheckCompleted(1, Outcome.SUCCEEDED),
        }) {
      Decision d = run.advance(ofSeconds(100)).on(event);
      assertThat(d.fired()).isEmpty();
      assertThat(d.next()).isSameAs(committed);
    }
  }
}
