package dev.pledge.core.threepc;

import static dev.pledge.core.Op.ABORT;
import static dev.pledge.core.Op.CAN_COMMIT;
import static dev.pledge.core.Op.DO_COMMIT;
import static dev.pledge.core.Op.PRE_COMMIT;
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
import static dev.pledge.core.Status.PREPARED;
import static dev.pledge.core.engine.Specs.T0;
import static dev.pledge.core.engine.Specs.gid;
import static dev.pledge.core.engine.Specs.threePc;
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
import static java.time.Duration.ofMinutes;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.Mode;
import dev.pledge.core.Outcome;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Status;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Driver;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Specs;
import dev.pledge.core.engine.Transition;
import org.junit.jupiter.api.Test;

/** The 3pc decider, one behaviour per test. Branches are named {@code b1, b2, …}. */
public class ThreePcDeciderTest {
  private static final Outcome UNKNOWN = new Outcome.Unknown("HTTP 502");
  private static final Outcome NO = new Outcome.Failed("out of stock");
  private static final Outcome ABORTED_BY_ITSELF = new Outcome.Failed("aborted by itself");

  @Test
  public void start_sendsCanCommitToEveryBranchInParallel() {
    Driver run = Driver.start(threePc(gid(), "b1", "b2", "b3"));
    assertThat(run.last().fired()).containsExactly(run.row(null, STARTED));
    assertThat(run.last().effects())
        .containsExactly(
            run.call("b1", CAN_COMMIT, 1),
            run.call("b2", CAN_COMMIT, 1),
            run.call("b3", CAN_COMMIT, 1));
    assertThat(run.status()).isEqualTo(BEGUN);
    assertThat(run.statuses(CAN_COMMIT)).containsExactly(IN_FLIGHT, IN_FLIGHT, IN_FLIGHT);
    assertThat(run.statuses(PRE_COMMIT)).containsExactly(IDLE, IDLE, IDLE);
    assertThat(run.statuses(DO_COMMIT)).containsExactly(IDLE, IDLE, IDLE);
    assertThat(run.statuses(ABORT)).containsExactly(IDLE, IDLE, IDLE);
  }

