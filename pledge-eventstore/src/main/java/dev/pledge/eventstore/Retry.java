package dev.pledge.eventstore;

import java.util.function.Supplier;

/** The retry of optimistic concurrency: load, decide, append again when another append won. */
public final class Retry {
  /** The most attempts {@link #onConflict} allows: a hot stream must not spin forever. */
  public static final int MAX_ATTEMPTS = 100;

  private Retry() {}

  /**
   * Runs {@code attempt} until it does not throw {@link WrongExpectedVersionException}, at most
   * {@code maxAttempts} times; the last conflict is thrown if every attempt lost. {@code attempt}
   * must load the stream again each time (its decision is only valid for the version it read).
   */
  public static <T> T onConflict(int maxAttempts, Supplier<T> attempt) {
    if (maxAttempts < 1 || maxAttempts > MAX_ATTEMPTS) {
      throw new IllegalArgumentException(
          "maxAttempts must be in [1, " + MAX_ATTEMPTS + "], got " + maxAttempts);
    }
    WrongExpectedVersionException last = null;
    for (int i = 0; i < maxAttempts; i++) {
      try {
        return attempt.get();
      } catch (WrongExpectedVersionException e) {
        last = e;
      }
    }
    throw last;
  }
}
