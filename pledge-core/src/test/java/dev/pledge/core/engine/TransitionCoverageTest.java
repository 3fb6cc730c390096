package dev.pledge.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.msg.MsgDeciderTest;
import dev.pledge.core.saga.SagaDeciderTest;
import dev.pledge.core.tcc.TccDeciderTest;
import dev.pledge.core.threepc.ThreePcDeciderTest;
import dev.pledge.core.twopc.TwoPcDeciderTest;
import dev.pledge.core.twopc.XaDeciderTest;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Fails listing every row of every mode's transition table that none of a fixed set of scenarios
 * fired. The scenarios are the decider unit tests themselves, run again here under a recorder, so a
 * row counts as covered only when a test that asserts its outcome drives through it. A new row
 * needs a new scenario in this list; a row no scenario can reach is dead and should go.
 */
public class TransitionCoverageTest {

  /** Every scenario, by mode. Disabled tests (known bugs) are left out: they do not pass. */
  static List<Runnable> scenarios() {
    SagaDeciderTest saga = new SagaDeciderTest();
    TccDeciderTest tcc = new TccDeciderTest();
    ThreePcDeciderTest threePc = new ThreePcDeciderTest();
    MsgDeciderTest msg = new MsgDeciderTest();
    EngineTest engine = new EngineTest();
    List<Runnable> all = new ArrayList<>();
    all.addAll(twoPhase(new TwoPcDeciderTest()));
    all.addAll(twoPhase(new XaDeciderTest()));
    all.addAll(
        List.of(
            threePc::start_sendsCanCommitToEveryBranchInParallel,
            threePc::allVoteYes_logsPreCommit_thenPreCommitsEveryBranch_thenCommitsEveryBranch,
            threePc::aNoVote_abortsEveryBranch,
            threePc::timeoutBeforeThePreCommitDecision_abortsEveryBranch,
            threePc::coordinatorKilledBeforeThePreCommitDecision_recoveryAborts,
            threePc::coordinatorKilledAfterThePreCommitDecision_recoveryCommits_neverAborts,
            threePc::timeoutAfterThePreCommitDecision_commits_neverAborts,
            threePc::unknownVote_isRetriedNeverTakenAsNo,
            threePc::duplicateOrMisdirectedAnswers_areIgnoredInEveryPhase,
            threePc::canCommitCutOffByAbort_answerIsIgnored,
            threePc::preCommitUnknown_isSentAgain_neverTakenAsAbort,
            threePc::preCommitNeverAcknowledged_flagsOperatorAfterBound_thenCommitsAtTheDeadline,
            threePc::preCommitAnswered409_isAHeuristicOutcome_flaggedAtOnce_andNeverRolledBack,
            threePc::doCommitAnswered409_isAHeuristicOutcome_flaggedOnce_overALesserFlag,
            threePc::doCommitUnknown_isRetriedWithoutEnd_andFlaggedAfterBound,
            threePc::abortUnknown_isRetriedWithoutEnd_andFlaggedAfterBound,
            threePc::coordinatorKilledAfterTheCommitOrAbort_recoveryResendsWhatIsUnacknowledged,
            threePc::operatorRetry_sendsWaitingOpsOfTheCurrentPhaseNow,
            threePc::callerRequests_areRejected_beforeAndAfterTheOutcome));
    all.addAll(
        List.of(
            saga::sequentialSaga_runsStepsOneAfterAnother_andCommits,
            saga::actionFailure_compensatesInReverseOrderEveryStepThatRan,
            saga::firstActionFailure_compensatesThatStepOnly,
            saga::sagaTimeout_compensatesInReverseOrderEveryStepThatMayHaveRun,
            saga::timeout_passesOnlyAtTheDeadline,
            saga::unknownAnswer_isRetriedNeverTakenAsFailed,
            saga::pendingAnswer_isAskedAgainLater,
            saga::overdueAnswer_isBackedOffThenAskedAgain,
            saga::forwardOp_isNeverFlagged_butAbortsAtTimeout,
            saga::hangingAction_isBackedOffNeverFlagged_andAbortsAtTimeout,
            saga::duplicateAnswer_isIgnored,
            saga::lateDefinitiveAnswerToEarlierAttempt_isAccepted,
            saga::lateBusinessNoToEarlierAttempt_isAccepted,
            saga::lateUnknownToEarlierAttempt_isIgnored,
            saga::answerNamingNoSuchStepOrOp_isIgnored,
            saga::answerToActionCutOffByAbort_isIgnored,
            saga::compensationSayingNo_isRetriedWithoutEnd,
            saga::mustFinishOp_flagsOperatorAfterBound_andKeepsRetrying,
            saga::recovery_resendsActionsInFlight,
            saga::recovery_resendsCompensationsInFlightAndWaiting,
            saga::operatorRetry_callsWaitingActionNow,
            saga::operatorRetry_compensatesWaitingStepNow,
            saga::dagSaga_runsIndependentStepsInParallel,
            saga::dagSaga_compensatesEveryStepBeforeTheStepsItRanAfter,
            saga::dagSagaTimeout_skipsStepsThatNeverStarted,
            saga::callerRequests_areRejected,
            saga::finishedSaga_ignoresEverything,
            tcc::begin_waitsForBranches_andCallsNothing,
            tcc::registeredBranch_isRecordedAndNotCalled,
            tcc::commit_confirmsEveryBranch,
            tcc::abort_cancelsEveryRegisteredBranch,
            tcc::cancelOvertakingTry_isStillSent,
            tcc::tccTimeout_cancelsEveryBranch_onlyOnceTheDeadlineIsReached,
            tcc::recoveredUndecidedTcc_presumesAbort,
            tcc::commitWithNoBranch_commitsAtOnce,
            tcc::timeoutWithNoBranch_abortsAtOnce,
            tcc::tccCommitAfterAbort_isRejected,
            tcc::tccAbortAfterCommit_isRejected,
            tcc::timeoutAfterCommitDecision_changesNothing,
            tcc::repeatedCommitOrAbort_isIdempotent,
            tcc::registeringTheSameBranchTwice_isIdempotent_anotherBodyIsRejected,
            tcc::registeringAfterTheDecision_isRejected,
            tcc::answerWhileUndecided_isIgnored,
            tcc::confirmSayingNo_isRetriedNeverTakenAsFailed,
            tcc::confirm_flagsOperatorAfterBound_andKeepsRetrying,
            tcc::cancel_isRetriedWithoutEnd_andFlaggedAfterBound,
            tcc::hangingCancel_isBackedOff_andFlaggedAfterBound,
            tcc::duplicateAnswer_isIgnored,
            tcc::duplicateCancelAnswer_isIgnored,
            tcc::lateDefinitiveAnswerToEarlierAttempt_isAccepted,
            tcc::recoveredCommittingTcc_resendsUnacknowledgedConfirms,
            tcc::recoveredAbortingTcc_resendsUnacknowledgedCancels,
            tcc::operatorRetry_sendsWaitingConfirmsOrCancelsNow,
            msg::prepare_storesTheMessagesInvisible_untilTheTimeout,
            msg::producerCommit_logsTheDecision_thenResolvesSubscriptionsAndDelivers,
            msg::producerAbort_dropsTheMessages,
            msg::msgCheckBack_startsAtTimeout_andCommittedAnswerCommits,
            msg::checkBackRolledBack_dropsTheMessages_andALateCommitIsRejected,
            msg::checkBackPending_asksAgainAfterBackoff,
            msg::checkBackOverdue_isBackedOffThenAskedAgain,
            msg::checkUrlThatNeverAnswers_isBackedOff_andFlaggedAfterBound,
            msg::checkBackUnknown_isRetried_andFlaggedAfterBound,
            msg::lateDefinitiveCheckAnswerToEarlierAttempt_isAccepted,
            msg::duplicateAnswer_isIgnored,
            msg::lateCheckAnswerAfterProducerCommit_isIgnored,
            msg::lateCheckAnswerAfterProducerAbort_isIgnored,
            msg::msgCommitAfterDecision_isIdempotent_abortAfterCommitIsRejected,
            msg::recoveryWhilePrepared_resendsTheCheckInFlight,
            msg::recoveryBeforeTheTimeout_asksNothingYet,
            msg::recoveryWhileCommitting_resolvesSubscriptionsAgain,
            msg::operatorRetry_checksNow_evenBeforeTheTimeout,
            msg::keyedDeliveries_waitForTheirTurn_andATurnSendsOnlyAnIdleOne,
            msg::topicWithoutSubscription_commitsWithNothingToDeliver,
            msg::unacknowledgedDelivery_isRetried_thenDeadAfterBound_andNotSentAgain,
            msg::deliveryNeverAcknowledged_isBackedOff_andDeadAfterBound,
            msg::redrive_sendsADeadLetterAgain_withAFreshBudget,
            msg::redrive_ofADeliveryThatIsNotDead_isRefused,
            msg::deadLetter_leavesItsKeyQueue_andReDrivenJoinsItsTail,
            msg::duplicateDeliveryAnswer_isIgnored,
            msg::recoveryAfterCommit_resendsDeliveriesInFlight,
            msg::operatorRetry_deliversWaitingMessagesNow,
            engine::recovery_presumesAbortForUndecided2pcAndTcc,
            engine::recovery_resumesSagaAndMsgWhereTheyWere));
    return all;
  }

