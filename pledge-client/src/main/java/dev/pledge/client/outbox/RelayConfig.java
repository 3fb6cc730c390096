package dev.pledge.client.outbox;

import java.time.Duration;
import java.util.Objects;

/**
 * How an {@link OutboxRelay} runs; checked when built, with messages naming the field and value.
 *
 * @param batchSize rows claimed per batch, 1 to 10,000
 * @param idleWait how long the relay sleeps when it found nothing (on PostgreSQL a {@code NOTIFY}
 *     wakes it sooner), 1 ms to 1 min
 * @param ackTimeout how long a batch waits for the sink's acknowledgements; the rest count as
 *     unknown and are published again, 100 ms to 5 min
 * @param retryBackoff the pause after a batch in which a publish failed, 1 ms to 1 min
 * @param retention how long a published row is kept before cleanup deletes it, 0 to 30 days
 * @param cleanupBatch rows deleted per cleanup statement, 1 to 100,000
 * @param cleanupEvery how often cleanup runs, 100 ms to 1 h
 */
public record RelayConfig(
    int batchSize,
    Duration idleWait,
    Duration ackTimeout,
    Duration retryBackoff,
    Duration retention,
    int cleanupBatch,
    Duration cleanupEvery) {

  public RelayConfig {
    range("batchSize", batchSize, 1, 10_000);
    range("cleanupBatch", cleanupBatch, 1, 100_000);
    duration("idleWait", idleWait, Duration.ofMillis(1), Duration.ofMinutes(1));
    duration("ackTimeout", ackTimeout, Duration.ofMillis(100), Duration.ofMinutes(5));
    duration("retryBackoff", retryBackoff, Duration.ofMillis(1), Duration.ofMinutes(1));
    duration("retention", retention, Duration.ZERO, Duration.ofDays(30));
    duration("cleanupEvery", cleanupEvery, Duration.ofMillis(100), Duration.ofHours(1));
  }

  /**
   * 500 rows a batch, 200 ms idle wait, 30 s for acknowledgements, 1 s after a failure, published
   * rows kept 10 min and deleted 10,000 at a time every 10 s.
   */
  public static RelayConfig defaults() {
    return new RelayConfig(
        500,
        Duration.ofMillis(200),
        Duration.ofSeconds(30),
        Duration.ofSeconds(1),
        Duration.ofMinutes(10),
        10_000,
        Duration.ofSeconds(10));
  }

  public RelayConfig withBatchSize(int size) {
    return new RelayConfig(
        size, idleWait, ackTimeout, retryBackoff, retention, cleanupBatch, cleanupEvery);
  }

  public RelayConfig withIdleWait(Duration wait) {
    return new RelayConfig(
        batchSize, wait, ackTimeout, retryBackoff, retention, cleanupBatch, cleanupEvery);
  }

  public RelayConfig withAckTimeout(Duration timeout) {
    return new RelayConfig(
        batchSize, idleWait, timeout, retryBackoff, retention, cleanupBatch, cleanupEvery);
  }

  public RelayConfig withRetryBackoff(Duration backoff) {
    return new RelayConfig(
        batchSize, idleWait, ackTimeout, backoff, retention, cleanupBatch, cleanupEvery);
  }

  public RelayConfig withRetention(Duration keep) {
    return new RelayConfig(
        batchSize, idleWait, ackTimeout, retryBackoff, keep, cleanupBatch, cleanupEvery);
  }

  private static void range(String field, int value, int min, int max) {
    if (value < min || value > max) {
      throw new IllegalArgumentException(
          field + " must be " + min + " to " + max + ", was " + value);
    }
  }

  private static void duration(String field, Duration value, Duration min, Duration max) {
    Objects.requireNonNull(value, field);
    if (value.compareTo(min) < 0 || value.compareTo(max) > 0) {
      throw new IllegalArgumentException(
          field + " must be " + min + " to " + max + ", was " + value);
    }
  }
}
