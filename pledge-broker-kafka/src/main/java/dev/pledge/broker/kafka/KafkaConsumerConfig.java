package dev.pledge.broker.kafka;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How a {@link KafkaMessageConsumer} reads a topic. Checked when built.
 *
 * @param groupId the consumer group, whose committed offsets say what was handled
 * @param maxPollRecords records fetched per poll, at most ({@code max.poll.records})
 * @param maxDeliveries attempts at one record, at most; after that many failures it goes to the
 *     dead-letter topic
 * @param retryDelay the wait between two attempts at a record
 * @param maxPollInterval the longest a poll's records may take to handle, retries included ({@code
 *     max.poll.interval.ms}); past it the group takes the partitions away
 */
public record KafkaConsumerConfig(
    String groupId,
    int maxPollRecords,
    int maxDeliveries,
    Duration retryDelay,
    Duration maxPollInterval) {

  private static final Pattern GROUP = Pattern.compile("[A-Za-z0-9._:-]{1,249}");

  public KafkaConsumerConfig {
    Objects.requireNonNull(groupId, "groupId");
    if (!GROUP.matcher(groupId).matches()) {
      throw new IllegalArgumentException(
          "groupId must match [A-Za-z0-9._:-]{1,249}, got \"" + groupId + "\"");
    }
    if (maxPollRecords < 1 || maxPollRecords > 10_000) {
      throw new IllegalArgumentException(
          "maxPollRecords must be in [1, 10000], got " + maxPollRecords);
    }
    if (maxDeliveries < 1 || maxDeliveries > 1000) {
      throw new IllegalArgumentException(
          "maxDeliveries must be in [1, 1000], got " + maxDeliveries);
    }
    Objects.requireNonNull(retryDelay, "retryDelay");
    if (retryDelay.isNegative() || retryDelay.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException("retryDelay must be in [0, 1 min], got " + retryDelay);
    }
    Objects.requireNonNull(maxPollInterval, "maxPollInterval");
    if (maxPollInterval.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException(
          "maxPollInterval must be at least 1 s, got " + maxPollInterval);
    }
  }

  /** 100 records a poll, 5 attempts 200 ms apart, 5 minutes a poll. */
  public static KafkaConsumerConfig of(String groupId) {
    return new KafkaConsumerConfig(groupId, 100, 5, Duration.ofMillis(200), Duration.ofMinutes(5));
  }

  public KafkaConsumerConfig withMaxDeliveries(int value) {
    return new KafkaConsumerConfig(groupId, maxPollRecords, value, retryDelay, maxPollInterval);
  }

  public KafkaConsumerConfig withRetryDelay(Duration value) {
    return new KafkaConsumerConfig(groupId, maxPollRecords, maxDeliveries, value, maxPollInterval);
  }

  public KafkaConsumerConfig withMaxPollRecords(int value) {
    return new KafkaConsumerConfig(groupId, value, maxDeliveries, retryDelay, maxPollInterval);
  }
}