  /** 2pc's scenarios, which run in 2pc or in xa by the instance given. */
  private static List<Runnable> twoPhase(TwoPcDeciderTest twoPc) {
    return List.of(
        twoPc::start_preparesEveryBranchInParallel,
        twoPc::allPreparesSucceed_logsCommit_thenCommitsEveryBranch,
        twoPc::prepareFailure_rollsBackEveryBranch,
        twoPc::prepareTimeout_abortsEveryBranch,
        twoPc::unknownAnswer_isRetriedNeverTakenAsFailed,
        twoPc::overduePrepare_isBackedOffThenAskedAgain,
        twoPc::lateDefinitiveAnswerToEarlierAttempt_isAccepted,
        twoPc::duplicateAnswer_isIgnored,
        twoPc::lateVoteAfterCommitDecision_isIgnored,
        twoPc::prepareCutOffByAbort_answerIsIgnored,
        twoPc::commitSayingNo_isRetriedNeverRolledBack,
        twoPc::rollbackUnknown_isRetriedUntilItSucceeds,
        twoPc::mustFinishOp_flagsOperatorAfterBound_andKeepsRetrying,
        twoPc::rollback_flagsOperatorAfterBound,
        twoPc::mustFinishOp_flagsOperatorEvenWhenAnswersAreLost,
        twoPc::mustFinishOp_flagsOperatorWhenTheBoundIsPassedByAResend,
        twoPc::mustFinishOps_flagTheTransactionOnce_forTheFirstToReachTheBound,
        twoPc::coordinatorKilledBeforeLoggingTheDecision_recoveryRollsBack,
        twoPc::coordinatorKilledAfterLoggingCommit_recoveryCommitsAgain,
        twoPc::coordinatorKilledAfterLoggingAbort_recoveryRollsBackAgain,
        twoPc::operatorRetry_sendsWaitingOpsOfTheCurrentPhaseNow,
        twoPc::callerRequests_areRejected_beforeAndAfterTheOutcome);
  }

  @Test
  public void everyRowOfEveryTable_isFiredByAScenario() {
    Set<Transition> fired =
        Driver.recording(() -> {
          for (Runnable scenario : scenarios()) {
            scenario.run();
          }
        });
    List<String> unfired = new ArrayList<>();
    for (TransitionTable table : Engine.tables()) {
      for (Transition row : table.rows()) {
        if (!fired.contains(row)) {
          unfired.add(row.toString());
        }
      }
    }
    assertThat(unfired).as("rows no scenario fired").isEmpty();
  }
}
