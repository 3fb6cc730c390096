package dev.pledge.core.lra;

import static dev.pledge.core.Op.AFTER;
import static dev.pledge.core.Op.COMPENSATE;
import static dev.pledge.core.Op.COMPLETE;
import static dev.pledge.core.Op.FORGET;
import static dev.pledge.core.Op.STATUS;
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
import static dev.pledge.core.Status.COMMITTING;
import static dev.pledge.core.Status.PREPARED;
import static dev.pledge.core.engine.Specs.T0;
import static dev.pledge.core.engine.Specs.gid;
import static dev.pledge.core.engine.Specs.lra;
import static dev.pledge.core.engine.Specs.participant;
import static dev.pledge.core.engine.Trigger.ABORT_REQUESTED;
import static dev.pledge.core.engine.Trigger.ALL_ENDED;
import static dev.pledge.core.engine.Trigger.BRANCH_LEFT;
import static dev.pledge.core.engine.Trigger.BRANCH_REGISTERED;
import static dev.pledge.core.engine.Trigger.COMMIT_REQUESTED;
import static dev.pledge.core.engine.Trigger.NESTED_CLOSE_REQUESTED;
import static dev.pledge.core.engine.Trigger.OPERATOR_RETRY;
import static dev.pledge.core.engine.Trigger.OP_FAILED_FINALLY;
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
import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import dev.pledge.core.Status;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Driver;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Specs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** The lra decider, one behaviour per test. Participants are named {@code p1, p2, …}. */
public class LraDeciderTest {
  private static final Outcome UNKNOWN = new Outcome.Unknown("connection reset");
  private static final Outcome FAILED_TO_COMPLETE = new Outcome.Failed("FailedToComplete");
  private static final Outcome FAILED_TO_COMPENSATE = new Outcome.Failed("FailedToCompensate");

  /** Starts an LRA (no time limit) and joins {@code participants}, in order. */
  private static Driver openWith(Gid gid, BranchSpec... participants) {
    return open(gid, null, participants);
  }

  private static Driver open(Gid gid, Duration timeLimit, BranchSpec... participants) {
    Driver run = Driver.start(lra(gid, timeLimit));
    for (BranchSpec participant : participants) {
      run.advance(ofMillis(5)).on(new Event.BranchRegistered(participant));
    }
    return run;
  }

  private static Driver open(Gid gid, String... participantIds) {
    List<BranchSpec> participants = new ArrayList<>();
    for (String id : participantIds) {
      participants.add(participant(id));
    }
    return open(gid, null, participants.toArray(BranchSpec[]::new));
  }

  private static Gid nested(Gid parent) {
    return Gid.of(parent.value() + ".n1");
  }

  /** The calls a decision asked for, as {@code "<branch> <op>"}. */
  private static List<String> calls(Decision decision) {
    List<String> calls = new ArrayList<>();
    for (Effect effect : decision.effects()) {
      Effect.CallOp call = (Effect.CallOp) effect;
      calls.add(call.branchId() + " " + call.op().label());
    }
    return calls;
  }

  private static Effect.CallOp onlyCall(Decision decision) {
    assertThat(decision.effects()).hasSize(1);
    return (Effect.CallOp) decision.effects().get(0);
  }

  @Test
  public void start_opensTheLra_andCallsNothing_withoutTimeLimitNoWakeUpSoon() {
    Driver run = Driver.start(lra(gid(), null));
    assertThat(run.last().fired()).containsExactly(run.row(null, STARTED));
    assertThat(run.last().effects()).isEmpty();
    assertThat(run.status()).isEqualTo(BEGUN);
    assertThat(LraDecider.lraStatus(run.tx())).isEqualTo("Active");
    assertThat(run.tx().wakeAt()).isAfter(T0.plus(Duration.ofDays(365 * 50)));
  }

  @Test
  public void join_recordsParticipantsInOrder_sameParticipantAgainChangesNothing() {
    Driver run = open(gid(), "p1", "p2");
    assertThat(run.fired()).contains(run.row(BEGUN, BRANCH_REGISTERED));
    assertThat(run.tx().branches()).extracting(b -> b.branchId()).containsExactly("p1", "p2");
    long version = run.tx().version();
    Decision again = run.on(new Event.BranchRegistered(participant("p1")));
    assertThat(again.isRejected()).isFalse();
    assertThat(run.tx().version()).isEqualTo(version);
  }

