package dev.pledge.core.twopc;

import static dev.pledge.core.Op.COMMIT;
import static dev.pledge.core.Op.PREPARE;
import static dev.pledge.core.Op.ROLLBACK;
import static dev.pledge.core.OpStatus.ABANDONED;
import static dev.pledge.core.OpStatus.FAILED;
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
import static java.time.Duration.ofMillis;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.BranchSpec;
import dev.pledge.core.Gid;
import dev.pledge.core.Mode;
import dev.pledge.core.Outcome;
import dev.pledge.core.Progress;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Driver;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Specs;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The 2pc decider, one behaviour per test. Branches are named {@code b1, b2, …}. {@code
 * XaDeciderTest} runs every one of these again in mode xa, which shares 2pc's logic.
 */
public class TwoPcDeciderTest {
  private static final Outcome UNKNOWN = new Outcome.Unknown("HTTP 502");
  private static final Outcome NO = new Outcome.Failed("constraint violated");

  private final Mode mode = mode();

  /** The mode these scenarios run in; {@code XaDeciderTest} says xa. */
  Mode mode() {
    return Mode.TWO_PC;
  }

  /** A transaction of this test's mode with the given branches. */
  private TransactionSpec twoPc(Gid gid, String... branchIds) {
    List<BranchSpec> branches = new ArrayList<>();
    for (String branchId : branchIds) {
      branches.add(Specs.branch(mode, branchId));
    }
    return new TransactionSpec(gid, mode, null, branches, null, null);
  }

