package dev.pledge.core.lra;

import static dev.pledge.core.Status.ABORTED;
import static dev.pledge.core.Status.ABORTING;
import static dev.pledge.core.Status.BEGUN;
import static dev.pledge.core.Status.COMMITTED;
import static dev.pledge.core.Status.COMMITTING;
import static dev.pledge.core.Status.PREPARED;
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

import dev.pledge.core.Mode;
import dev.pledge.core.engine.TransitionTable;

/** The transition table of mode {@code lra}, driven by {@link LraDecider}. */
final class LraTable {
  private LraTable() {}

  static final TransitionTable TABLE =
      TransitionTable.of(Mode.LRA)
          .row(null, STARTED, BEGUN, "open: wait for participants to join")
          .row(BEGUN, BRANCH_REGISTERED, BEGUN, "record the participant, in join order")
          .row(BEGUN, BRANCH_LEFT, BEGUN, "forget the participant: it is called for nothing")
          .row(
              BEGUN, COMMIT_REQUESTED, COMMITTING, "close: log it, then complete every participant")
          .row(
              BEGUN,
              NESTED_CLOSE_REQUESTED,
              PREPARED,
              "close of a nested LRA: complete every participant provisionally, then wait for the"
                  + " parent")
          .row(
              BEGUN,
              ABORT_REQUESTED,
              ABORTING,
              "cancel: log it, then compensate the last participant to join")
          .row(BEGUN, TIMEOUT, ABORTING, "time limit: as cancel")
          .row(BEGUN, RECOVERED, BEGUN, "none: an open LRA stays open, its client may still end it")
          .row(BEGUN, STALE_ANSWER, BEGUN, "ignore an answer that belongs to no call")
          .row(PREPARED, OP_SUCCEEDED, PREPARED, "record the participant's completion")
          .row(
              PREPARED,
              BRANCH_REGISTERED,
              PREPARED,
              "an after listener joins: it hears the end with the others")
          .row(
              PREPARED,
              OP_FAILED_FINALLY,
              PREPARED,
              "record that the participant failed to complete")
          .row(
              PREPARED, OP_RETRY, PREPARED, "202, unknown or unanswered: ask again after a backoff")
          .row(PREPARED, RETRY_DUE, PREPARED, "ask again (status when it has one, else the op)")
          .row(PREPARED, RETRY_BOUND_REACHED, PREPARED, "flag for an operator; keep retrying")
          .row(PREPARED, STALE_ANSWER, PREPARED, "ignore a duplicate or late answer")
          .row(PREPARED, RECOVERED, PREPARED, "re-send every call not yet answered")
          .row(PREPARED, OPERATOR_RETRY, PREPARED, "re-send every waiting call now")
          .row(
              PREPARED,
              ALL_ENDED,
              PREPARED,
              "every participant completed provisionally: wait for the parent")
          .row(
              PREPARED,
              COMMIT_REQUESTED,
              COMMITTING,
              "the parent closed: forget and after callbacks (completions done or under way)")
          .row(
              PREPARED,
              ABORT_REQUESTED,
              ABORTING,
              "the parent cancelled: compensate every participant, completed or not, in reverse"
                  + " join order")
          .row(
              COMMITTING,
              BRANCH_REGISTERED,
              COMMITTING,
              "an after listener joins while closing: it hears the end with the others")
          .row(
              COMMITTING,
              OP_SUCCEEDED,
              COMMITTING,
              "record the completion, forget or after callback; call what comes next")
          .row(
              COMMITTING,
              OP_FAILED_FINALLY,
              COMMITTING,
              "the participant failed to complete: the LRA will be FailedToClose; forget it")
          .row(
              COMMITTING,
              OP_RETRY,
              COMMITTING,
              "202, unknown or unanswered: ask again after a capped, jittered backoff, without end")
          .row(COMMITTING, RETRY_DUE, COMMITTING, "ask again (status when it has one, else the op)")
          .row(
              COMMITTING,
              RETRY_BOUND_REACHED,
              COMMITTING,
              "flag for an operator; keep retrying at the cap")
          .row(COMMITTING, STALE_ANSWER, COMMITTING, "ignore a duplicate or late answer")
          .row(COMMITTING, RECOVERED, COMMITTING, "re-send every call not yet answered")
          .row(COMMITTING, OPERATOR_RETRY, COMMITTING, "re-send every waiting call now")
          .row(
              COMMITTING,
              ALL_ENDED,
              COMMITTED,
              "none: every participant completed (or failed to), forgot, and heard the end")
          .row(
              ABORTING,
              BRANCH_REGISTERED,
              ABORTING,
              "an after listener joins while cancelling: it hears the end with the others")
          .row(
              ABORTING,
              OP_SUCCEEDED,
              ABORTING,
              "record the compensation, forget or after callback; call what comes next (the"
                  + " participant that joined before)")
          .row(
              ABORTING,
              OP_FAILED_FINALLY,
              ABORTING,
              "the participant failed to compensate: the LRA will be FailedToCancel; forget it")
          .row(
              ABORTING,
              OP_RETRY,
              ABORTING,
              "202, unknown or unanswered: ask again after a capped, jittered backoff, without end")
          .row(ABORTING, RETRY_DUE, ABORTING, "ask again (status when it has one, else the op)")
          .row(
              ABORTING,
              RETRY_BOUND_REACHED,
              ABORTING,
              "flag for an operator; keep retrying at the cap")
          .row(ABORTING, STALE_ANSWER, ABORTING, "ignore a duplicate or late answer")
          .row(ABORTING, RECOVERED, ABORTING, "re-send every call not yet answered")
          .row(ABORTING, OPERATOR_RETRY, ABORTING, "re-send every waiting call now")
          .row(
              ABORTING,
              ALL_ENDED,
              ABORTED,
              "none: every participant compensated (or failed to), forgot, and heard the end")
          .build();
}