  @Test
  public void join_ofAParticipantAlreadyIn_isRejectedOnceTheLraIsEnding() {
    Driver run = open(gid(), "p1");
    run.on(new Event.AbortRequested());
    assertThat(run.on(new Event.BranchRegistered(participant("p1"))).rejection())
        .contains("too late to join");
    run.succeed("p1", COMPENSATE);
    run.succeed("p1", AFTER);
    assertThat(run.status()).isEqualTo(ABORTED);
    assertThat(run.on(new Event.BranchRegistered(participant("p1"))).isRejected()).isTrue();
  }

  @Test
  public void join_ofAParticipantAlreadyIn_aNestedLraClosedProvisionally_isAccepted() {
    Driver run = open(nested(gid()), "p1");
    run.on(new Event.CommitRequested());
    run.succeed("p1", COMPLETE);
    assertThat(run.status()).isEqualTo(PREPARED);
    assertThat(run.on(new Event.BranchRegistered(participant("p1"))).isRejected()).isFalse();
    assertThat(run.on(new Event.BranchRegistered(participant("p2"))).isRejected()).isTrue();
  }

  @Test
  public void join_withNoUrlOrABadUrl_isRejected() {
    Driver run = openWith(gid());
    assertThat(run.on(new Event.BranchRegistered(participant("p1", new Op[0]))).rejection())
        .contains("at least one URL");
    BranchSpec bad =
        new BranchSpec("p2", java.util.Map.of(COMPLETE, "ftp://x/complete"), "", List.of());
    assertThat(run.on(new Event.BranchRegistered(bad)).isRejected()).isTrue();
    assertThat(run.tx().branches()).isEmpty();
  }

  @Test
  public void leave_removesTheParticipant_whichIsThenCalledForNothing() {
    Driver run = open(gid(), "p1", "p2");
    Decision left = run.on(new Event.BranchLeft("p1"));
    assertThat(left.fired()).containsExactly(run.row(BEGUN, BRANCH_LEFT));
    Decision close = run.on(new Event.CommitRequested());
    assertThat(calls(close)).containsExactly("p2 complete");
    assertThat(run.on(new Event.BranchLeft("p2")).rejection()).contains("too late to leave");
  }

  @Test
  public void close_completesEveryParticipantAtOnce_thenAfterCallbacksWithClosed() {
    Driver run = open(gid(), "p1", "p2");
    Decision close = run.on(new Event.CommitRequested());
    assertThat(close.fired()).containsExactly(run.row(BEGUN, COMMIT_REQUESTED));
    assertThat(calls(close)).containsExactly("p1 complete", "p2 complete");
    assertThat(onlyCallOf(close, "p1").payload()).isEqualTo(Specs.payload("p1"));
    assertThat(LraDecider.lraStatus(run.tx())).isEqualTo("Closing");
    Decision first = run.succeed("p1", COMPLETE);
    assertThat(first.fired()).containsExactly(run.row(COMMITTING, OP_SUCCEEDED));
    assertThat(first.effects()).isEmpty(); // after callbacks wait for every completion
    Decision second = run.succeed("p2", COMPLETE);
    assertThat(calls(second)).containsExactly("p1 after", "p2 after");
    assertThat(onlyCallOf(second, "p1").payload()).isEqualTo("Closed");
    run.succeed("p1", AFTER);
    Decision last = run.succeed("p2", AFTER);
    assertThat(last.fired()).contains(run.row(COMMITTING, ALL_ENDED));
    assertThat(run.status()).isEqualTo(COMMITTED);
    assertThat(LraDecider.lraStatus(run.tx())).isEqualTo("Closed");
    assertThat(run.statuses(FORGET)).containsExactly(IDLE, IDLE); // nothing to forget
  }

