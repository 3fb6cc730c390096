package dev.pledge.core;

import java.time.Duration;
import java.util.Objects;

/**
 * Capped exponential backoff with jitter, and the bound after which a must-finish op flags its
 * transaction for an operator (it keeps retrying at the cap: nothing is dropped).
 *
 * <p>The jitter is pure: it is drawn from a hash of the op's identity and attempt number, not from
 * a random source, so the deciders stay deterministic and a simulator seed replays exactly, while
 * retries of different ops still spread out.
 *
 * @param initialBackoff the wait after the first failed attempt
 * @param maxBackoff the cap on any wait
 * @param multiplier growth per attempt, at least 1
 * @param jitter the fraction of a wait that is randomised away, in [0, 1)
 * @param callTimeout how long an answer is awaited before the call counts as unknown
 * @param flagAfterAttempts attempts of a must-finish op after which the transaction is flagged
 */
public record RetryPolicy(
    Duration initialBackoff,
    Duration maxBackoff,
    double multiplier,
    double jitter,
    Duration callTimeout,
    int flagAfterAttempts) {

  public static final RetryPolicy DEFAULT =
      new RetryPolicy(
          Duration.ofMillis(200), Duration.ofSeconds(30), 2.0, 0.2, Duration.ofSeconds(10), 10);

  public RetryPolicy {
    Objects.requireNonNull(initialBackoff, "initialBackoff");
    Objects.requireNonNull(maxBackoff, "maxBackoff");
    Objects.requireNonNull(callTimeout, "callTimeout");
    require(
        !initialBackoff.isNegative() && !initialBackoff.isZero(),
        "initialBackoff",
        initialBackoff,
        "must be > 0");
    require(
        maxBackoff.compareTo(initialBackoff) >= 0,
        "maxBackoff",
        maxBackoff,
        "must be >= initialBackoff " + initialBackoff);
    require(
        multiplier >= 1.0 && multiplier <= 10.0, "multiplier", multiplier, "must be in [1, 10]");
    require(jitter >= 0.0 && jitter < 1.0, "jitter", jitter, "must be in [0, 1)");
    require(
        !callTimeout.isNegative() && !callTimeout.isZero(),
        "callTimeout",
        callTimeout,
        "must be > 0");
    require(
        flagAfterAttempts >= 1 && flagAfterAttempts <= 1_000_000,
        "flagAfterAttempts",
        flagAfterAttempts,
        "must be in [1, 1000000]");
  }

  private static void require(boolean ok, String field, Object value, String rule) {
    if (!ok) {
      throw new IllegalArgumentException("retry policy " + field + " " + rule + ", got " + value);
    }
  }

  /**
   * The wait before attempt {@code failedAttempts + 1}, given {@code failedAttempts >= 1} attempts
   * so far. {@code key} names the op (gid, branch, op) so that different ops get different jitter.
   */
  public Duration backoff(int failedAttempts, String key) {
    if (failedAttempts < 1) {
      throw new IllegalArgumentException("failedAttempts must be >= 1, got " + failedAttempts);
    }
    double capMillis = maxBackoff.toMillis();
    double raw = initialBackoff.toMillis() * Math.pow(multiplier, Math.min(failedAttempts - 1, 64));
    double base = Math.min(raw, capMillis);
    double fraction = unitHash(key, failedAttempts);
    long millis = Math.max(1L, Math.round(base * (1.0 - jitter * fraction)));
    return Duration.ofMillis(millis);
  }

  /** The longest any single wait can be: what liveness bounds are computed from. */
  public Duration longestWait() {
    return maxBackoff.compareTo(callTimeout) >= 0 ? maxBackoff : callTimeout;
  }

  private static double unitHash(String key, int attempt) {
    long h = 0x9E3779B97F4A7C15L ^ attempt;
    for (int i = 0; i < key.length(); i++) {
      h = (h ^ key.charAt(i)) * 0x100000001B3L;
    }
    h ^= h >>> 33;
    h *= 0xff51afd7ed558ccdL;
    h ^= h >>> 33;
    return (h >>> 11) * 0x1.0p-53;
  }
}
