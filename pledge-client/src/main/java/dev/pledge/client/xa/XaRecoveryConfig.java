package dev.pledge.client.xa;

import java.time.Duration;
import java.util.Objects;

/**
 * How {@link XaRecovery} runs; checked when built, with messages naming the field and value.
 *
 * @param period between two runs (1 s to 1 h)
 * @param unknownAfter how long a prepared branch that no coordinator log knows is left before it is
 *     rolled back and reported (1 s to 7 days); longer than any transaction's timeout is safest
 * @param maxPerRun prepared branches handled in one run at most (1 to 10,000)
 * @param gidRetention how long a {@code pledge_xa_gid} row is kept after its branch ended (1 h to
 *     365 days)
 */
public record XaRecoveryConfig(
    Duration period, Duration unknownAfter, int maxPerRun, Duration gidRetention) {

  public XaRecoveryConfig {
    check("period", period, Duration.ofSeconds(1), Duration.ofHours(1));
    check("unknownAfter", unknownAfter, Duration.ofSeconds(1), Duration.ofDays(7));
    check("gidRetention", gidRetention, Duration.ofHours(1), Duration.ofDays(365));
    if (maxPerRun < 1 || maxPerRun > 10_000) {
      throw new IllegalArgumentException("maxPerRun must be 1 to 10000, was " + maxPerRun);
    }
  }

  /**
   * Every 30 s; a branch no log knows is rolled back after 10 min; 1,000 branches per run; lookup
   * rows kept 7 days.
   */
  public static XaRecoveryConfig defaults() {
    return new XaRecoveryConfig(
        Duration.ofSeconds(30), Duration.ofMinutes(10), 1000, Duration.ofDays(7));
  }

  public XaRecoveryConfig withPeriod(Duration period) {
    return new XaRecoveryConfig(period, unknownAfter, maxPerRun, gidRetention);
  }

  public XaRecoveryConfig withUnknownAfter(Duration unknownAfter) {
    return new XaRecoveryConfig(period, unknownAfter, maxPerRun, gidRetention);
  }

  private static void check(String field, Duration value, Duration min, Duration max) {
    Objects.requireNonNull(value, field);
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      throw new IllegalArgumentException(
          field + " must be " + min + " to " + max + ", was " + value);
    }
  }
}
