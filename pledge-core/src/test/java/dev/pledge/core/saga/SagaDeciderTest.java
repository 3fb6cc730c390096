package dev.pledge.core.saga;

import static dev.pledge.core.Op.ACTION;
import static dev.pledge.core.Op.COMPENSATE;
import static dev.pledge.core.OpStatus.ABANDONED;
import static dev.pledge.core.OpStatus.FAILED;
import static dev.pledge.core.OpStatus.IDLE;
import static dev.pledge.core.OpStatus.IN_FLIGHT;
import static dev.pledge.core.OpStatus.SKIPPED;
import static dev.pledge.core.OpStatus.SUCCEEDED;
import static dev.pledge.core.OpStatus.WAITING;
import static dev.pledge.core.Status.ABORTED;
import static dev.pledge.core.Status.ABORTING;
import static dev.pledge.core.Status.BEGUN;
import static dev.pledge.core.Status.COMMITTED;
import static dev.pledge.core.engine.Specs.T0;
import static dev.pledge.core.engine.Specs.gid;
import static dev.pledge.core.engine.Specs.saga;
import static dev.pledge.core.engine.Specs.step;
import static dev.pledge.core.engine.Specs.withTimeout;
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

import dev.pledge.core.Outcome;
import dev.pledge.core.Progress;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Driver;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Specs;
import java.time.Instant;
import org.junit.jupiter.api.Test;

/**
 * The saga decider, one behaviour per test, driven through the engine with explicit instants. Steps
 * are named {@code s1, s2, …} (in order) or {@code a, b, …} (a DAG).
 */
public class SagaDeciderTest {
  private static final Outcome UNKNOWN = new Outcome.Unknown("HTTP 503");
  private static final Outcome NO = new Outcome.Failed("out of stock");

