package dev.pledge.core.msg;

import static dev.pledge.core.OpStatus.ABANDONED;
import static dev.pledge.core.OpStatus.DEAD;
import static dev.pledge.core.OpStatus.FAILED;
import static dev.pledge.core.OpStatus.IDLE;
import static dev.pledge.core.OpStatus.IN_FLIGHT;
import static dev.pledge.core.OpStatus.SUCCEEDED;
import static dev.pledge.core.OpStatus.WAITING;
import static dev.pledge.core.Status.ABORTED;
import static dev.pledge.core.Status.COMMITTED;
import static dev.pledge.core.Status.COMMITTING;
import static dev.pledge.core.Status.PREPARED;
import static dev.pledge.core.engine.Specs.T0;
import static dev.pledge.core.engine.Specs.gid;
import static dev.pledge.core.engine.Specs.message;
import static dev.pledge.core.engine.Specs.msg;
import static dev.pledge.core.engine.Trigger.ABORT_REQUESTED;
import static dev.pledge.core.engine.Trigger.ALL_DELIVERED;
import static dev.pledge.core.engine.Trigger.CHECK_COMMITTED;
import static dev.pledge.core.engine.Trigger.CHECK_DUE;
import static dev.pledge.core.engine.Trigger.CHECK_PENDING;
import static dev.pledge.core.engine.Trigger.CHECK_ROLLED_BACK;
import static dev.pledge.core.engine.Trigger.COMMIT_REQUESTED;
import static dev.pledge.core.engine.Trigger.DELIVERED;
import static dev.pledge.core.engine.Trigger.KEY_TURN;
import static dev.pledge.core.engine.Trigger.OPERATOR_RETRY;
import static dev.pledge.core.engine.Trigger.OP_RETRY;
import static dev.pledge.core.engine.Trigger.RECOVERED;
import static dev.pledge.core.engine.Trigger.REDRIVEN;
import static dev.pledge.core.engine.Trigger.RETRY_BOUND_REACHED;
import static dev.pledge.core.engine.Trigger.RETRY_DUE;
import static dev.pledge.core.engine.Trigger.STALE_ANSWER;
import static dev.pledge.core.engine.Trigger.STARTED;
import static dev.pledge.core.engine.Trigger.SUBSCRIBERS_RESOLVED;
import static java.time.Duration.ofSeconds;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.tuple;

