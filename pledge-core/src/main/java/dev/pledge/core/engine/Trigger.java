package dev.pledge.core.engine;

import java.util.Locale;

/**
 * What makes a transaction move, as the transition tables name it. The deciders derive a trigger
 * from each event and the current state; several modes share the same words.
 */
public enum Trigger {
  STARTED,
  BRANCH_REGISTERED,
  COMMIT_REQUESTED,
  ABORT_REQUESTED,
  OP_SUCCEEDED,
  ALL_SUCCEEDED,
  OP_FAILED,
  OP_RETRY,
  RETRY_DUE,
  RETRY_BOUND_REACHED,
  STALE_ANSWER,
  TIMEOUT,
  RECOVERED,
  OPERATOR_RETRY,
  CHECK_DUE,
  CHECK_COMMITTED,
  CHECK_ROLLED_BACK,
  CHECK_PENDING,
  SUBSCRIBERS_RESOLVED,
  DELIVERED,
  ALL_DELIVERED,
  REDRIVEN,
  KEY_TURN;

  public String label() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }
}