  @Test
  public void sequentialSaga_runsStepsOneAfterAnother_andCommits() {
    Driver run = Driver.start(saga(gid(), "s1", "s2", "s3"));
    assertThat(run.last().fired()).containsExactly(run.row(null, STARTED));
    assertThat(run.last().effects()).containsExactly(run.call("s1", ACTION, 1));
    assertThat(run.status()).isEqualTo(BEGUN);
    assertThat(run.statuses(ACTION)).containsExactly(IN_FLIGHT, IDLE, IDLE);
    assertThat(run.tx().wakeAt()).isEqualTo(T0.plus(RetryPolicy.DEFAULT.callTimeout()));

    Decision d = run.advance(ofMillis(10)).succeed("s1", ACTION);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_SUCCEEDED));
    assertThat(d.effects()).containsExactly(run.call("s2", ACTION, 1));
    assertThat(run.statuses(ACTION)).containsExactly(SUCCEEDED, IN_FLIGHT, IDLE);

    d = run.advance(ofMillis(10)).succeed("s2", ACTION);
    assertThat(d.effects()).containsExactly(run.call("s3", ACTION, 1));

    d = run.advance(ofMillis(10)).succeed("s3", ACTION);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, ALL_SUCCEEDED));
    assertThat(d.effects()).isEmpty();
    assertThat(run.status()).isEqualTo(COMMITTED);
    assertThat(run.statuses(ACTION)).containsExactly(SUCCEEDED, SUCCEEDED, SUCCEEDED);
    assertThat(run.statuses(COMPENSATE)).containsExactly(IDLE, IDLE, IDLE);
    assertThat(run.tx().isSettled()).isTrue();
    assertThat(run.tx().wakeAt()).isNull();
  }

  @Test
  public void actionFailure_compensatesInReverseOrderEveryStepThatRan() {
    Driver run = Driver.start(saga(gid(), "s1", "s2", "s3"));
    run.succeed("s1", ACTION);

    Decision d = run.answer("s2", ACTION, NO);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_FAILED));
    // s2 said no, but it was called: its compensation runs (the barrier makes it a no-op if need
    // be).
    assertThat(d.effects()).containsExactly(run.call("s2", COMPENSATE, 1));
    assertThat(run.status()).isEqualTo(ABORTING);
    assertThat(run.statuses(ACTION)).containsExactly(SUCCEEDED, FAILED, IDLE);
    assertThat(run.statuses(COMPENSATE)).containsExactly(IDLE, IN_FLIGHT, SKIPPED);
    assertThat(run.progress("s2", ACTION).lastError()).isEqualTo("failed: out of stock");

    d = run.succeed("s2", COMPENSATE);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, OP_SUCCEEDED));
    assertThat(d.effects()).containsExactly(run.call("s1", COMPENSATE, 1));

    d = run.succeed("s1", COMPENSATE);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, ALL_SUCCEEDED));
    assertThat(d.effects()).isEmpty();
    assertThat(run.status()).isEqualTo(ABORTED);
    assertThat(run.statuses(COMPENSATE)).containsExactly(SUCCEEDED, SUCCEEDED, SKIPPED);
  }

  @Test
  public void firstActionFailure_compensatesThatStepOnly() {
    Driver run = Driver.start(saga(gid(), "s1", "s2"));
    Decision d = run.answer("s1", ACTION, NO);
    assertThat(d.effects()).containsExactly(run.call("s1", COMPENSATE, 1));
    assertThat(run.statuses(COMPENSATE)).containsExactly(IN_FLIGHT, SKIPPED);
    run.succeed("s1", COMPENSATE);
    assertThat(run.status()).isEqualTo(ABORTED);
  }

  @Test
  public void sagaTimeout_compensatesInReverseOrderEveryStepThatMayHaveRun() {
    Driver run = Driver.start(saga(gid(), "s1", "s2", "s3"));
    run.advance(ofSeconds(1)).succeed("s1", ACTION);
    // s2's answer never comes; the transaction's 60 s pass.
    Decision d = run.at(T0.plusSeconds(60)).tick();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, TIMEOUT));
    assertThat(d.effects()).containsExactly(run.call("s2", COMPENSATE, 1));
    assertThat(run.status()).isEqualTo(ABORTING);
    assertThat(run.statuses(ACTION)).containsExactly(SUCCEEDED, ABANDONED, IDLE);
    assertThat(run.statuses(COMPENSATE)).containsExactly(IDLE, IN_FLIGHT, SKIPPED);

    d = run.succeed("s2", COMPENSATE);
    assertThat(d.effects()).containsExactly(run.call("s1", COMPENSATE, 1));
    run.succeed("s1", COMPENSATE);
    assertThat(run.status()).isEqualTo(ABORTED);
    assertThat(run.statuses(COMPENSATE)).containsExactly(SUCCEEDED, SUCCEEDED, SKIPPED);
  }

  @Test
  public void timeout_passesOnlyAtTheDeadline() {
    Driver run = Driver.start(saga(gid(), "s1"));
    run.answer("s1", ACTION, UNKNOWN);
    Progress waiting = run.progress("s1", ACTION);
    Decision d = run.at(T0.plusSeconds(60).minusMillis(1)).tick();
    // Before the deadline a tick only retries what is due.
    assertThat(d.fired()).containsExactly(run.row(BEGUN, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("s1", ACTION, 2));
    assertThat(waiting.dueAt()).isBefore(run.now());
    d = run.at(T0.plusSeconds(60)).tick();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, TIMEOUT));
    assertThat(d.effects()).containsExactly(run.call("s1", COMPENSATE, 1));
  }

  @Test
  public void unknownAnswer_isRetriedNeverTakenAsFailed() {
    Driver run = Driver.start(saga(gid(), "s1", "s2"));
    Decision d = run.advance(ofMillis(100)).answer("s1", ACTION, UNKNOWN);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_RETRY));
    assertThat(d.effects()).isEmpty();
    assertThat(run.status()).isEqualTo(BEGUN);
    assertThat(run.statuses(ACTION)).containsExactly(WAITING, IDLE);
    assertThat(run.statuses(COMPENSATE)).containsExactly(IDLE, IDLE);
    Progress waiting = run.progress("s1", ACTION);
    assertThat(waiting.attempts()).isEqualTo(1);
    assertThat(waiting.lastError()).isEqualTo("unknown: HTTP 503");
    // The first backoff is 200 ms, less up to 20 % of jitter.
    assertThat(waiting.dueAt()).isBetween(run.now().plusMillis(160), run.now().plusMillis(200));
    assertThat(run.tx().wakeAt()).isEqualTo(waiting.dueAt());

    d = run.at(waiting.dueAt().minusMillis(1)).tick();
    assertThat(d.fired()).isEmpty();
    assertThat(d.effects()).isEmpty();
    assertThat(d.changes(run.tx())).isFalse();

    d = run.at(waiting.dueAt()).tick();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("s1", ACTION, 2));
    assertThat(run.statuses(ACTION)).containsExactly(IN_FLIGHT, IDLE);

    d = run.succeed("s1", ACTION);
    assertThat(d.effects()).containsExactly(run.call("s2", ACTION, 1));
  }

  @Test
  public void pendingAnswer_isAskedAgainLater() {
    Driver run = Driver.start(saga(gid(), "s1"));
    Decision d = run.answer("s1", ACTION, Outcome.PENDING);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_RETRY));
    assertThat(run.progress("s1", ACTION).lastError()).isEqualTo("pending");
    d = run.tickWhenDue();
    assertThat(d.effects()).containsExactly(run.call("s1", ACTION, 2));
  }

  @Test
  public void overdueAnswer_isBackedOffThenAskedAgain() {
    Driver run = Driver.start(saga(gid(), "s1"));
    Decision d = run.at(T0.plusSeconds(10).minusMillis(1)).tick();
    assertThat(d.fired()).isEmpty();
    assertThat(d.effects()).isEmpty();
    assertThat(d.changes(run.tx())).isFalse();

    // No answer within the call timeout counts as unknown: the action waits out the backoff.
    d = run.at(T0.plusSeconds(10)).tick();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_RETRY));
    assertThat(d.effects()).isEmpty();
    Progress waiting = run.progress("s1", ACTION);
    assertThat(waiting.status()).isEqualTo(WAITING);
    assertThat(waiting.attempts()).isEqualTo(1);
    assertThat(waiting.lastError()).isEqualTo("no answer within PT10S");
    assertThat(waiting.dueAt()).isBetween(run.now().plusMillis(160), run.now().plusMillis(200));
    assertThat(run.tx().wakeAt()).isEqualTo(waiting.dueAt());
    assertThat(run.tx().flag()).isNull();

    d = run.at(waiting.dueAt().minusMillis(1)).tick();
    assertThat(d.fired()).isEmpty();
    assertThat(d.effects()).isEmpty();

    d = run.at(waiting.dueAt()).tick();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("s1", ACTION, 2));
    assertThat(run.progress("s1", ACTION))
        .isEqualTo(new Progress(IN_FLIGHT, 2, run.now().plusSeconds(10), "no answer within PT10S"));
  }

  @Test
  public void forwardOp_isNeverFlagged_butAbortsAtTimeout() {
    Driver run = Driver.start(withTimeout(saga(gid(), "s1"), ofMinutes(5)));
    int answers = 0;
    while (run.tx().wakeAt().isBefore(run.tx().deadline())) {
      Decision d = run.answer("s1", ACTION, UNKNOWN);
      assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_RETRY));
      answers++;
      run.tickWhenDue();
    }
    assertThat(answers).isGreaterThan(RetryPolicy.DEFAULT.flagAfterAttempts());
    assertThat(run.tx().flag()).isNull();
    run.tickWhenDue();
    assertThat(run.status()).isEqualTo(ABORTING);
  }

  @Test
  public void hangingAction_isBackedOffNeverFlagged_andAbortsAtTimeout() {
    Driver run = Driver.start(withTimeout(saga(gid(), "s1"), ofMinutes(5)));
    int overdue = 0;
    while (run.tx().wakeAt().isBefore(run.tx().deadline())) {
      // No answer ever comes: each attempt is overdue at the call timeout, then backed off.
      Instant sent = run.now();
      Decision d = run.tickWhenDue();
      assertThat(run.now()).isEqualTo(sent.plus(RetryPolicy.DEFAULT.callTimeout()));
      assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_RETRY));
      assertThat(d.effects()).isEmpty();
      overdue++;
      assertThat(run.progress("s1", ACTION))
          .extracting(Progress::status, Progress::attempts, Progress::lastError)
          .containsExactly(WAITING, overdue, "no answer within PT10S");
      if (!run.tx().wakeAt().isBefore(run.tx().deadline())) {
        break;
      }
      d = run.tickWhenDue();
      assertThat(d.fired()).containsExactly(run.row(BEGUN, RETRY_DUE));
      assertThat(d.effects()).containsExactly(run.call("s1", ACTION, overdue + 1));
    }
    assertThat(overdue).isGreaterThan(RetryPolicy.DEFAULT.flagAfterAttempts());
    assertThat(run.tx().flag()).isNull();
    Decision d = run.at(run.tx().deadline()).tick();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, TIMEOUT));
    assertThat(d.effects()).containsExactly(run.call("s1", COMPENSATE, 1));
    assertThat(run.statuses(ACTION)).containsExactly(ABANDONED);
  }

  @Test
  public void duplicateAnswer_isIgnored() {
    Driver run = Driver.start(saga(gid(), "s1", "s2"));
    run.succeed("s1", ACTION);
    var before = run.tx();
    Decision d = run.answer("s1", ACTION, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(d.effects()).isEmpty();
    assertThat(d.changes(before)).isFalse();
    // A duplicate "unknown" of an answered attempt is as stale.
    run.answer("s2", ACTION, UNKNOWN);
    d = run.answer("s2", ACTION, 1, UNKNOWN);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(run.statuses(ACTION)).containsExactly(SUCCEEDED, WAITING);
  }

  @Test
  public void lateDefinitiveAnswerToEarlierAttempt_isAccepted() {
    Driver run = Driver.start(saga(gid(), "s1", "s2"));
    sendSecondAttemptOfOverdueAction(run, "s1");
    Decision d = run.answer("s1", ACTION, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_SUCCEEDED));
    assertThat(d.effects()).containsExactly(run.call("s2", ACTION, 1));
    assertThat(run.statuses(ACTION)).containsExactly(SUCCEEDED, IN_FLIGHT);
  }

  @Test
  public void lateBusinessNoToEarlierAttempt_isAccepted() {
    Driver run = Driver.start(saga(gid(), "s1"));
    sendSecondAttemptOfOverdueAction(run, "s1");
    Decision d = run.answer("s1", ACTION, 1, NO);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_FAILED));
    assertThat(d.effects()).containsExactly(run.call("s1", COMPENSATE, 1));
  }

  @Test
  public void lateUnknownToEarlierAttempt_isIgnored() {
    Driver run = Driver.start(saga(gid(), "s1"));
    // While the overdue attempt waits out its backoff, its late unknown changes nothing.
    run.at(T0.plusSeconds(10)).tick();
    Progress waiting = run.progress("s1", ACTION);
    Decision d = run.answer("s1", ACTION, 1, UNKNOWN);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(d.effects()).isEmpty();
    assertThat(d.changes(run.tx())).isFalse();
    assertThat(run.progress("s1", ACTION)).isEqualTo(waiting);

    // Nor once attempt 2 is out.
    run.tickWhenDue();
    Instant sent = run.now();
    d = run.answer("s1", ACTION, 1, UNKNOWN);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(d.effects()).isEmpty();
    assertThat(run.progress("s1", ACTION))
        .isEqualTo(new Progress(IN_FLIGHT, 2, sent.plusSeconds(10), "no answer within PT10S"));
  }

  @Test
  public void answerNamingNoSuchStepOrOp_isIgnored() {
    Driver run = Driver.start(saga(gid(), "s1"));
    assertThat(run.answer("zz", ACTION, 1, Outcome.SUCCEEDED).fired())
        .containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(run.answer("s1", COMPENSATE, 1, Outcome.SUCCEEDED).fired())
        .containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(run.on(new Event.CheckCompleted(1, Outcome.SUCCEEDED)).fired())
        .containsExactly(run.row(BEGUN, STALE_ANSWER));
    assertThat(run.statuses(ACTION)).containsExactly(IN_FLIGHT);
  }

  @Test
  public void answerToActionCutOffByAbort_isIgnored() {
    Driver run = Driver.start(saga(gid(), "s1", "s2"));
    run.succeed("s1", ACTION);
    run.at(T0.plusSeconds(60)).tick();
    // s2's action answers after the abort: too late, its compensation goes on.
    Decision d = run.answer("s2", ACTION, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, STALE_ANSWER));
    assertThat(d.effects()).isEmpty();
    assertThat(run.statuses(ACTION)).containsExactly(SUCCEEDED, ABANDONED);
    assertThat(run.statuses(COMPENSATE)).containsExactly(IDLE, IN_FLIGHT);
    // So is a duplicate compensation answer.
    run.succeed("s2", COMPENSATE);
    d = run.answer("s2", COMPENSATE, 1, Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, STALE_ANSWER));
  }

  @Test
  public void compensationSayingNo_isRetriedWithoutEnd() {
    Driver run = Driver.start(saga(gid(), "s1"));
    run.answer("s1", ACTION, NO);
    Decision d = run.answer("s1", COMPENSATE, new Outcome.Failed("refused"));
    assertThat(d.fired()).containsExactly(run.row(ABORTING, OP_RETRY));
    assertThat(d.effects()).isEmpty();
    assertThat(run.statuses(COMPENSATE)).containsExactly(WAITING);
    assertThat(run.progress("s1", COMPENSATE).lastError()).isEqualTo("failed: refused");

    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(ABORTING, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.call("s1", COMPENSATE, 2));
    run.succeed("s1", COMPENSATE);
    assertThat(run.status()).isEqualTo(ABORTED);
  }

  @Test
  public void mustFinishOp_flagsOperatorAfterBound_andKeepsRetrying() {
    Driver run = Driver.start(saga(gid(), "s1"));
    run.answer("s1", ACTION, NO);
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    for (int attempt = 1; attempt < bound; attempt++) {
      Decision d = run.answer("s1", COMPENSATE, UNKNOWN);
      assertThat(d.fired()).containsExactly(run.row(ABORTING, OP_RETRY));
      assertThat(run.tx().flag()).isNull();
      run.tickWhenDue();
    }
    Decision d = run.answer("s1", COMPENSATE, UNKNOWN);
    assertThat(d.fired())
        .containsExactly(run.row(ABORTING, OP_RETRY), run.row(ABORTING, RETRY_BOUND_REACHED));
    assertThat(run.tx().flag())
        .isEqualTo("s1/compensate has failed 10 attempts: unknown: HTTP 503");
    // The wait is capped at 30 s (less jitter), and the compensation goes on.
    Progress waiting = run.progress("s1", COMPENSATE);
    assertThat(waiting.dueAt()).isBetween(run.now().plusSeconds(24), run.now().plusSeconds(30));
    d = run.tickWhenDue();
    assertThat(d.effects()).containsExactly(run.call("s1", COMPENSATE, bound + 1));
    d = run.answer("s1", COMPENSATE, UNKNOWN);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, OP_RETRY));
    run.tickWhenDue();
    run.succeed("s1", COMPENSATE);
    assertThat(run.status()).isEqualTo(ABORTED);
  }

  @Test
  public void recovery_resendsActionsInFlight() {
    Driver run = Driver.start(saga(gid(), "s1", "s2"));
    Decision d = run.advance(ofSeconds(1)).on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(BEGUN, RECOVERED));
    assertThat(d.effects()).containsExactly(run.call("s1", ACTION, 2));
    assertThat(run.status()).isEqualTo(BEGUN);
    assertThat(run.statuses(ACTION)).containsExactly(IN_FLIGHT, IDLE);
  }

  @Test
  public void recovery_resendsCompensationsInFlightAndWaiting() {
    Driver run = Driver.start(saga(gid(), step("a"), step("b"), step("c", "a", "b")));
    run.succeed("a", ACTION);
    run.succeed("b", ACTION);
    run.answer("c", ACTION, NO);
    run.succeed("c", COMPENSATE);
    run.answer("a", COMPENSATE, UNKNOWN);
    Decision d = run.on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(ABORTING, RECOVERED));
    assertThat(d.effects())
        .containsExactly(run.call("a", COMPENSATE, 2), run.call("b", COMPENSATE, 2));
  }

  @Test
  public void operatorRetry_callsWaitingActionNow() {
    Driver run = Driver.start(saga(gid(), "s1"));
    run.answer("s1", ACTION, UNKNOWN);
    Decision d = run.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OPERATOR_RETRY));
    assertThat(d.effects()).containsExactly(run.call("s1", ACTION, 2));
  }

  @Test
  public void operatorRetry_compensatesWaitingStepNow() {
    Driver run = Driver.start(saga(gid(), "s1"));
    run.answer("s1", ACTION, NO);
    run.answer("s1", COMPENSATE, UNKNOWN);
    Decision d = run.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(run.row(ABORTING, OPERATOR_RETRY));
    assertThat(d.effects()).containsExactly(run.call("s1", COMPENSATE, 2));
  }

  @Test
  public void dagSaga_runsIndependentStepsInParallel() {
    Driver run =
        Driver.start(saga(gid(), step("a"), step("b"), step("c", "a", "b"), step("d", "c")));
    assertThat(run.last().effects())
        .containsExactly(run.call("a", ACTION, 1), run.call("b", ACTION, 1));
    assertThat(run.statuses(ACTION)).containsExactly(IN_FLIGHT, IN_FLIGHT, IDLE, IDLE);

    Decision d = run.succeed("b", ACTION);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, OP_SUCCEEDED));
    assertThat(d.effects()).isEmpty(); // c still waits for a
    d = run.succeed("a", ACTION);
    assertThat(d.effects()).containsExactly(run.call("c", ACTION, 1));
    d = run.succeed("c", ACTION);
    assertThat(d.effects()).containsExactly(run.call("d", ACTION, 1));
    d = run.succeed("d", ACTION);
    assertThat(d.fired()).containsExactly(run.row(BEGUN, ALL_SUCCEEDED));
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void dagSaga_compensatesEveryStepBeforeTheStepsItRanAfter() {
    Driver run = Driver.start(saga(gid(), step("a"), step("b"), step("c", "a", "b")));
    run.succeed("a", ACTION);
    run.succeed("b", ACTION);
    Decision d = run.answer("c", ACTION, NO);
    assertThat(d.effects()).containsExactly(run.call("c", COMPENSATE, 1));
    d = run.succeed("c", COMPENSATE);
    // a and b are independent of each other: compensated in parallel.
    assertThat(d.effects())
        .containsExactly(run.call("a", COMPENSATE, 1), run.call("b", COMPENSATE, 1));
    d = run.succeed("b", COMPENSATE);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, OP_SUCCEEDED));
    assertThat(d.effects()).isEmpty();
    d = run.succeed("a", COMPENSATE);
    assertThat(d.fired()).containsExactly(run.row(ABORTING, ALL_SUCCEEDED));
    assertThat(run.statuses(COMPENSATE)).containsExactly(SUCCEEDED, SUCCEEDED, SUCCEEDED);
  }

  @Test
  public void dagSagaTimeout_skipsStepsThatNeverStarted() {
    Driver run =
        Driver.start(saga(gid(), step("a"), step("b"), step("c", "a"), step("d", "b", "c")));
    run.succeed("a", ACTION); // c starts; b hangs
    Decision d = run.at(T0.plusSeconds(60)).tick();
    assertThat(d.fired()).containsExactly(run.row(BEGUN, TIMEOUT));
    assertThat(run.statuses(ACTION)).containsExactly(SUCCEEDED, ABANDONED, ABANDONED, IDLE);
    assertThat(run.statuses(COMPENSATE)).containsExactly(IDLE, IN_FLIGHT, IN_FLIGHT, SKIPPED);
    assertThat(d.effects())
        .containsExactly(run.call("b", COMPENSATE, 1), run.call("c", COMPENSATE, 1));
    d = run.succeed("c", COMPENSATE);
    assertThat(d.effects()).containsExactly(run.call("a", COMPENSATE, 1));
  }

  @Test
  public void callerRequests_areRejected() {
    Driver run = Driver.start(saga(gid(), "s1"));
    assertThat(run.on(new Event.CommitRequested()).rejection())
        .isEqualTo("a saga commits by itself when every action has run");
    assertThat(run.on(new Event.AbortRequested()).rejection())
        .isEqualTo("a saga aborts by itself when an action fails or the timeout passes");
    assertThat(run.on(new Event.BranchRegistered(step("s2"))).rejection())
        .isEqualTo("saga steps are given when the transaction starts");
    assertThat(run.tx().version()).isEqualTo(1);
  }

  @Test
  public void finishedSaga_ignoresEverything() {
    Driver run = Driver.start(saga(gid(), "s1"));
    run.succeed("s1", ACTION);
    var committed = run.tx();
    for (Event event :
        new Event[] {
          new Event.Tick(),
          new Event.Recovered(),
          new Event.RetryNow(),
          new Event.OpCompleted("s1", ACTION, 1, NO),
          new Event.OpCompleted("s1", COMPENSATE, 1, Outcome.SUCCEEDED),
        }) {
      Decision d = run.advance(ofSeconds(100)).on(event);
      assertThat(d.fired()).isEmpty();
      assertThat(d.effects()).isEmpty();
      assertThat(d.next()).isSameAs(committed);
    }
  }

  /**
   * Lets attempt 1 of {@code stepId}'s action go unanswered past the call timeout, then sends
   * attempt 2 once its backoff has passed: attempt 1 is still unanswered.
   */
  private static void sendSecondAttemptOfOverdueAction(Driver run, String stepId) {
    run.at(T0.plusSeconds(10)).tick();
    assertThat(run.progress(stepId, ACTION).status()).isEqualTo(WAITING);
    Decision d = run.tickWhenDue();
    assertThat(d.effects()).containsExactly(run.call(stepId, ACTION, 2));
  }

  @Test
  public void stepsGetTheirOwnUrlAndPayload() {
    Driver run = Driver.start(saga(gid(), "s1"));
    assertThat(run.last().effects())
        .containsExactly(
            new dev.pledge.core.engine.Effect.CallOp(
                run.tx().gid(),
                dev.pledge.core.Mode.SAGA,
                "s1",
                ACTION,
                1,
                Specs.url("s1", ACTION),
                "{\"branch\":\"s1\"}"));
  }
}
