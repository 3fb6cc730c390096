package dev.pledge.core;

import java.time.Duration;

/**
 * The bounds on what one transaction may carry. Every field is checked when the record is built,
 * and a request that exceeds any of them is rejected whole.
 */
public record Limits(
    int maxBranches,
    int maxMessages,
    int maxPayloadBytes,
    int maxHeaders,
    int maxHeaderBytes,
    int maxUrlLength,
    Duration defaultTimeout,
    Duration maxTimeout) {

  public static final Limits DEFAULT =
      new Limits(64, 64, 1 << 20, 32, 4096, 2048, Duration.ofSeconds(60), Duration.ofDays(1));

  public Limits {
    positive("maxBranches", maxBranches);
    positive("maxMessages", maxMessages);
    positive("maxPayloadBytes", maxPayloadBytes);
    positive("maxHeaders", maxHeaders);
    positive("maxHeaderBytes", maxHeaderBytes);
    positive("maxUrlLength", maxUrlLength);
    if (defaultTimeout == null || defaultTimeout.isNegative() || defaultTimeout.isZero()) {
      throw new IllegalArgumentException(
          "limits defaultTimeout must be > 0, got " + defaultTimeout);
    }
    if (maxTimeout == null || maxTimeout.compareTo(defaultTimeout) < 0) {
      throw new IllegalArgumentException(
          "limits maxTimeout must be >= defaultTimeout " + defaultTimeout + ", got " + maxTimeout);
    }
  }

  private static void positive(String field, int value) {
    if (value <= 0) {
      throw new IllegalArgumentException("limits " + field + " must be > 0, got " + value);
    }
  }
}