  @Test
  public void afterListener_mayJoinWhileTheLraEnds_othersMayNot() {
    for (Status phase : List.of(COMMITTING, ABORTING)) {
      Driver run = open(Gid.of("listener-" + phase.label()), "p1");
      run.on(phase == COMMITTING ? new Event.CommitRequested() : new Event.AbortRequested());
      assertThat(run.on(new Event.BranchRegistered(participant("p2"))).rejection())
          .contains("too late to join");
      Decision joined = run.on(new Event.BranchRegistered(participant("l1", AFTER)));
      assertThat(joined.fired()).containsExactly(run.row(phase, BRANCH_REGISTERED));
      assertThat(joined.effects()).isEmpty(); // the after callbacks wait for p1
      Decision done = run.succeed("p1", phase == COMMITTING ? COMPLETE : COMPENSATE);
      assertThat(calls(done)).containsExactly("p1 after", "l1 after");
      run.succeed("p1", AFTER);
      run.succeed("l1", AFTER);
      assertThat(run.status()).isEqualTo(phase == COMMITTING ? COMMITTED : ABORTED);
      assertThat(run.on(new Event.BranchRegistered(participant("l2", AFTER))).isRejected())
          .isTrue();
    }
  }

  @Test
  public void cancel_compensatesOneAtATime_inReverseJoinOrder() {
    Driver run = open(gid(), "p1", "p2", "p3");
    Decision cancel = run.on(new Event.AbortRequested());
    assertThat(cancel.fired()).containsExactly(run.row(BEGUN, ABORT_REQUESTED));
    assertThat(calls(cancel)).containsExactly("p3 compensate");
    assertThat(calls(run.succeed("p3", COMPENSATE))).containsExactly("p2 compensate");
    assertThat(run.on(new Event.OpCompleted("p3", COMPENSATE, 1, Outcome.SUCCEEDED)).fired())
        .containsExactly(run.row(ABORTING, STALE_ANSWER)); // a duplicate
    assertThat(calls(run.succeed("p2", COMPENSATE))).containsExactly("p1 compensate");
    Decision last = run.succeed("p1", COMPENSATE);
    assertThat(calls(last)).containsExactly("p1 after", "p2 after", "p3 after");
    assertThat(onlyCallOf(last, "p2").payload()).isEqualTo("Cancelled");
    run.succeed("p1", AFTER);
    run.succeed("p2", AFTER);
    Decision end = run.succeed("p3", AFTER);
    assertThat(end.fired()).contains(run.row(ABORTING, ALL_ENDED));
    assertThat(run.status()).isEqualTo(ABORTED);
    assertThat(LraDecider.lraStatus(run.tx())).isEqualTo("Cancelled");
  }