import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import dev.pledge.core.Progress;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Driver;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Specs;
import dev.pledge.core.spi.KeyQueues;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * The msg decider, one behaviour per test: prepare, commit or check-back, then deliveries. Message
 * ids are {@code <gid>#1, #2, …} in the order prepared.
 */
public class MsgDeciderTest {
  private static final Outcome UNKNOWN = new Outcome.Unknown("HTTP 500");
  private static final Outcome ROLLED_BACK = new Outcome.Failed("rolled_back");
  private static final Event SUBSCRIBED =
      new Event.SubscribersResolved(Map.of("orders", List.of("billing", "shipping")));

  /** A prepared msg transaction with one message, without a key, on topic {@code orders}. */
  private static Driver prepareOne(dev.pledge.core.Gid gid) {
    return Driver.start(msg(gid, message("orders", null, "placed")));
  }

  private static String id(Driver run, int index) {
    return run.tx().gid() + "#" + index;
  }

  @Test
  public void prepare_storesTheMessagesInvisible_untilTheTimeout() {
    Driver run =
        Driver.start(
            msg(gid(), message("orders", "o-1", "placed"), message("mail", null, "hello")));
    assertThat(run.last().fired()).containsExactly(run.row(null, STARTED));
    assertThat(run.last().effects()).isEmpty();
    assertThat(run.status()).isEqualTo(PREPARED);
    assertThat(run.tx().messages())
        .extracting(m -> m.messageId() + " " + m.topic() + " " + m.key() + " " + m.deliveries())
        .containsExactly(id(run, 1) + " orders o-1 []", id(run, 2) + " mail null []");
    assertThat(run.tx().check()).isEqualTo(Progress.IDLE);
    assertThat(run.tx().wakeAt()).isEqualTo(T0.plusSeconds(60));

    Decision d = run.at(T0.plusSeconds(60).minusMillis(1)).tick();
    assertThat(d.fired()).isEmpty();
    assertThat(d.effects()).isEmpty();
  }

  @Test
  public void producerCommit_logsTheDecision_thenResolvesSubscriptionsAndDelivers() {
    Driver run =
        Driver.start(
            msg(gid(), message("orders", "o-1", "placed"), message("mail", null, "hello")));
    Decision d = run.on(new Event.CommitRequested());
    assertThat(d.fired()).containsExactly(run.row(PREPARED, COMMIT_REQUESTED));
    assertThat(d.effects())
        .containsExactly(new Effect.ResolveSubscribers(run.tx().gid(), Set.of("orders", "mail")));
    assertThat(run.status()).isEqualTo(COMMITTING);

    d =
        run.on(
            new Event.SubscribersResolved(
                Map.of("orders", List.of("billing", "shipping"), "mail", List.of("smtp"))));
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, SUBSCRIBERS_RESOLVED));
    // The message without a key goes at once; the keyed one waits for its turn in its queues.
    assertThat(d.effects()).containsExactly(run.deliver(id(run, 2), "smtp", 1));
    d = run.on(new Event.KeyTurn(id(run, 1), "billing"));
    assertThat(d.fired()).containsExactly(run.row(COMMITTED, KEY_TURN));
    assertThat(d.effects()).containsExactly(run.deliver(id(run, 1), "billing", 1));
    assertThat(run.on(new Event.KeyTurn(id(run, 1), "shipping")).effects())
        .containsExactly(run.deliver(id(run, 1), "shipping", 1));
    assertThat(d.effects().get(0))
        .isEqualTo(
            new Effect.Deliver(
                run.tx().gid(),
                id(run, 1),
                "billing",
                1,
                "orders",
                "o-1",
                "{\"message\":\"placed\"}",
                Map.of()));
    assertThat(run.status()).isEqualTo(COMMITTED);
    assertThat(run.tx().isFinal()).isTrue();
    assertThat(run.tx().isSettled()).isFalse();

    d = run.deliveryAnswer(id(run, 1), "billing", Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(COMMITTED, DELIVERED));
    assertThat(d.effects()).isEmpty();
    run.deliveryAnswer(id(run, 2), "smtp", Outcome.SUCCEEDED);
    d = run.deliveryAnswer(id(run, 1), "shipping", Outcome.SUCCEEDED);
    assertThat(d.fired())
        .containsExactly(run.row(COMMITTED, DELIVERED), run.row(COMMITTED, ALL_DELIVERED));
    assertThat(run.deliveries())
        .containsExactly(
            id(run, 1) + " -> billing: SUCCEEDED",
            id(run, 1) + " -> shipping: SUCCEEDED",
            id(run, 2) + " -> smtp: SUCCEEDED");
    assertThat(run.tx().isSettled()).isTrue();
    assertThat(run.tx().wakeAt()).isNull();
  }

  @Test
  public void producerAbort_dropsTheMessages() {
    Driver run = prepareOne(gid());
    Decision d = run.on(new Event.AbortRequested());
    assertThat(d.fired()).containsExactly(run.row(PREPARED, ABORT_REQUESTED));
    assertThat(d.effects()).isEmpty();
    assertThat(run.status()).isEqualTo(ABORTED);
    assertThat(run.deliveries()).isEmpty();
    assertThat(run.tx().isSettled()).isTrue();
    assertThat(run.tx().wakeAt()).isNull();
  }

  @Test
  public void msgCheckBack_startsAtTimeout_andCommittedAnswerCommits() {
    Driver run = prepareOne(gid());
    Decision d = run.at(T0.plusSeconds(60)).tick();
    assertThat(d.fired()).containsExactly(run.row(PREPARED, CHECK_DUE));
    assertThat(d.effects()).containsExactly(run.checkBack(1));
    assertThat(run.tx().check()).isEqualTo(new Progress(IN_FLIGHT, 1, T0.plusSeconds(70), null));
    assertThat(run.status()).isEqualTo(PREPARED);

    d = run.advance(ofSeconds(1)).checkAnswer(Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(PREPARED, CHECK_COMMITTED));
    assertThat(d.effects())
        .containsExactly(new Effect.ResolveSubscribers(run.tx().gid(), Set.of("orders")));
    assertThat(run.status()).isEqualTo(COMMITTING);
    assertThat(run.tx().check().status()).isEqualTo(SUCCEEDED);

    d = run.on(SUBSCRIBED);
    assertThat(d.effects())
        .containsExactly(
            run.deliver(id(run, 1), "billing", 1), run.deliver(id(run, 1), "shipping", 1));
  }

  @Test
  public void checkBackRolledBack_dropsTheMessages_andALateCommitIsRejected() {
    Driver run = prepareOne(gid());
    run.at(T0.plusSeconds(60)).tick();
    Decision d = run.checkAnswer(ROLLED_BACK);
    assertThat(d.fired()).containsExactly(run.row(PREPARED, CHECK_ROLLED_BACK));
    assertThat(d.effects()).isEmpty();
    assertThat(run.status()).isEqualTo(ABORTED);
    assertThat(run.tx().check().status()).isEqualTo(FAILED);
    assertThat(run.tx().check().lastError()).isEqualTo("failed: rolled_back");
    // The producer's barrier now holds "rolled back": its commit cannot have happened, and the
    // coordinator would refuse it anyway.
    assertThat(run.on(new Event.CommitRequested()).rejection())
        .isEqualTo("cannot commit: the transaction is aborted");
    // A repeated abort is answered like the first.
    assertThat(run.on(new Event.AbortRequested()).isRejected()).isFalse();
  }

  @Test
  public void checkBackPending_asksAgainAfterBackoff() {
    Driver run = prepareOne(gid());
    run.at(T0.plusSeconds(60)).tick();
    Decision d = run.checkAnswer(Outcome.PENDING);
    assertThat(d.fired()).containsExactly(run.row(PREPARED, CHECK_PENDING));
    assertThat(d.effects()).isEmpty();
    assertThat(run.tx().check().status()).isEqualTo(WAITING);
    assertThat(run.tx().check().dueAt())
        .isBetween(run.now().plusMillis(160), run.now().plusMillis(200));
    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(PREPARED, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.checkBack(2));
  }

  @Test
  public void checkBackOverdue_isBackedOffThenAskedAgain() {
    Driver run = prepareOne(gid());
    run.at(T0.plusSeconds(60)).tick();
    Decision d = run.at(T0.plusSeconds(70).minusMillis(1)).tick();
    assertThat(d.fired()).isEmpty();
    assertThat(d.effects()).isEmpty();
    // No answer within the call timeout counts as unknown: asked again after the backoff.
    d = run.at(T0.plusSeconds(70)).tick();
    assertThat(d.fired()).containsExactly(run.row(PREPARED, CHECK_PENDING));
    assertThat(d.effects()).isEmpty();
    Progress waiting = run.tx().check();
    assertThat(waiting.status()).isEqualTo(WAITING);
    assertThat(waiting.attempts()).isEqualTo(1);
    assertThat(waiting.lastError()).isEqualTo("no answer within PT10S");
    assertThat(waiting.dueAt()).isBetween(run.now().plusMillis(160), run.now().plusMillis(200));
    assertThat(run.tx().wakeAt()).isEqualTo(waiting.dueAt());
    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(PREPARED, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.checkBack(2));
    assertThat(run.tx().check())
        .isEqualTo(new Progress(IN_FLIGHT, 2, run.now().plusSeconds(10), "no answer within PT10S"));
    assertThat(run.status()).isEqualTo(PREPARED);
  }

  @Test
  public void checkUrlThatNeverAnswers_isBackedOff_andFlaggedAfterBound() {
    Driver run = prepareOne(gid());
    run.at(T0.plusSeconds(60)).tick();
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    for (int attempt = 1; attempt < bound; attempt++) {
      Decision d = run.tickWhenDue();
      assertThat(d.fired()).containsExactly(run.row(PREPARED, CHECK_PENDING));
      assertThat(d.effects()).isEmpty();
      d = run.tickWhenDue();
      assertThat(d.fired()).containsExactly(run.row(PREPARED, RETRY_DUE));
      assertThat(d.effects()).containsExactly(run.checkBack(attempt + 1));
    }
    assertThat(run.tx().flag()).isNull();
    Decision d = run.tickWhenDue();
    assertThat(d.fired())
        .containsExactly(run.row(PREPARED, CHECK_PENDING), run.row(PREPARED, RETRY_BOUND_REACHED));
    assertThat(run.tx().flag()).isEqualTo("check has failed 10 attempts: no answer within PT10S");
    assertThat(run.status()).isEqualTo(PREPARED);
    d = run.tickWhenDue();
    assertThat(d.effects()).containsExactly(run.checkBack(bound + 1));
    run.checkAnswer(ROLLED_BACK);
    assertThat(run.status()).isEqualTo(ABORTED);
  }

  @Test
  public void checkBackUnknown_isRetried_andFlaggedAfterBound() {
    Driver run = prepareOne(gid());
    run.at(T0.plusSeconds(60)).tick();
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    for (int attempt = 1; attempt < bound; attempt++) {
      Decision d = run.checkAnswer(UNKNOWN);
      assertThat(d.fired()).containsExactly(run.row(PREPARED, CHECK_PENDING));
      run.tickWhenDue();
    }
    Decision d = run.checkAnswer(UNKNOWN);
    assertThat(d.fired())
        .containsExactly(run.row(PREPARED, CHECK_PENDING), run.row(PREPARED, RETRY_BOUND_REACHED));
    assertThat(run.tx().flag()).isEqualTo("check has failed 10 attempts: unknown: HTTP 500");
    d = run.tickWhenDue();
    assertThat(d.effects()).containsExactly(run.checkBack(bound + 1));
    run.checkAnswer(Outcome.SUCCEEDED);
    assertThat(run.status()).isEqualTo(COMMITTING);
  }

  @Test
  public void lateDefinitiveCheckAnswerToEarlierAttempt_isAccepted() {
    Driver run = prepareOne(gid());
    run.at(T0.plusSeconds(60)).tick();
    run.at(T0.plusSeconds(70)).tick(); // attempt 1 is overdue: backed off
    Decision d = run.tickWhenDue();
    assertThat(d.effects()).containsExactly(run.checkBack(2));
    d = run.on(new Event.CheckCompleted(1, ROLLED_BACK));
    assertThat(d.fired()).containsExactly(run.row(PREPARED, CHECK_ROLLED_BACK));
    assertThat(run.status()).isEqualTo(ABORTED);
  }

  @Test
  public void duplicateAnswer_isIgnored() {
    Driver run = prepareOne(gid());
    run.at(T0.plusSeconds(60)).tick();
    run.checkAnswer(Outcome.PENDING);
    Decision d = run.on(new Event.CheckCompleted(1, Outcome.PENDING));
    assertThat(d.fired()).containsExactly(run.row(PREPARED, STALE_ANSWER));
    assertThat(d.changes(run.tx())).isFalse();
    assertThat(run.on(new Event.OpCompleted("b1", Op.ACTION, 1, Outcome.SUCCEEDED)).fired())
        .containsExactly(run.row(PREPARED, STALE_ANSWER));
    assertThat(
            run.on(new Event.DeliveryCompleted(id(run, 1), "billing", 1, Outcome.SUCCEEDED))
                .fired())
        .containsExactly(run.row(PREPARED, STALE_ANSWER));
  }

  @Test
  public void lateCheckAnswerAfterProducerCommit_isIgnored() {
    Driver run = prepareOne(gid());
    run.at(T0.plusSeconds(60)).tick();
    // The producer's commit overtakes the check-back's answer.
    run.on(new Event.CommitRequested());
    assertThat(run.tx().check().status()).isEqualTo(ABANDONED);
    Decision d = run.on(new Event.CheckCompleted(1, ROLLED_BACK));
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, STALE_ANSWER));
    assertThat(run.status()).isEqualTo(COMMITTING);
    run.on(SUBSCRIBED);
    d = run.on(new Event.CheckCompleted(1, ROLLED_BACK));
    assertThat(d.fired()).containsExactly(run.row(COMMITTED, STALE_ANSWER));
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void lateCheckAnswerAfterProducerAbort_isIgnored() {
    Driver run = prepareOne(gid());
    run.at(T0.plusSeconds(60)).tick();
    run.on(new Event.AbortRequested());
    assertThat(run.tx().check().status()).isEqualTo(ABANDONED);
    Decision d = run.on(new Event.CheckCompleted(1, Outcome.SUCCEEDED));
    assertThat(d.fired()).isEmpty();
    assertThat(d.changes(run.tx())).isFalse();
    assertThat(run.status()).isEqualTo(ABORTED);
  }

  @Test
  public void msgCommitAfterDecision_isIdempotent_abortAfterCommitIsRejected() {
    Driver run = prepareOne(gid());
    run.on(new Event.CommitRequested());
    Decision d = run.on(new Event.CommitRequested());
    assertThat(d.isRejected()).isFalse();
    assertThat(d.effects()).isEmpty();
    assertThat(d.changes(run.tx())).isFalse();
    assertThat(run.on(new Event.AbortRequested()).rejection())
        .isEqualTo("cannot abort: the transaction is committing");
    run.on(SUBSCRIBED);
    assertThat(run.on(new Event.CommitRequested()).isRejected()).isFalse();
    assertThat(run.on(new Event.AbortRequested()).rejection())
        .isEqualTo("cannot abort: the transaction is committed");
    assertThat(run.on(new Event.BranchRegistered(Specs.tccBranch("b1"))).rejection())
        .isEqualTo("a msg transaction has messages, not branches");
  }

  @Test
  public void recoveryWhilePrepared_resendsTheCheckInFlight() {
    Driver run = prepareOne(gid());
    run.at(T0.plusSeconds(60)).tick();
    Decision d = run.advance(ofSeconds(1)).on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(PREPARED, RECOVERED));
    assertThat(d.effects()).containsExactly(run.checkBack(2));
  }

  @Test
  public void recoveryBeforeTheTimeout_asksNothingYet() {
    Driver run = prepareOne(gid());
    Decision d = run.on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(PREPARED, RECOVERED));
    assertThat(d.effects()).isEmpty();
    assertThat(d.changes(run.tx())).isFalse();
  }

  @Test
  public void recoveryWhileCommitting_resolvesSubscriptionsAgain() {
    Driver run = prepareOne(gid());
    run.on(new Event.CommitRequested());
    Decision d = run.on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, RECOVERED));
    assertThat(d.effects())
        .containsExactly(new Effect.ResolveSubscribers(run.tx().gid(), Set.of("orders")));
    assertThat(run.status()).isEqualTo(COMMITTING);
  }

  @Test
  public void operatorRetry_checksNow_evenBeforeTheTimeout() {
    Driver run = prepareOne(gid());
    Decision d = run.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(run.row(PREPARED, OPERATOR_RETRY));
    assertThat(d.effects()).containsExactly(run.checkBack(1));
    run.checkAnswer(Outcome.PENDING);
    d = run.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(run.row(PREPARED, OPERATOR_RETRY));
    assertThat(d.effects()).containsExactly(run.checkBack(2));
  }

  @Test
  public void keyedDeliveries_waitForTheirTurn_andATurnSendsOnlyAnIdleOne() {
    Driver run =
        Driver.start(
            msg(
                gid(),
                message("orders", "o-1", "placed"),
                message("orders", null, "audit"),
                message("orders", "o-1", "paid")));
    // Before the commit a turn changes nothing.
    Decision d = run.on(new Event.KeyTurn(id(run, 1), "billing"));
    assertThat(d.fired()).isEmpty();
    assertThat(d.effects()).isEmpty();
    run.on(new Event.CommitRequested());
    d = run.on(SUBSCRIBED);
    // Only the message without a key goes at once.
    assertThat(d.effects())
        .containsExactly(
            run.deliver(id(run, 2), "billing", 1), run.deliver(id(run, 2), "shipping", 1));
    d = run.on(new Event.KeyTurn(id(run, 1), "billing"));
    assertThat(d.fired()).containsExactly(run.row(COMMITTED, KEY_TURN));
    assertThat(d.effects()).containsExactly(run.deliver(id(run, 1), "billing", 1));
    // A turn for a delivery already sent, one without a key, or an unknown one: nothing.
    for (Event turn :
        List.of(
            new Event.KeyTurn(id(run, 1), "billing"),
            new Event.KeyTurn(id(run, 2), "billing"),
            new Event.KeyTurn(id(run, 1), "nobody"),
            new Event.KeyTurn("other#1", "billing"))) {
      d = run.on(turn);
      assertThat(d.fired()).isEmpty();
      assertThat(d.effects()).isEmpty();
      assertThat(d.changes(run.tx())).isFalse();
    }
    // An acknowledgement sends nothing by itself: the runtime gives the next in the queue its turn.
    d = run.deliveryAnswer(id(run, 1), "billing", Outcome.SUCCEEDED);
    assertThat(d.fired()).containsExactly(run.row(COMMITTED, DELIVERED));
    assertThat(d.effects()).isEmpty();
    assertThat(run.deliveries())
        .containsExactly(
            id(run, 1) + " -> billing: SUCCEEDED",
            id(run, 1) + " -> shipping: IDLE",
            id(run, 2) + " -> billing: IN_FLIGHT",
            id(run, 2) + " -> shipping: IN_FLIGHT",
            id(run, 3) + " -> billing: IDLE",
            id(run, 3) + " -> shipping: IDLE");
    // A waiting keyed delivery is not due: nothing wakes the transaction for it.
    run.deliveryAnswer(id(run, 2), "billing", Outcome.SUCCEEDED);
    run.deliveryAnswer(id(run, 2), "shipping", Outcome.SUCCEEDED);
    assertThat(run.tx().wakeAt()).isNull();
    assertThat(run.tx().isSettled()).isFalse();
  }

  @Test
  public void topicWithoutSubscription_commitsWithNothingToDeliver() {
    Driver run = prepareOne(gid());
    run.on(new Event.CommitRequested());
    Decision d = run.on(new Event.SubscribersResolved(Map.of()));
    assertThat(d.fired()).containsExactly(run.row(COMMITTING, SUBSCRIBERS_RESOLVED));
    assertThat(d.effects()).isEmpty();
    assertThat(run.status()).isEqualTo(COMMITTED);
    assertThat(run.tx().isSettled()).isTrue();
  }

  @Test
  public void unacknowledgedDelivery_isRetried_thenDeadAfterBound_andNotSentAgain() {
    Driver run = prepareOne(gid());
    run.on(new Event.CommitRequested());
    run.on(SUBSCRIBED);
    run.deliveryAnswer(id(run, 1), "shipping", Outcome.SUCCEEDED);
    Decision d = run.deliveryAnswer(id(run, 1), "billing", new Outcome.Failed("HTTP 400"));
    assertThat(d.fired()).containsExactly(run.row(COMMITTED, OP_RETRY));
    assertThat(run.delivery(id(run, 1), "billing").status()).isEqualTo(WAITING);
    d = run.tickWhenDue();
    assertThat(d.fired()).containsExactly(run.row(COMMITTED, RETRY_DUE));
    assertThat(d.effects()).containsExactly(run.deliver(id(run, 1), "billing", 2));
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    for (int attempt = 2; attempt < bound; attempt++) {
      run.deliveryAnswer(id(run, 1), "billing", UNKNOWN);
      run.tickWhenDue();
    }
    d = run.deliveryAnswer(id(run, 1), "billing", UNKNOWN);
    assertThat(d.fired())
        .containsExactly(run.row(COMMITTED, OP_RETRY), run.row(COMMITTED, RETRY_BOUND_REACHED));
    assertThat(d.effects()).isEmpty();
    assertThat(run.delivery(id(run, 1), "billing"))
        .isEqualTo(new Progress(DEAD, bound, null, "unknown: HTTP 500"));
    assertThat(run.tx().deadSubscriptions()).containsExactly("billing");
    assertThat(run.tx().flag()).isNull();
    assertThat(run.tx().wakeAt()).isNull();
    assertThat(run.tx().isSettled()).isTrue();
    assertThat(run.at(run.now().plusSeconds(3600)).tick().effects()).isEmpty();
    assertThat(run.on(new Event.Recovered()).effects()).isEmpty();
    assertThat(run.on(new Event.RetryNow()).effects()).isEmpty();
  }

  @Test
  public void deliveryNeverAcknowledged_isBackedOff_andDeadAfterBound() {
    Driver run = prepareOne(gid());
    run.on(new Event.CommitRequested());
    run.on(SUBSCRIBED);
    run.deliveryAnswer(id(run, 1), "shipping", Outcome.SUCCEEDED);
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    // billing never answers: each delivery is overdue at the call timeout, then backed off.
    for (int attempt = 1; attempt < bound; attempt++) {
      Decision d = run.tickWhenDue();
      assertThat(d.fired()).containsExactly(run.row(COMMITTED, OP_RETRY));
      assertThat(d.effects()).isEmpty();
      assertThat(run.delivery(id(run, 1), "billing"))
          .extracting(Progress::status, Progress::attempts, Progress::lastError)
          .containsExactly(WAITING, attempt, "no answer within PT10S");
      d = run.tickWhenDue();
      assertThat(d.fired()).containsExactly(run.row(COMMITTED, RETRY_DUE));
      assertThat(d.effects()).containsExactly(run.deliver(id(run, 1), "billing", attempt + 1));
    }
    Decision d = run.tickWhenDue();
    assertThat(d.fired())
        .containsExactly(run.row(COMMITTED, OP_RETRY), run.row(COMMITTED, RETRY_BOUND_REACHED));
    assertThat(d.effects()).isEmpty();
    assertThat(run.delivery(id(run, 1), "billing"))
        .isEqualTo(new Progress(DEAD, bound, null, "no answer within PT10S"));
    assertThat(run.tx().isSettled()).isTrue();
    // The late answer of the last attempt changes nothing: the letter is dead until re-driven.
    assertThat(run.deliveryAnswer(id(run, 1), "billing", Outcome.SUCCEEDED).fired())
        .containsExactly(run.row(COMMITTED, STALE_ANSWER));
    assertThat(run.delivery(id(run, 1), "billing").status()).isEqualTo(DEAD);
  }

  @Test
  public void redrive_sendsADeadLetterAgain_withAFreshBudget() {
    Driver run = deadBilling();
    Decision d = run.on(new Event.Redrive(id(run, 1), "billing"));
    assertThat(d.fired()).containsExactly(run.row(COMMITTED, REDRIVEN));
    assertThat(d.effects()).containsExactly(run.deliver(id(run, 1), "billing", 1));
    assertThat(run.tx().isSettled()).isFalse();
    assertThat(run.tx().deadSubscriptions()).isEmpty();
    d = run.deliveryAnswer(id(run, 1), "billing", Outcome.SUCCEEDED);
    assertThat(d.fired())
        .containsExactly(run.row(COMMITTED, DELIVERED), run.row(COMMITTED, ALL_DELIVERED));
    assertThat(run.deliveries())
        .containsExactly(
            id(run, 1) + " -> billing: SUCCEEDED", id(run, 1) + " -> shipping: SUCCEEDED");
    assertThat(run.tx().isSettled()).isTrue();
  }

  @Test
  public void redrive_ofADeliveryThatIsNotDead_isRefused() {
    Driver run = prepareOne(gid());
    run.on(new Event.CommitRequested());
    run.on(SUBSCRIBED);
    Decision d = run.on(new Event.Redrive(id(run, 1), "billing"));
    assertThat(d.rejection())
        .isEqualTo("the delivery of " + id(run, 1) + " to billing is not dead: it is in-flight");
    assertThat(run.on(new Event.Redrive(id(run, 1), "nobody")).rejection())
        .isEqualTo("no delivery of " + id(run, 1) + " to nobody");
    assertThat(run.on(new Event.Redrive("other#1", "billing")).rejection())
        .isEqualTo("no delivery of other#1 to billing");
  }

  @Test
  public void deadLetter_leavesItsKeyQueue_andReDrivenJoinsItsTail() {
    Driver run =
        Driver.start(
            msg(gid(), message("orders", "o-1", "placed"), message("orders", "o-1", "paid")));
    run.on(new Event.CommitRequested());
    Decision d = run.on(new Event.SubscribersResolved(Map.of("orders", List.of("billing"))));
    assertThat(d.effects()).isEmpty();
    assertThat(KeyQueues.entries(run.tx()))
        .extracting(KeyQueues.Entry::messageId, KeyQueues.Entry::place)
        .containsExactly(
            tuple(id(run, 1), KeyQueues.Place.QUEUED), tuple(id(run, 2), KeyQueues.Place.QUEUED));
    d = run.on(new Event.KeyTurn(id(run, 1), "billing"));
    assertThat(d.effects()).containsExactly(run.deliver(id(run, 1), "billing", 1));
    int bound = RetryPolicy.DEFAULT.flagAfterAttempts();
    for (int attempt = 1; attempt < bound; attempt++) {
      run.deliveryAnswer(id(run, 1), "billing", UNKNOWN);
      assertThat(KeyQueues.entries(run.tx()).get(0).place()).isEqualTo(KeyQueues.Place.STARTED);
      assertThat(run.tickWhenDue().effects())
          .containsExactly(run.deliver(id(run, 1), "billing", attempt + 1));
    }
    d = run.deliveryAnswer(id(run, 1), "billing", UNKNOWN);
    assertThat(run.delivery(id(run, 1), "billing").status()).isEqualTo(DEAD);
    assertThat(d.effects()).isEmpty();
    assertThat(KeyQueues.entries(run.tx()).get(0).place()).isEqualTo(KeyQueues.Place.OUT);
    assertThat(run.on(new Event.KeyTurn(id(run, 2), "billing")).effects())
        .containsExactly(run.deliver(id(run, 2), "billing", 1));
    // Re-driven, the dead letter is queued again (the log puts it at the tail) and waits its turn.
    d = run.on(new Event.Redrive(id(run, 1), "billing"));
    assertThat(d.fired()).containsExactly(run.row(COMMITTED, REDRIVEN));
    assertThat(d.effects()).isEmpty();
    assertThat(KeyQueues.entries(run.tx()).get(0).place()).isEqualTo(KeyQueues.Place.QUEUED);
    run.deliveryAnswer(id(run, 2), "billing", Outcome.SUCCEEDED);
    assertThat(run.on(new Event.KeyTurn(id(run, 1), "billing")).effects())
        .containsExactly(run.deliver(id(run, 1), "billing", 1));
  }

  /** A committed transaction whose delivery to billing is dead and to shipping acknowledged. */
  private static Driver deadBilling() {
    Driver run = prepareOne(gid());
    run.on(new Event.CommitRequested());
    run.on(SUBSCRIBED);
    run.deliveryAnswer(id(run, 1), "shipping", Outcome.SUCCEEDED);
    for (int attempt = 1; attempt <= RetryPolicy.DEFAULT.flagAfterAttempts(); attempt++) {
      run.deliveryAnswer(id(run, 1), "billing", UNKNOWN);
      if (run.delivery(id(run, 1), "billing").status() != DEAD) {
        run.tickWhenDue();
      }
    }
    assertThat(run.delivery(id(run, 1), "billing").status()).isEqualTo(DEAD);
    return run;
  }

  @Test
  public void duplicateDeliveryAnswer_isIgnored() {
    Driver run = prepareOne(gid());
    run.on(new Event.CommitRequested());
    run.on(SUBSCRIBED);
    run.deliveryAnswer(id(run, 1), "billing", Outcome.SUCCEEDED);
    Decision d = run.on(new Event.DeliveryCompleted(id(run, 1), "billing", 1, Outcome.SUCCEEDED));
    assertThat(d.fired()).containsExactly(run.row(COMMITTED, STALE_ANSWER));
    assertThat(d.changes(run.tx())).isFalse();
    assertThat(
            run.on(new Event.DeliveryCompleted(id(run, 1), "nobody", 1, Outcome.SUCCEEDED)).fired())
        .containsExactly(run.row(COMMITTED, STALE_ANSWER));
    assertThat(
            run.on(new Event.DeliveryCompleted("other#1", "billing", 1, Outcome.SUCCEEDED)).fired())
        .containsExactly(run.row(COMMITTED, STALE_ANSWER));
    // A repeated resolution does not fan out twice.
    d = run.on(SUBSCRIBED);
    assertThat(d.fired()).containsExactly(run.row(COMMITTED, STALE_ANSWER));
    assertThat(d.effects()).isEmpty();
    assertThat(run.deliveries())
        .containsExactly(
            id(run, 1) + " -> billing: SUCCEEDED", id(run, 1) + " -> shipping: IN_FLIGHT");
  }

  @Test
  public void recoveryAfterCommit_resendsDeliveriesInFlight() {
    Driver run = prepareOne(gid());
    run.on(new Event.CommitRequested());
    run.on(SUBSCRIBED);
    run.deliveryAnswer(id(run, 1), "billing", Outcome.SUCCEEDED);
    Decision d = run.advance(ofSeconds(1)).on(new Event.Recovered());
    assertThat(d.fired()).containsExactly(run.row(COMMITTED, RECOVERED));
    assertThat(d.effects()).containsExactly(run.deliver(id(run, 1), "shipping", 2));
    run.deliveryAnswer(id(run, 1), "shipping", Outcome.SUCCEEDED);
    // Once everything is acknowledged, recovery has nothing to do.
    d = run.on(new Event.Recovered());
    assertThat(d.fired()).isEmpty();
    assertThat(d.effects()).isEmpty();
  }

  @Test
  public void operatorRetry_deliversWaitingMessagesNow() {
    Driver run = prepareOne(gid());
    run.on(new Event.CommitRequested());
    run.on(SUBSCRIBED);
    run.deliveryAnswer(id(run, 1), "billing", UNKNOWN);
    Decision d = run.on(new Event.RetryNow());
    assertThat(d.fired()).containsExactly(run.row(COMMITTED, OPERATOR_RETRY));
    assertThat(d.effects())
        .containsExactly(
            run.deliver(id(run, 1), "billing", 2), run.deliver(id(run, 1), "shipping", 2));
    assertThat(run.deliveries())
        .containsExactly(
            id(run, 1) + " -> billing: IN_FLIGHT", id(run, 1) + " -> shipping: IN_FLIGHT");
    assertThat(run.delivery(id(run, 1), "billing").status()).isEqualTo(IN_FLIGHT);
    assertThat(run.delivery(id(run, 1), "shipping").attempts()).isEqualTo(2);
    assertThat(run.tx().check().status()).isEqualTo(IDLE);
  }
}
