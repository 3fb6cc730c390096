package dev.pledge.core;

/** Where one op (or one delivery, or the check-back) stands. Byte codes are persisted. */
public enum OpStatus {
  /** Not called, and not to be called yet. */
  IDLE(0),
  /** Called; the answer is awaited until {@link Progress#dueAt()}. */
  IN_FLIGHT(1),
  /** Answered unknown or pending; called again at {@link Progress#dueAt()}. */
  WAITING(2),
  SUCCEEDED(3),
  FAILED(4),
  /** Never to be called: for example the compensation of a step whose action never started. */
  SKIPPED(5),
  /**
   * Was in flight or waiting when the transaction moved past it (an action or prepare cut off by an
   * abort): its answer no longer matters, but it may have run.
   */
  ABANDONED(6),
  /**
   * A delivery that failed past its retry bound (a dead letter): kept, not sent again until an
   * operator re-drives it. Deliveries only: an op that must finish keeps retrying instead.
   */
  DEAD(7);

  private final byte code;

  OpStatus(int code) {
    this.code = (byte) code;
  }

  public byte code() {
    return code;
  }

  public boolean isActive() {
    return this == IN_FLIGHT || this == WAITING;
  }

  public boolean isDone() {
    return this == SUCCEEDED
        || this == FAILED
        || this == SKIPPED
        || this == ABANDONED
        || this == DEAD;
  }

  public static OpStatus fromCode(byte code) {
    for (OpStatus status : values()) {
      if (status.code == code) {
        return status;
      }
    }
    throw new IllegalArgumentException("unknown op status code " + code);
  }
}