  @Test
  public void allVoteYes_logsPreCommit_thenPreCommitsEveryBranch_thenCommitsEveryBranch() {
    Driver run = Driver.start(threePc(gid(), "b1", "b2"));
    Decision d = run.succeed("b2", CAN_COMMIT);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_SUCCEEDED));
    assertThat(d.effects()).isEmpty();
    d = run.succeed("b1", CAN_COMMIT);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, ALL_SUCCEEDED));
    assertThat(d.effects())
        .containsExactly(run.call("b1", PRE_COMMIT, 1), run.call("b2", PRE_COMMIT, 1));
    // The pre-commit decision is in the very state the pre-commits go out with.
    assertThat(d.next().status()).isEqualTo(PREPARED);

    d = run.succeed("b1", PRE_COMMIT);
    assertThat(d.fired()).containsExactly(run.row(PREPARED, OP_SUCCEEDED));
    assertThat(d.effects()).isEmpty();
    d = run.succeed("b2", PRE_COMMIT);
    assertThat(d.fired()).containsExactly(run.row(PREPARED, ALL_SUCCEEDED));
    assertThat(d.effects())
        .containsExactly(run.call("b1", DO_COMMIT, 1), run.call("b2", DO_COMMIT, 1));
    assertThat(run.status()).isEqualTo(COMMITTING);

    d = run.succeed("b2", DO_COMMIT);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_SUCCEEDED));
    d = run.succeed("b1", DO_COMMIT);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, ALL_SUCCEEDED));
    assertThat(run.status()).isEqualTo(COMMITTED);
    assertThat(run.statuses(CAN_COMMIT)).containsExactly(SUCCEEDED, SUCCEEDED);
    assertThat(run.statuses(PRE_COMMIT)).containsExactly(SUCCEEDED, SUCCEEDED);
    assertThat(run.statuses(DO_COMMIT)).containsExactly(SUCCEEDED, SUCCEEDED);
    assertThat(run.statuses(ABORT)).containsExactly(IDLE, IDLE);
    assertThat(run.tx().flag()).isNull();
  }

  @Test
  public void aNoVote_abortsEveryBranch() {
    Driver run = Driver.start(threePc(gid(), "b1", "b2", "b3"));
    run.succeed("b1", CAN_COMMIT);
    Decision d = run.answer("b2", CAN_COMMIT, NO);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_FAILED));
    assertThat(d.effects())
        .containsExactly(
            run.call("b1", ABORT, 1), run.call("b2", ABORT, 1), run.call("b3", ABORT, 1));
    assertThat(run.status()).isEqualTo(ABORTING);
    assertThat(run.statuses(CAN_COMMIT)).containsExactly(SUCCEEDED, FAILED, ABANDONED);

    d = run.succeed("b3", ABORT);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, OP_SUCCEEDED));
    run.succeed("b1", ABORT);
    d = run.succeed("b2", ABORT);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, ALL_SUCCEEDED));
    assertThat(run.status()).isEqualTo(ABORTED);
    assertThat(run.statuses(ABORT)).containsExactly(SUCCEEDED, SUCCEEDED, SUCCEEDED);
    assertThat(run.statuses(PRE_COMMIT)).containsExactly(IDLE, IDLE, IDLE);
    assertThat(run.statuses(DO_COMMIT)).containsExactly(IDLE, IDLE, IDLE);
  }

  @Test
  public void timeoutBeforeThePreCommitDecision_abortsEveryBranch() {
    Driver run = Driver.start(threePc(gid(), "b1", "b2"));
    run.succeed("b1", CAN_COMMIT);
    run.answer("b2", CAN_COMMIT, UNKNOWN);
    Decision d = run.at(T0.plusSeconds(59)).tick();
    assertThat(d.fired()).doesNotContain(run.row(BEGUN, TIMEOUT));
    d = run.at(T0.plusSeconds(60)).tick();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, TIMEOUT));
    assertThat(d.effects()).containsExactly(run.call("b1", ABORT, 1), run.call("b2", ABORT, 1));
    assertThat(run.statuses(CAN_COMMIT)).containsExactly(SUCCEEDED, ABANDONED);
    assertThat(run.status()).isEqualTo(ABORTING);
  }

  @Test
  public void coordinatorKilledBeforeThePreCommitDecision_recoveryAborts() {
    Driver run = Driver.start(threePc(gid(), "b1", "b2"));
    run.succeed("b1", CAN_COMMIT);
    // b2 voted yes too, but the coordinator died before logging it: no pre-commit ever went out,
    // so no participant can commit by itself, and those that voted yes abort by themselves anyway.
    Decision d = run.advance(ofSeconds(1)).on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(BEGUN, RECOVERED));
    assertThat(d.effects()).containsExactly(run.call("b1", ABORT, 1), run.call("b2", ABORT, 1));
    assertThat(run.status()).isEqualTo(ABORTING);
    assertThat(run.statuses(PRE_COMMIT)).containsExactly(IDLE, IDLE);
  }

  @Test
  public void coordinatorKilledAfterThePreCommitDecision_recoveryCommits_neverAborts() {
    Driver run = Driver.start(threePc(gid(), "b1", "b2"));
    run.succeed("b1", CAN_COMMIT);
    run.succeed("b2", CAN_COMMIT);
    run.succeed("b1", PRE_COMMIT);
    // b2 may be pre-committed (its acknowledgement lost) and would commit by itself: abort could
    // contradict it, commit contradicts no one since every branch voted yes.
    Decision d = run.advance(ofSeconds(1)).on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(PREPARED, RECOVERED));
    assertThat(d.effects())
        .containsExactly(run.call("b1", DO_COMMIT, 1), run.call("b2", DO_COMMIT, 1));
    assertThat(run.status()).isEqualTo(COMMITTING);
    assertThat(run.statuses(PRE_COMMIT)).containsExactly(SUCCEEDED, ABANDONED);
    assertThat(run.statuses(ABORT)).containsExactly(IDLE, IDLE);
  }

  @Test
  public void timeoutAfterThePreCommitDecision_commits_neverAborts() {
    Driver run = Driver.start(threePc(gid(), "b1", "b2"));
    run.succeed("b1", CAN_COMMIT);
    run.succeed("b2", CAN_COMMIT);
    run.succeed("b2", PRE_COMMIT);
    run.answer("b1", PRE_COMMIT, UNKNOWN);
    Decision d = run.at(T0.plusSeconds(60)).tick();
    assertThat(d.fired()).containsExactly(run.row(PREPARED, TIMEOUT));
    assertThat(d.effects())
        .containsExactly(run.call("b1", DO_COMMIT, 1), run.call("b2", DO_COMMIT, 1));
    assertThat(run.status()).isEqualTo(COMMITTING);
    assertThat(run.statuses(PRE_COMMIT)).containsExactly(ABANDONED, SUCCEEDED);
    // The pre-commit's late answer no longer matters.
    d = run.answer("b1", PRE_COMMIT, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, STALE_ANSWER));
    run.succeed("b1", DO_COMMIT);
    run.succeed("b2", DO_COMMIT);
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void noRowLeavesThePreCommitDecisionTowardsAbort() {
    for (Transition row : ThreePcDecider.TABLE.rows()) {
      if (row.from() == PREPARED || row.from() == COMMITTING || row.from() == COMMITTED) {
        assertThat(row.to()).as(row.toString()).isIn(PREPARED, COMMITTING, COMMITTED);
      }
    }
    assertThat(ThreePcDecider.TABLE.find(PREPARED, TIMEOUT))
        .hasValueSatisfying(row -> assertThat(row.to()).isEqualTo(COMMITTING));
    assertThat(ThreePcDecider.TABLE.find(PREPARED, RECOVERED))
        .hasValueSatisfying(row -> assertThat(row.to()).isEqualTo(COMMITTING));
    assertThat(Mode.THREE_PC.presumesAbort()).isTrue();
  }

  @Test
  public void unknownVote_isRetriedNeverTakenAsNo() {
    Driver run = Driver.start(threePc(gid(), "b1", "b2"));
    Decision d = run.advance(ofMillis(50)).answer("b1", CAN_COMMIT, UNKNOWN);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_RETRY));
    assertThat(d.effects()).isEmpty();
    assertThat(run.statuses(CAN_COMMIT)).containsExactly(WAITING, IN_FLIGHT);
    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("b1", CAN_COMMIT, 2));
    assertThat(run.status()).isEqualTo(BEGUN);
  }

  @Test
  public void duplicateOrMisdirectedAnswers_areIgnoredInEveryPhase() {
    Driver run = Driver.start(threePc(gid(), "b1", "b2"));
    run.succeed("b1", CAN_COMMIT);
    Decision d = run.answer("b1", CAN_COMMIT, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(d.changes(run.tx())).isFalse();
    assertThat(run.answer("b2", DO_COMMIT, 1, Outcome.SUCCEEDED).fired())
        .containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(run.answer("b9", CAN_COMMIT, 1, Outcome.SUCCEEDED).fired())
        .containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(run.on(new Event.CheckCompleted(1, Outcome.SUCCEEDED)).fired())
        .containsExactly(run.row(BEGUN, STALE_ANSWER));

    run.succeed("b2", CAN_COMMIT);
    run.succeed("b1", PRE_COMMIT);
    d = run.answer("b1", PRE_COMMIT, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(PREPARED, STALE_ANSWER));
    // A late "no" to a can-commit, after every branch voted yes, is from a finished round.
    d = run.answer("b2", CAN_COMMIT, 1, NO);
    assertThat(d.fired()).containsExactly(run.row(PREPARED, STALE_ANSWER));
    assertThat(run.status()).isEqualTo(PREPARED);

    run.succeed("b2", PRE_COMMIT);
    run.succeed("b2", DO_COMMIT);
    d = run.answer("b2", DO_COMMIT, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, STALE_ANSWER));
    assertThat(run.statuses(DO_COMMIT)).containsExactly(IN_FLIGHT, SUCCEEDED);
  }

  @Test
  public void canCommitCutOffByAbort_answerIsIgnored() {
    Driver run = Driver.start(threePc(gid(), "b1", "b2"));
    run.answer("b1", CAN_COMMIT, NO);
    Decision d = run.answer("b2", CAN_COMMIT, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, STALE_ANSWER));
    assertThat(run.statuses(CAN_COMMIT)).containsExactly(FAILED, ABANDONED);
    assertThat(run.statuses(ABORT)).containsExactly(IN_FLIGHT, IN_FLIGHT);
    assertThat(run.status()).isEqualTo(ABORTING);
  }

  @Test
  public void preCommitUnknown_isSentAgain_neverTakenAsAbort() {
    Driver run = Driver.start(threePc(gid(), "b1"));
    run.succeed("b1", CAN_COMMIT);
    Decision d = run.answer("b1", PRE_COMMIT, UNKNOWN);
    assertThat(d.fired()).containsExactly(run.row(PREPARED, OP_RETRY));
    assertThat(d.effects()).isEmpty();
    assertThat(run.statuses(PRE_COMMIT)).containsExactly(WAITING);
    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(PREPARED, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("b1", PRE_COMMIT, 2));
    run.succeed("b1", PRE_COMMIT);
    assertThat(run.status()).isEqualTo(COMMITTING);
  }

  @Test
  public void preCommitNeverAcknowledged_flagsOperatorAfterBound_thenCommitsAtTheDeadline() {
    Driver run = Driver.start(Specs.withTimeout(threePc(gid(), "b1", "b2"), ofMinutes(10)));
    run.succeed("b1", CAN_COMMIT);
    run.succeed("b2", CAN_COMMIT);
    run.succeed("b2", PRE_COMMIT);
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    for (int attempt = 1; attempt < bound; attempt++) {
      run.answer("b1", PRE_COMMIT, UNKNOWN);
      run.tickWhenDue();
    }
    Decision d = run.answer("b1", PRE_COMMIT, UNKNOWN);
    assertThat(d.fired())
        .containsExactly(run.row(PREPARED, OP_RETRY), run.row(PREPARED, RETRY_BOUND_REACHED));
    assertThat(run.tx().flag())
        .isEqualTo("b1/pre-commit has failed 10 attempts: unknown: HTTP 502");
    assertThat(run.status()).isEqualTo(PREPARED);
    d = run.at(T0.plus(ofMinutes(10))).tick();
    assertThat(d.fired()).containsExactly(run.row(PREPARED, TIMEOUT));
    assertThat(d.effects())
        .containsExactly(run.call("b1", DO_COMMIT, 1), run.call("b2", DO_COMMIT, 1));
  }

  @Test
  public void preCommitAnswered409_isAHeuristicOutcome_flaggedAtOnce_andNeverRolledBack() {
    Driver run = Driver.start(threePc(gid(), "b1", "b2"));
    run.succeed("b1", CAN_COMMIT);
    run.succeed("b2", CAN_COMMIT);
    run.succeed("b2", PRE_COMMIT);
    // b1's own timeout passed before its pre-commit arrived: it aborted by itself.
    Decision d = run.answer("b1", PRE_COMMIT, ABORTED_BY_ITSELF);
    assertThat(d.fired()).containsExactly(run.row(PREPARED, OP_FAILED));
    assertThat(d.effects()).isEmpty();
    assertThat(run.tx().flag())
        .isEqualTo(
            "heuristic: b1 answered pre-commit with 409 (aborted by itself): it aborted by itself"
                + " while the coordinator commits");
    assertThat(run.status()).isEqualTo(PREPARED);
    assertThat(run.statuses(PRE_COMMIT)).containsExactly(WAITING, SUCCEEDED);
    d = run.tickWhenDue();
    assertThat(d.effects()).containsExactly(run.call("b1", PRE_COMMIT, 2));
  }

  @Test
  public void doCommitAnswered409_isAHeuristicOutcome_flaggedOnce_overALesserFlag() {
    Driver run = Driver.start(threePc(gid(), "b1", "b2"));
    run.succeed("b1", CAN_COMMIT);
    run.succeed("b2", CAN_COMMIT);
    run.succeed("b1", PRE_COMMIT);
    run.succeed("b2", PRE_COMMIT);
    run.succeed("b2", DO_COMMIT);
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    for (int attempt = 1; attempt < bound; attempt++) {
      run.answer("b1", DO_COMMIT, UNKNOWN);
      run.tickWhenDue();
    }
    run.answer("b1", DO_COMMIT, UNKNOWN);
    assertThat(run.tx().flag()).isEqualTo("b1/do-commit has failed 10 attempts: unknown: HTTP 502");
    run.tickWhenDue();

    Decision d = run.answer("b1", DO_COMMIT, ABORTED_BY_ITSELF);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_FAILED));
    String heuristic =
        "heuristic: b1 answered do-commit with 409 (aborted by itself): it aborted by itself while"
            + " the coordinator commits";
    assertThat(run.tx().flag()).isEqualTo(heuristic);
    assertThat(run.status()).isEqualTo(COMMITTING);
    assertThat(run.statuses(ABORT)).containsExactly(IDLE, IDLE);
    assertThat(run.statuses(DO_COMMIT)).containsExactly(WAITING, SUCCEEDED);
    // Asked again, it says the same: the first heuristic stays the flag.
    run.tickWhenDue();
    d = run.answer("b1", DO_COMMIT, new Outcome.Failed("still aborted"));
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_FAILED));
    assertThat(run.tx().flag()).isEqualTo(heuristic);
  }

  @Test
  public void doCommitUnknown_isRetriedWithoutEnd_andFlaggedAfterBound() {
    Driver run = Driver.start(threePc(gid(), "b1"));
    run.succeed("b1", CAN_COMMIT);
    run.succeed("b1", PRE_COMMIT);
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    Decision d = run.answer("b1", DO_COMMIT, UNKNOWN);
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, OP_RETRY));
    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("b1", DO_COMMIT, 2));
    for (int attempt = 2; attempt < bound; attempt++) {
      run.answer("b1", DO_COMMIT, UNKNOWN);
      run.tickWhenDue();
    }
    d = run.answer("b1", DO_COMMIT, UNKNOWN);
    assertThat(d.fired())
        .containsExactly(run.row(COMMITTING, OP_RETRY), run.row(COMMITTING, RETRY_BOUND_REACHED));
    d = run.tickWhenDue();
    assertThat(d.effects()).containsExactly(run.call("b1", DO_COMMIT, bound + 1));
    run.succeed("b1", DO_COMMIT);
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void abortUnknown_isRetriedWithoutEnd_andFlaggedAfterBound() {
    Driver run = Driver.start(threePc(gid(), "b1"));
    run.answer("b1", CAN_COMMIT, NO);
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    Decision d = run.answer("b1", ABORT, UNKNOWN);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, OP_RETRY));
    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(ABORTING, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("b1", ABORT, 2));
    for (int attempt = 2; attempt < bound; attempt++) {
      run.answer("b1", ABORT, UNKNOWN);
      run.tickWhenDue();
    }
    d = run.answer("b1", ABORT, UNKNOWN);
    assertThat(d.fired())
        .containsExactly(run.row(ABORTING, OP_RETRY), run.row(ABORTING, RETRY_BOUND_REACHED));
    assertThat(run.tx().flag()).isEqualTo("b1/abort has failed 10 attempts: unknown: HTTP 502");
    run.tickWhenDue();
    run.succeed("b1", ABORT);
    assertThat(run.status()).isEqualTo(ABORTED);
  }

  @Test
  public void coordinatorKilledAfterTheCommitOrAbort_recoveryResendsWhatIsUnacknowledged() {
    Driver commit = Driver.start(threePc(gid(), "b1", "b2"));
    commit.succeed("b1", CAN_COMMIT);
    commit.succeed("b2", CAN_COMMIT);
    commit.succeed("b1", PRE_COMMIT);
    commit.succeed("b2", PRE_COMMIT);
    commit.succeed("b1", DO_COMMIT);
    Decision d = commit.advance(ofSeconds(1)).on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(commit.row(COMMITTING, RECOVERED));
    assertThat(d.effects()).containsExactly(commit.call("b2", DO_COMMIT, 2));

    Driver abort = Driver.start(threePc(Specs.gid(), "b1", "b2"));
    abort.answer("b1", CAN_COMMIT, NO);
    abort.succeed("b2", ABORT);
    d = abort.advance(ofSeconds(1)).on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(abort.row(ABORTING, RECOVERED));
    assertThat(d.effects()).containsExactly(abort.call("b1", ABORT, 2));
    assertThat(abort.status()).isEqualTo(ABORTING);
  }

  @Test
  public void operatorRetry_sendsWaitingOpsOfTheCurrentPhaseNow() {
    Driver run = Driver.start(threePc(gid(), "b1", "b2"));
    run.answer("b1", CAN_COMMIT, UNKNOWN);
    Decision d = run.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OPERATOR_RETRY));
    assertThat(d.effects())
        .containsExactly(run.call("b1", CAN_COMMIT, 2), run.call("b2", CAN_COMMIT, 2));

    run.succeed("b1", CAN_COMMIT);
    run.succeed("b2", CAN_COMMIT);
    run.answer("b1", PRE_COMMIT, UNKNOWN);
    d = run.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(run.row(PREPARED, OPERATOR_RETRY));
    assertThat(d.effects())
        .containsExactly(run.call("b1", PRE_COMMIT, 2), run.call("b2", PRE_COMMIT, 2));

    run.succeed("b1", PRE_COMMIT);
    run.succeed("b2", PRE_COMMIT);
    run.answer("b2", DO_COMMIT, UNKNOWN);
    d = run.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, OPERATOR_RETRY));
    assertThat(d.effects())
        .containsExactly(run.call("b1", DO_COMMIT, 2), run.call("b2", DO_COMMIT, 2));

    Driver other = Driver.start(threePc(Specs.gid(), "b1"));
    other.answer("b1", CAN_COMMIT, NO);
    other.answer("b1", ABORT, UNKNOWN);
    d = other.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(other.row(ABORTING, OPERATOR_RETRY));
    assertThat(d.effects()).containsExactly(other.call("b1", ABORT, 2));
  }

  @Test
  public void callerRequests_areRejected_beforeAndAfterTheOutcome() {
    Driver run = Driver.start(threePc(gid(), "b1"));
    for (Event request :
        new Event[] {
          new Event.CommitRequested(),
          new Event.AbortRequested(),
          new Event.BranchRegistered(Specs.branch(Mode.THREE_PC, "b2"))
        }) {
      assertThat(run.on(request).isRejected()).isTrue();
    }
    assertThat(run.on(new Event.CommitRequested()).rejection())
        .isEqualTo("3pc decides by itself from the votes");
    run.succeed("b1", CAN_COMMIT);
    run.succeed("b1", PRE_COMMIT);
    run.succeed("b1", DO_COMMIT);
    assertThat(run.status()).isEqualTo(COMMITTED);
    assertThat(run.on(new Event.AbortRequested()).rejection())
        .isEqualTo("3pc decides by itself from the votes");
    Decision d = run.advance(ofSeconds(100)).tick();
    assertThat(d.fired()).isEmpty();
    assertThat(d.changes(run.tx())).isFalse();
    assertThat(run.status()).isEqualTo(Status.COMMITTED);
  }
}