  @Test
  public void start_preparesEveryBranchInParallel() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2", "b3"));
    assertThat(run.last().fired()).containsExactly(run.row(null, STARTED));
    assertThat(run.last().effects())
        .containsExactly(
            run.call("b1", PREPARE, 1), run.call("b2", PREPARE, 1), run.call("b3", PREPARE, 1));
    assertThat(run.status()).isEqualTo(BEGUN);
    assertThat(run.statuses(PREPARE)).containsExactly(IN_FLIGHT, IN_FLIGHT, IN_FLIGHT);
    assertThat(run.statuses(COMMIT)).containsExactly(IDLE, IDLE, IDLE);
    assertThat(run.statuses(ROLLBACK)).containsExactly(IDLE, IDLE, IDLE);
  }

  @Test
  public void allPreparesSucceed_logsCommit_thenCommitsEveryBranch() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2", "b3"));
    Decision d = run.succeed("b2", PREPARE);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_SUCCEEDED));
    assertThat(d.effects()).isEmpty();
    run.succeed("b3", PREPARE);
    d = run.succeed("b1", PREPARE);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, ALL_SUCCEEDED));
    assertThat(d.effects())
        .containsExactly(
            run.call("b1", COMMIT, 1), run.call("b2", COMMIT, 1), run.call("b3", COMMIT, 1));
    // The decision is in the very state that the commits go out with: persist, then act.
    assertThat(d.next().status()).isEqualTo(COMMITTING);

    d = run.succeed("b1", COMMIT);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_SUCCEEDED));
    run.succeed("b2", COMMIT);
    d = run.succeed("b3", COMMIT);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, ALL_SUCCEEDED));
    assertThat(run.status()).isEqualTo(COMMITTED);
    assertThat(run.statuses(PREPARE)).containsExactly(SUCCEEDED, SUCCEEDED, SUCCEEDED);
    assertThat(run.statuses(COMMIT)).containsExactly(SUCCEEDED, SUCCEEDED, SUCCEEDED);
    assertThat(run.statuses(ROLLBACK)).containsExactly(IDLE, IDLE, IDLE);
  }

  @Test
  public void prepareFailure_rollsBackEveryBranch() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2", "b3"));
    run.succeed("b1", PREPARE);
    Decision d = run.answer("b2", PREPARE, NO);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_FAILED));
    assertThat(d.effects())
        .containsExactly(
            run.call("b1", ROLLBACK, 1), run.call("b2", ROLLBACK, 1), run.call("b3", ROLLBACK, 1));
    assertThat(run.status()).isEqualTo(ABORTING);
    assertThat(run.statuses(PREPARE)).containsExactly(SUCCEEDED, FAILED, ABANDONED);
    assertThat(run.statuses(ROLLBACK)).containsExactly(IN_FLIGHT, IN_FLIGHT, IN_FLIGHT);

    d = run.succeed("b3", ROLLBACK);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, OP_SUCCEEDED));
    run.succeed("b1", ROLLBACK);
    d = run.succeed("b2", ROLLBACK);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, ALL_SUCCEEDED));
    assertThat(run.status()).isEqualTo(ABORTED);
    assertThat(run.statuses(ROLLBACK)).containsExactly(SUCCEEDED, SUCCEEDED, SUCCEEDED);
    assertThat(run.statuses(COMMIT)).containsExactly(IDLE, IDLE, IDLE);
  }

  @Test
  public void prepareTimeout_abortsEveryBranch() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2"));
    run.succeed("b1", PREPARE);
    run.answer("b2", PREPARE, UNKNOWN);
    Decision d = run.at(T0.plusSeconds(60)).tick();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, TIMEOUT));
    assertThat(d.effects())
        .containsExactly(run.call("b1", ROLLBACK, 1), run.call("b2", ROLLBACK, 1));
    assertThat(run.statuses(PREPARE)).containsExactly(SUCCEEDED, ABANDONED);
  }

  @Test
  public void unknownAnswer_isRetriedNeverTakenAsFailed() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2"));
    Decision d = run.advance(ofMillis(50)).answer("b1", PREPARE, UNKNOWN);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_RETRY));
    assertThat(d.effects()).isEmpty();
    assertThat(run.status()).isEqualTo(BEGUN);
    assertThat(run.statuses(PREPARE)).containsExactly(WAITING, IN_FLIGHT);
    Progress waiting = run.progress("b1", PREPARE);
    assertThat(waiting.dueAt()).isBetween(run.now().plusMillis(160), run.now().plusMillis(200));
    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("b1", PREPARE, 2));
  }

  @Test
  public void lateDefinitiveAnswerToEarlierAttempt_isAccepted() {
    Driver run = Driver.start(twoPc(gid(), "b1"));
    sendSecondPrepareAfterAnOverdueFirst(run);
    Decision d = run.answer("b1", PREPARE, 1, NO);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_FAILED));
    assertThat(d.effects()).containsExactly(run.call("b1", ROLLBACK, 1));
  }

  @Test
  public void duplicateAnswer_isIgnored() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2"));
    run.succeed("b1", PREPARE);
    Decision d = run.answer("b1", PREPARE, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(d.changes(run.tx())).isFalse();
    // So is an answer for an op of another phase, or of no branch at all.
    assertThat(run.answer("b2", COMMIT, 1, Outcome.SUCCEEDED).fired())
        .containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(run.answer("b9", PREPARE, 1, Outcome.SUCCEEDED).fired())
        .containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(run.on(new Event.DeliveryCompleted("m", "s", 1, Outcome.SUCCEEDED)).fired())
        .containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(run.statuses(PREPARE)).containsExactly(SUCCEEDED, IN_FLIGHT);
  }

  @Test
  public void lateVoteAfterCommitDecision_isIgnored() {
    Driver run = Driver.start(twoPc(gid(), "b1"));
    sendSecondPrepareAfterAnOverdueFirst(run);
    run.answer("b1", PREPARE, 2, Outcome.SUCCEEDED);
    assertThat(run.status()).isEqualTo(COMMITTING);
    Decision d = run.answer("b1", PREPARE, 1, NO);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, STALE_ANSWER));
    assertThat(run.status()).isEqualTo(COMMITTING);
    assertThat(run.statuses(PREPARE)).containsExactly(SUCCEEDED);
  }

  @Test
  public void prepareCutOffByAbort_answerIsIgnored() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2"));
    run.answer("b1", PREPARE, NO);
    Decision d = run.answer("b2", PREPARE, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, STALE_ANSWER));
    assertThat(run.statuses(PREPARE)).containsExactly(FAILED, ABANDONED);
    assertThat(run.statuses(ROLLBACK)).containsExactly(IN_FLIGHT, IN_FLIGHT);
  }

  @Test
  public void commitSayingNo_isRetriedNeverRolledBack() {
    Driver run = Driver.start(twoPc(gid(), "b1"));
    run.succeed("b1", PREPARE);
    Decision d = run.answer("b1", COMMIT, NO);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_RETRY));
    assertThat(d.effects()).isEmpty();
    assertThat(run.status()).isEqualTo(COMMITTING);
    assertThat(run.statuses(COMMIT)).containsExactly(WAITING);
    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("b1", COMMIT, 2));
    run.succeed("b1", COMMIT);
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void rollbackUnknown_isRetriedUntilItSucceeds() {
    Driver run = Driver.start(twoPc(gid(), "b1"));
    run.answer("b1", PREPARE, NO);
    Decision d = run.answer("b1", ROLLBACK, UNKNOWN);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, OP_RETRY));
    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(ABORTING, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("b1", ROLLBACK, 2));
    run.succeed("b1", ROLLBACK);
    assertThat(run.status()).isEqualTo(ABORTED);
  }

  @Test
  public void mustFinishOp_flagsOperatorAfterBound_andKeepsRetrying() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2"));
    run.succeed("b1", PREPARE);
    run.succeed("b2", PREPARE);
    run.succeed("b2", COMMIT);
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    for (int attempt = 1; attempt < bound; attempt++) {
      run.answer("b1", COMMIT, UNKNOWN);
      run.tickWhenDue();
    }
    Decision d = run.answer("b1", COMMIT, UNKNOWN);
    assertThat(d.fired())
        .containsExactly(run.row(COMMITTING, OP_RETRY), run.row(COMMITTING, RETRY_BOUND_REACHED));
    assertThat(run.tx().flag()).isEqualTo("b1/commit has failed 10 attempts: unknown: HTTP 502");
    assertThat(run.status()).isEqualTo(COMMITTING);
    for (int attempt = bound + 1; attempt <= bound + 5; attempt++) {
      d = run.tickWhenDue();
      assertThat(d.effects()).containsExactly(run.call("b1", COMMIT, attempt));
      d = run.answer("b1", COMMIT, UNKNOWN);
      assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_RETRY));
    }
    run.tickWhenDue();
    run.succeed("b1", COMMIT);
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void rollback_flagsOperatorAfterBound() {
    Driver run = Driver.start(twoPc(gid(), "b1"));
    run.answer("b1", PREPARE, NO);
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    for (int attempt = 1; attempt < bound; attempt++) {
      run.answer("b1", ROLLBACK, UNKNOWN);
      run.tickWhenDue();
    }
    Decision d = run.answer("b1", ROLLBACK, UNKNOWN);
    assertThat(d.fired())
        .containsExactly(run.row(ABORTING, OP_RETRY), run.row(ABORTING, RETRY_BOUND_REACHED));
    assertThat(run.tx().flag()).isEqualTo("b1/rollback has failed 10 attempts: unknown: HTTP 502");
  }

  @Test
  public void overduePrepare_isBackedOffThenAskedAgain() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2"));
    run.succeed("b2", PREPARE);
    // No answer within the call timeout counts as unknown: asked again after the backoff.
    Decision d = run.at(T0.plusSeconds(10)).tick();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_RETRY));
    assertThat(d.effects()).isEmpty();
    assertThat(run.statuses(PREPARE)).containsExactly(WAITING, SUCCEEDED);
    Progress waiting = run.progress("b1", PREPARE);
    assertThat(waiting.attempts()).isEqualTo(1);
    assertThat(waiting.lastError()).isEqualTo("no answer within PT10S");
    assertThat(waiting.dueAt()).isBetween(run.now().plusMillis(160), run.now().plusMillis(200));
    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("b1", PREPARE, 2));
    assertThat(run.statuses(PREPARE)).containsExactly(IN_FLIGHT, SUCCEEDED);
  }

  @Test
  public void mustFinishOp_flagsOperatorEvenWhenAnswersAreLost() {
    Driver run = Driver.start(twoPc(gid(), "b1"));
    run.succeed("b1", PREPARE);
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    // The participant hangs: no commit is ever answered. Each attempt is overdue at the call
    // timeout, counts as unknown and waits out the backoff, then the next goes out.
    for (int attempt = 1; attempt < bound; attempt++) {
      Instant sent = run.now();
      Decision d = run.tickWhenDue();
      assertThat(run.now()).isEqualTo(sent.plus(RetryPolicy.DEFAULT.callTimeout()));
      assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_RETRY));
      assertThat(d.effects()).isEmpty();
      assertThat(run.progress("b1", COMMIT))
          .extracting(Progress::status, Progress::attempts, Progress::lastError)
          .containsExactly(WAITING, attempt, "no answer within PT10S");
      assertThat(run.tx().flag()).isNull();
      d = run.tickWhenDue();
      assertThat(d.fired()).containsExactly(run.row(COMMITTING, RETRY_DUE));
      assertThat(d.effects()).containsExactly(run.call("b1", COMMIT, attempt + 1));
    }
    Decision d = run.tickWhenDue();
    assertThat(d.fired())
        .containsExactly(run.row(COMMITTING, OP_RETRY), run.row(COMMITTING, RETRY_BOUND_REACHED));
    assertThat(d.effects()).isEmpty();
    String flag = "b1/commit has failed 10 attempts: no answer within PT10S";
    assertThat(run.tx().flag()).isEqualTo(flag);
    assertThat(run.status()).isEqualTo(COMMITTING);
    // The commit goes on, waiting at the 30 s cap (less jitter); the flag is raised only once.
    for (int attempt = bound + 1; attempt <= bound + 5; attempt++) {
      Progress waiting = run.progress("b1", COMMIT);
      assertThat(waiting.dueAt()).isBetween(run.now().plusSeconds(24), run.now().plusSeconds(30));
      d = run.tickWhenDue();
      assertThat(d.fired()).containsExactly(run.row(COMMITTING, RETRY_DUE));
      assertThat(d.effects()).containsExactly(run.call("b1", COMMIT, attempt));
      d = run.tickWhenDue();
      assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_RETRY));
      assertThat(d.effects()).isEmpty();
      assertThat(run.tx().flag()).isEqualTo(flag);
    }
    run.tickWhenDue();
    run.succeed("b1", COMMIT);
    assertThat(run.status()).isEqualTo(COMMITTED);
    assertThat(run.tx().flag()).isEqualTo(flag);
  }

  @Test
  public void mustFinishOp_flagsOperatorWhenTheBoundIsPassedByAResend() {
    Driver run = Driver.start(twoPc(gid(), "b1"));
    run.succeed("b1", PREPARE);
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    for (int attempt = 1; attempt < bound; attempt++) {
      run.answer("b1", COMMIT, UNKNOWN);
      run.tickWhenDue();
    }
    assertThat(run.progress("b1", COMMIT).attempts()).isEqualTo(bound);
    // Attempt `bound` is re-sent by a recovering coordinator before it is answered: no failure of
    // the attempt that reaches the bound is ever seen.
    Decision d = run.advance(ofSeconds(1)).on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, RECOVERED));
    assertThat(d.effects()).containsExactly(run.call("b1", COMMIT, bound + 1));
    assertThat(run.tx().flag()).isNull();
    // The first failure past the bound flags the transaction.
    d = run.answer("b1", COMMIT, UNKNOWN);
    assertThat(d.fired())
        .containsExactly(run.row(COMMITTING, OP_RETRY), run.row(COMMITTING, RETRY_BOUND_REACHED));
    String flag = "b1/commit has failed 11 attempts: unknown: HTTP 502";
    assertThat(run.tx().flag()).isEqualTo(flag);
    // Later failures leave the flag as it is.
    for (int attempt = bound + 2; attempt <= bound + 4; attempt++) {
      d = run.tickWhenDue();
      assertThat(d.effects()).containsExactly(run.call("b1", COMMIT, attempt));
      d = run.answer("b1", COMMIT, UNKNOWN);
      assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_RETRY));
      assertThat(run.tx().flag()).isEqualTo(flag);
    }
  }

  @Test
  public void mustFinishOps_flagTheTransactionOnce_forTheFirstToReachTheBound() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2"));
    run.succeed("b1", PREPARE);
    run.succeed("b2", PREPARE);
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    for (int attempt = 1; attempt < bound; attempt++) {
      run.answer("b1", COMMIT, UNKNOWN);
      run.answer("b2", COMMIT, UNKNOWN);
      // Every wait is at most the 30 s cap: both commits are due again.
      Decision d = run.advance(ofSeconds(30)).tick();
      assertThat(d.fired())
          .containsExactly(run.row(COMMITTING, RETRY_DUE), run.row(COMMITTING, RETRY_DUE));
      assertThat(d.effects())
          .containsExactly(
              run.call("b1", COMMIT, attempt + 1), run.call("b2", COMMIT, attempt + 1));
    }
    Decision d = run.answer("b1", COMMIT, UNKNOWN);
    assertThat(d.fired())
        .containsExactly(run.row(COMMITTING, OP_RETRY), run.row(COMMITTING, RETRY_BOUND_REACHED));
    String flag = "b1/commit has failed 10 attempts: unknown: HTTP 502";
    assertThat(run.tx().flag()).isEqualTo(flag);
    // b2 reaches the bound too, but the transaction is already flagged.
    d = run.answer("b2", COMMIT, UNKNOWN);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_RETRY));
    assertThat(run.tx().flag()).isEqualTo(flag);
    assertThat(run.statuses(COMMIT)).containsExactly(WAITING, WAITING);
  }

  @Test
  public void coordinatorKilledBeforeLoggingTheDecision_recoveryRollsBack() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2"));
    run.succeed("b1", PREPARE);
    // b2 voted yes too, but the coordinator died before that answer was logged: the log says begun.
    Decision d = run.advance(ofSeconds(1)).on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(BEGUN, RECOVERED));
    assertThat(d.effects())
        .containsExactly(run.call("b1", ROLLBACK, 1), run.call("b2", ROLLBACK, 1));
    assertThat(run.status()).isEqualTo(ABORTING);
    assertThat(run.statuses(PREPARE)).containsExactly(SUCCEEDED, ABANDONED);
  }

  @Test
  public void coordinatorKilledAfterLoggingCommit_recoveryCommitsAgain() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2"));
    run.succeed("b1", PREPARE);
    run.succeed("b2", PREPARE);
    run.succeed("b2", COMMIT);
    Decision d = run.advance(ofSeconds(1)).on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, RECOVERED));
    assertThat(d.effects()).containsExactly(run.call("b1", COMMIT, 2));
    assertThat(run.status()).isEqualTo(COMMITTING);
  }

  @Test
  public void coordinatorKilledAfterLoggingAbort_recoveryRollsBackAgain() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2"));
    run.answer("b1", PREPARE, NO);
    run.answer("b2", ROLLBACK, UNKNOWN);
    Decision d = run.on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(ABORTING, RECOVERED));
    assertThat(d.effects())
        .containsExactly(run.call("b1", ROLLBACK, 2), run.call("b2", ROLLBACK, 2));
  }

  @Test
  public void operatorRetry_sendsWaitingOpsOfTheCurrentPhaseNow() {
    Driver run = Driver.start(twoPc(gid(), "b1", "b2"));
    run.answer("b1", PREPARE, UNKNOWN);
    Decision d = run.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OPERATOR_RETRY));
    // b2 is in flight and not overdue: the operator's retry makes it due too.
    assertThat(d.effects()).containsExactly(run.call("b1", PREPARE, 2), run.call("b2", PREPARE, 2));

    run.succeed("b1", PREPARE);
    run.succeed("b2", PREPARE);
    run.answer("b2", COMMIT, UNKNOWN);
    d = run.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, OPERATOR_RETRY));
    assertThat(d.effects()).containsExactly(run.call("b1", COMMIT, 2), run.call("b2", COMMIT, 2));

    Driver other = Driver.start(twoPc(Specs.gid(), "b1"));
    other.answer("b1", PREPARE, NO);
    other.answer("b1", ROLLBACK, UNKNOWN);
    d = other.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(other.row(ABORTING, OPERATOR_RETRY));
    assertThat(d.effects()).containsExactly(other.call("b1", ROLLBACK, 2));
  }

  @Test
  public void callerRequests_areRejected_beforeAndAfterTheOutcome() {
    Driver run = Driver.start(twoPc(gid(), "b1"));
    for (Event request :
        new Event[] {
          new Event.CommitRequested(),
          new Event.AbortRequested(),
          new Event.BranchRegistered(Specs.branch(mode, "b2"))
        }) {
      assertThat(run.on(request).isRejected()).isTrue();
    }
    assertThat(run.on(new Event.AbortRequested()).rejection())
        .isEqualTo(mode.code() + " decides by itself from the prepare votes");
    run.succeed("b1", PREPARE);
    run.succeed("b1", COMMIT);
    assertThat(run.on(new Event.AbortRequested()).rejection())
        .isEqualTo(mode.code() + " decides by itself from the prepare votes");
    Decision d = run.advance(ofSeconds(100)).tick();
    assertThat(d.fired()).isEmpty();
    assertThat(d.changes(run.tx())).isFalse();
  }

  /**
   * Lets attempt 1 of b1's prepare go unanswered past the call timeout, then sends attempt 2 once
   * its backoff has passed: attempt 1 is still unanswered.
   */
  private static void sendSecondPrepareAfterAnOverdueFirst(Driver run) {
    Decision d = run.at(T0.plusSeconds(10)).tick();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_RETRY));
    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("b1", PREPARE, 2));
  }
}
