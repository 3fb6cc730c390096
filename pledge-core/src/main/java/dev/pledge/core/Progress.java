package dev.pledge.core;

import java.time.Duration;
import java.time.Instant;
import java.util.Objects;

/**
 * The progress of one op, one delivery or the check-back: its status, how many calls were sent, and
 * when something is next due (the answer deadline while in flight, the retry time while waiting).
 */
public record Progress(OpStatus status, int attempts, Instant dueAt, String lastError) {
  public static final Progress IDLE = new Progress(OpStatus.IDLE, 0, null, null);

  public Progress {
    Objects.requireNonNull(status, "status");
    if (attempts < 0) {
      throw new IllegalArgumentException("attempts must be >= 0, got " + attempts);
    }
    if (status.isActive() != (dueAt != null)) {
      throw new IllegalArgumentException(
          "dueAt must be set exactly when active, status " + status + " dueAt " + dueAt);
    }
  }

  /** A call goes out now; its answer is awaited until {@code now + callTimeout}. */
  public Progress sent(Instant now, Duration callTimeout) {
    return new Progress(OpStatus.IN_FLIGHT, attempts + 1, now.plus(callTimeout), lastError);
  }

  public Progress waitUntil(Instant dueAt, String error) {
    return new Progress(OpStatus.WAITING, attempts, dueAt, error);
  }

  public Progress succeeded() {
    return new Progress(OpStatus.SUCCEEDED, attempts, null, lastError);
  }

  public Progress failed(String reason) {
    return new Progress(OpStatus.FAILED, attempts, null, reason);
  }

  public Progress skipped() {
    return new Progress(OpStatus.SKIPPED, attempts, null, lastError);
  }

  public Progress abandoned() {
    return new Progress(OpStatus.ABANDONED, attempts, null, lastError);
  }

  /** A delivery past its retry bound: a dead letter, sent again only when re-driven. */
  public Progress dead(String reason) {
    return new Progress(OpStatus.DEAD, attempts, null, reason);
  }

  /**
   * A dead letter an operator re-drives: idle again with a fresh retry budget (attempts start
   * over), keeping the last error until the next answer.
   */
  public Progress redriven() {
    return new Progress(OpStatus.IDLE, 0, null, lastError);
  }

  public boolean isDue(Instant now) {
    return status.isActive() && !now.isBefore(dueAt);
  }

  /** Whether a call was ever sent, so the op may have run. */
  public boolean wasAttempted() {
    return attempts > 0;
  }
}