  @Test
  public void participantsWithoutTheOpsUrl_areSkipped() {
    Driver run = openWith(gid(), participant("p1", COMPENSATE), participant("p2", AFTER));
    Decision close = run.on(new Event.CommitRequested());
    assertThat(calls(close)).containsExactly("p2 after");
    assertThat(run.statuses(COMPLETE)).containsExactly(SKIPPED, SKIPPED);
    run.succeed("p2", AFTER);
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void closeOrCancelWithNoParticipant_endsAtOnce() {
    Driver closed = openWith(gid());
    closed.on(new Event.CommitRequested());
    assertThat(closed.status()).isEqualTo(COMMITTED);
    Driver cancelled = openWith(Gid.of("cancelWithNoParticipant"));
    cancelled.on(new Event.AbortRequested());
    assertThat(cancelled.status()).isEqualTo(ABORTED);
  }

  @Test
  public void timeLimit_cancels_onlyOnceItIsReached() {
    Driver run = open(gid(), ofSeconds(5), participant("p1"), participant("p2"));
    assertThat(run.tx().wakeAt()).isEqualTo(T0.plusSeconds(5));
    run.at(T0.plusSeconds(4)).tick();
    assertThat(run.status()).isEqualTo(BEGUN);
    Decision timeout = run.tickWhenDue();
    assertThat(timeout.fired()).containsExactly(run.row(BEGUN, TIMEOUT));
    assertThat(calls(timeout)).containsExactly("p2 compensate");
  }

  @Test
  public void recoveryOfAnOpenLra_keepsItOpen() {
    Driver run = open(gid(), "p1");
    Decision recovered = run.on(new Event.Recovered());
    assertThat(recovered.fired()).containsExactly(run.row(BEGUN, RECOVERED));
    assertThat(recovered.effects()).isEmpty();
    assertThat(run.status()).isEqualTo(BEGUN);
  }

  @Test
  public void answersWhileOpen_orToNoCall_areIgnored() {
    Driver run = open(gid(), "p1");
    Decision stale = run.on(new Event.OpCompleted("p1", COMPLETE, 1, Outcome.SUCCEEDED));
    assertThat(stale.fired()).containsExactly(run.row(BEGUN, STALE_ANSWER));
    run.on(new Event.CommitRequested());
    assertThat(run.on(new Event.OpCompleted("p1", COMPENSATE, 1, Outcome.SUCCEEDED)).fired())
        .containsExactly(run.row(COMMITTING, STALE_ANSWER));
    assertThat(run.on(new Event.OpCompleted("nobody", COMPLETE, 1, Outcome.SUCCEEDED)).fired())
        .containsExactly(run.row(COMMITTING, STALE_ANSWER));
    run.succeed("p1", COMPLETE);
    assertThat(run.on(new Event.OpCompleted("p1", COMPLETE, 1, Outcome.SUCCEEDED)).fired())
        .containsExactly(run.row(COMMITTING, STALE_ANSWER));
  }

  @Test
  public void accepted202_pollsTheStatusUrl_untilAnEnd_thenForgets() {
    Driver run = open(gid(), "p1");
    run.on(new Event.CommitRequested());
    Decision accepted = run.answer("p1", COMPLETE, Outcome.PENDING);
    assertThat(accepted.fired()).containsExactly(run.row(COMMITTING, OP_RETRY));
    assertThat(run.progress("p1", COMPLETE).status()).isEqualTo(WAITING);
    Decision poll = run.tickWhenDue();
    assertThat(poll.fired()).containsExactly(run.row(COMMITTING, RETRY_DUE));
    Effect.CallOp status = onlyCall(poll);
    assertThat(status.op()).isEqualTo(STATUS);
    assertThat(status.url()).isEqualTo(Specs.url("p1", STATUS));
    assertThat(run.progress("p1", STATUS).status()).isEqualTo(IN_FLIGHT);
    run.answer("p1", STATUS, status.attempt(), Outcome.PENDING); // Completing
    Effect.CallOp again = onlyCall(run.tickWhenDue());
    assertThat(again.op()).isEqualTo(STATUS);
    Decision completed = run.answer("p1", STATUS, again.attempt(), Outcome.SUCCEEDED);
    assertThat(run.progress("p1", COMPLETE).status()).isEqualTo(SUCCEEDED);
    assertThat(run.progress("p1", STATUS).status()).isEqualTo(ABANDONED);
    assertThat(calls(completed)).containsExactly("p1 forget"); // it had to remember: forget
    assertThat(calls(run.succeed("p1", FORGET))).containsExactly("p1 after");
    run.succeed("p1", AFTER);
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void httpErrorOnComplete_asksForTheStatus_notTheOpAgain_andForgetsOnlyOnceItKnows() {
    Driver run = open(gid(), "p1");
    run.on(new Event.CommitRequested());
    run.answer("p1", COMPLETE, new Outcome.Unknown("HTTP 503"));
    Effect.CallOp status = onlyCall(run.on(new Event.RetryNow()));
    assertThat(status.op()).isEqualTo(STATUS);
    // The status endpoint fails as well: asked again, never told to forget meanwhile.
    Decision stillFailing =
        run.answer("p1", STATUS, status.attempt(), new Outcome.Unknown("HTTP 503"));
    assertThat(calls(stillFailing)).isEmpty();
    Effect.CallOp again = onlyCall(run.on(new Event.RetryNow()));
    assertThat(again.op()).isEqualTo(STATUS);
    Decision known = run.answer("p1", STATUS, again.attempt(), FAILED_TO_COMPLETE);
    assertThat(run.progress("p1", COMPLETE).status()).isEqualTo(FAILED);
    assertThat(calls(known)).containsExactly("p1 forget");
    run.succeed("p1", FORGET);
    run.succeed("p1", AFTER);
    assertThat(LraDecider.lraStatus(run.tx())).isEqualTo("FailedToClose");
  }

  @Test
  public void noAnswerOnComplete_sendsTheOpAgain() {
    Driver run = open(gid(), "p1");
    run.on(new Event.CommitRequested());
    run.answer("p1", COMPLETE, UNKNOWN);
    assertThat(onlyCall(run.on(new Event.RetryNow())).op()).isEqualTo(COMPLETE);
  }

  @Test
  public void accepted202_withoutStatusUrl_sendsTheOpAgain() {
    Driver run = openWith(gid(), participant("p1", COMPENSATE));
    run.on(new Event.AbortRequested());
    run.answer("p1", COMPENSATE, Outcome.PENDING);
    Effect.CallOp again = onlyCall(run.tickWhenDue());
    assertThat(again.op()).isEqualTo(COMPENSATE);
    assertThat(again.attempt()).isEqualTo(2);
    run.succeed("p1", COMPENSATE);
    assertThat(run.status()).isEqualTo(ABORTED);
  }

  @Test
  public void failedToComplete_isFinal_forgotten_andTheLraFailsToClose() {
    Driver run = open(gid(), "p1", "p2");
    run.on(new Event.CommitRequested());
    Decision failed = run.answer("p1", COMPLETE, FAILED_TO_COMPLETE);
    assertThat(failed.fired()).containsExactly(run.row(COMMITTING, OP_FAILED_FINALLY));
    assertThat(run.progress("p1", COMPLETE).status()).isEqualTo(FAILED);
    assertThat(calls(run.succeed("p2", COMPLETE))).containsExactly("p1 forget");
    Decision afters = run.succeed("p1", FORGET);
    assertThat(onlyCallOf(afters, "p1").payload()).isEqualTo("FailedToClose");
    run.succeed("p1", AFTER);
    run.succeed("p2", AFTER);
    assertThat(run.status()).isEqualTo(COMMITTED);
    assertThat(LraDecider.lraStatus(run.tx())).isEqualTo("FailedToClose");
  }

  @Test
  public void failedToCompensate_movesOnToTheNext_andTheLraFailsToCancel() {
    Driver run = open(gid(), "p1", "p2");
    run.on(new Event.AbortRequested());
    Decision failed = run.answer("p2", COMPENSATE, FAILED_TO_COMPENSATE);
    assertThat(failed.fired()).containsExactly(run.row(ABORTING, OP_FAILED_FINALLY));
    assertThat(calls(failed)).containsExactly("p1 compensate");
    assertThat(calls(run.succeed("p1", COMPENSATE))).containsExactly("p2 forget");
    run.succeed("p2", FORGET);
    run.succeed("p1", AFTER);
    run.succeed("p2", AFTER);
    assertThat(run.status()).isEqualTo(ABORTED);
    assertThat(LraDecider.lraStatus(run.tx())).isEqualTo("FailedToCancel");
  }

  @Test
  public void unknownAnswers_areRetriedWithoutEnd_andFlaggedAfterTheBound() {
    for (Status phase : List.of(COMMITTING, ABORTING)) {
      Driver run = open(Gid.of("unknown-" + phase.label()), "p1");
      run.on(phase == COMMITTING ? new Event.CommitRequested() : new Event.AbortRequested());
      Op op = phase == COMMITTING ? COMPLETE : COMPENSATE;
      boolean flagged = false;
      for (int i = 0; i < 12; i++) {
        Decision d = run.answer("p1", op, UNKNOWN);
        assertThat(d.fired()).startsWith(run.row(phase, OP_RETRY));
        flagged |= d.fired().contains(run.row(phase, RETRY_BOUND_REACHED));
        assertThat(run.tickWhenDue().fired()).containsExactly(run.row(phase, RETRY_DUE));
      }
      assertThat(flagged).isTrue();
      assertThat(run.tx().flag()).contains("p1/" + op.label());
      run.succeed("p1", op);
      assertThat(run.status()).isEqualTo(phase); // the after callback is under way
    }
  }

  @Test
  public void overdueAnswer_isBackedOffThenAskedAgain() {
    Driver run = open(gid(), "p1");
    run.on(new Event.CommitRequested());
    Decision overdue = run.tickWhenDue();
    assertThat(overdue.fired()).containsExactly(run.row(COMMITTING, OP_RETRY));
    assertThat(run.progress("p1", COMPLETE).status()).isEqualTo(WAITING);
    assertThat(onlyCall(run.tickWhenDue()).attempt()).isEqualTo(2);
  }

  @Test
  public void recovery_resendsEveryCallNotYetAnswered() {
    Driver run = open(gid(), "p1", "p2");
    run.on(new Event.CommitRequested());
    run.succeed("p1", COMPLETE);
    Decision recovered = run.on(new Event.Recovered());
    assertThat(recovered.fired()).containsExactly(run.row(COMMITTING, RECOVERED));
    assertThat(calls(recovered)).containsExactly("p2 complete");
    Driver cancelled = open(Gid.of("recoverCancelling"), "p1", "p2");
    cancelled.on(new Event.AbortRequested());
    Decision again = cancelled.on(new Event.Recovered());
    assertThat(again.fired()).containsExactly(cancelled.row(ABORTING, RECOVERED));
    assertThat(calls(again)).containsExactly("p2 compensate");
  }

  @Test
  public void operatorRetry_sendsWaitingCallsNow() {
    for (Status phase : List.of(COMMITTING, ABORTING)) {
      Driver run = open(Gid.of("retry-" + phase.label()), "p1");
      run.on(phase == COMMITTING ? new Event.CommitRequested() : new Event.AbortRequested());
      Op op = phase == COMMITTING ? COMPLETE : COMPENSATE;
      run.answer("p1", op, UNKNOWN);
      Decision retry = run.on(new Event.RetryNow());
      assertThat(retry.fired()).containsExactly(run.row(phase, OPERATOR_RETRY));
      assertThat(calls(retry)).containsExactly("p1 " + op.label());
    }
  }

  @Test
  public void requests_afterTheEnd_areRejectedOrIdempotent_andJoiningLateIsRejected() {
    Driver run = open(gid(), "p1");
    run.on(new Event.CommitRequested());
    assertThat(run.on(new Event.CommitRequested()).isRejected()).isFalse();
    assertThat(run.on(new Event.AbortRequested()).rejection()).contains("cannot cancel");
    assertThat(run.on(new Event.BranchRegistered(participant("p2"))).rejection())
        .contains("too late to join");
    assertThat(run.on(new Event.Redrive("m", "s")).isRejected()).isTrue();
    Driver cancelled = open(Gid.of("closeAfterCancel"), "p1");
    cancelled.on(new Event.AbortRequested());
    assertThat(cancelled.on(new Event.AbortRequested()).isRejected()).isFalse();
    assertThat(cancelled.on(new Event.CommitRequested()).rejection()).contains("cannot close");
  }

  @Test
  public void nestedClose_completesProvisionally_thenTheParentsCloseForgetsAndCallsAfter() {
    Driver run = open(nested(gid()), "p1");
    Decision close = run.on(new Event.CommitRequested());
    assertThat(close.fired()).containsExactly(run.row(BEGUN, NESTED_CLOSE_REQUESTED));
    assertThat(calls(close)).containsExactly("p1 complete");
    assertThat(run.status()).isEqualTo(PREPARED);
    assertThat(run.tx().deadline()).isEqualTo(LraDecider.NO_DEADLINE);
    Decision completed = run.succeed("p1", COMPLETE);
    assertThat(completed.fired())
        .containsExactly(run.row(PREPARED, OP_SUCCEEDED), run.row(PREPARED, ALL_ENDED));
    assertThat(completed.effects()).isEmpty(); // waits for the parent
    assertThat(LraDecider.lraStatus(run.tx())).isEqualTo("Closed");
    Decision listener = run.on(new Event.BranchRegistered(participant("l1", AFTER)));
    assertThat(listener.fired()).containsExactly(run.row(PREPARED, BRANCH_REGISTERED));
    Decision parentClosed = run.on(new Event.CommitRequested());
    assertThat(parentClosed.fired()).containsExactly(run.row(PREPARED, COMMIT_REQUESTED));
    // p1 kept what it needed to compensate while the parent could still cancel: it forgets first.
    assertThat(calls(parentClosed)).containsExactly("p1 forget");
    assertThat(calls(run.succeed("p1", FORGET))).containsExactly("p1 after", "l1 after");
    run.succeed("p1", AFTER);
    run.succeed("l1", AFTER);
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void nestedStillActive_whenTheParentCloses_completesForGood_nothingToForget() {
    // The parent's close reaches a nested LRA nobody closed: its own close, then the parent's, at
    // once.
    Driver run = open(nested(gid()), "p1");
    assertThat(calls(run.on(new Event.CommitRequested()))).containsExactly("p1 complete");
    run.on(new Event.CommitRequested());
    assertThat(run.status()).isEqualTo(COMMITTING);
    assertThat(calls(run.succeed("p1", COMPLETE))).containsExactly("p1 after");
    run.succeed("p1", AFTER);
    assertThat(run.status()).isEqualTo(COMMITTED);
  }

  @Test
  public void nestedClosed_thenParentCancelled_compensatesEveryParticipantInReverseOrder() {
    Driver run = open(nested(gid()), "p1", "p2");
    run.on(new Event.CommitRequested());
    run.succeed("p1", COMPLETE);
    run.succeed("p2", COMPLETE);
    Decision parentCancelled = run.on(new Event.AbortRequested());
    assertThat(parentCancelled.fired()).containsExactly(run.row(PREPARED, ABORT_REQUESTED));
    assertThat(calls(parentCancelled)).containsExactly("p2 compensate");
    run.succeed("p2", COMPENSATE);
    run.succeed("p1", COMPENSATE);
    run.succeed("p1", AFTER);
    run.succeed("p2", AFTER);
    assertThat(run.status()).isEqualTo(ABORTED);
  }

  @Test
  public void nestedCompletions_failRetryRecoverAndAnswerStaleWhileProvisional() {
    {
      Driver run = open(nested(gid()), "p1", "p2");
      run.on(new Event.CommitRequested());
      assertThat(run.answer("p1", COMPLETE, FAILED_TO_COMPLETE).fired())
          .containsExactly(run.row(PREPARED, OP_FAILED_FINALLY));
      assertThat(run.on(new Event.OpCompleted("p1", COMPLETE, 1, Outcome.SUCCEEDED)).fired())
          .containsExactly(run.row(PREPARED, STALE_ANSWER));
      boolean flagged = false;
      for (int i = 0; i < 12; i++) {
        Decision d = run.answer("p2", COMPLETE, UNKNOWN);
        assertThat(d.fired()).startsWith(run.row(PREPARED, OP_RETRY));
        flagged |= d.fired().contains(run.row(PREPARED, RETRY_BOUND_REACHED));
        assertThat(run.tickWhenDue().fired()).containsExactly(run.row(PREPARED, RETRY_DUE));
      }
      assertThat(flagged).isTrue();
      Decision recovered = run.on(new Event.Recovered());
      assertThat(recovered.fired()).containsExactly(run.row(PREPARED, RECOVERED));
      assertThat(calls(recovered)).containsExactly("p2 complete");
      run.answer("p2", COMPLETE, UNKNOWN);
      Decision retry = run.on(new Event.RetryNow());
      assertThat(retry.fired()).containsExactly(run.row(PREPARED, OPERATOR_RETRY));
      run.succeed("p2", COMPLETE);
      assertThat(LraDecider.lraStatus(run.tx())).isEqualTo("FailedToClose");
    }
  }

  @Test
  public void aNestedGid_namesItsParent() {
    assertThat(LraDecider.isNested("a1.b2")).isTrue();
    assertThat(LraDecider.parentOf("a1.b2.c3")).isEqualTo("a1.b2");
    assertThat(LraDecider.parentOf("a1")).isNull();
    assertThat(Mode.LRA.presumesAbort()).isFalse();
  }

  @Test
  public void finishedLra_ignoresAnswersAndTicks() {
    Driver run = open(gid(), "p1");
    run.on(new Event.AbortRequested());
    run.succeed("p1", COMPENSATE);
    run.succeed("p1", AFTER);
    long version = run.tx().version();
    run.on(new Event.OpCompleted("p1", AFTER, 1, Outcome.SUCCEEDED));
    run.advance(ofSeconds(60)).tick();
    run.on(new Event.Recovered());
    assertThat(run.tx().version()).isEqualTo(version);
    assertThat(run.statuses(COMPLETE)).containsExactly(IDLE);
  }

  private static Effect.CallOp onlyCallOf(Decision decision, String branchId) {
    for (Effect effect : decision.effects()) {
      if (effect instanceof Effect.CallOp call && call.branchId().equals(branchId)) {
        return call;
      }
    }
    throw new AssertionError("no call to " + branchId + " in " + decision.effects());
  }
}
