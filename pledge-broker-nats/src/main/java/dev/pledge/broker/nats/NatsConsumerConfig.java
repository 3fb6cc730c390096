package dev.pledge.broker.nats;

import java.time.Duration;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How a {@link NatsConsumer} reads a subject. Checked when built.
 *
 * @param stream the JetStream stream holding the subject; created (file storage, 2-minute duplicate
 *     window) when no stream captures the subject
 * @param durable the durable consumer's name, whose acknowledgements say what was handled
 * @param maxDeliveries deliveries of one message, at most; the last failed one publishes it to the
 *     dead-letter subject {@code <subject>.dead} and terminates it
 * @param maxAckPending deliveries sent and not yet acknowledged, at most ({@code MaxAckPending}); 1
 *     keeps strict order per subject even when a message is redelivered
 * @param ackWait how long the server waits for an acknowledgement before delivering again
 * @param retryDelay the wait before a failed message is delivered again ({@code nak} with delay)
 */
public record NatsConsumerConfig(
    String stream,
    String durable,
    int maxDeliveries,
    int maxAckPending,
    Duration ackWait,
    Duration retryDelay) {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_-]{1,200}");

  public NatsConsumerConfig {
    Objects.requireNonNull(stream, "stream");
    Objects.requireNonNull(durable, "durable");
    if (!NAME.matcher(stream).matches()) {
      throw new IllegalArgumentException(
          "stream must match [A-Za-z0-9_-]{1,200}, got \"" + stream + "\"");
    }
    if (!NAME.matcher(durable).matches()) {
      throw new IllegalArgumentException(
          "durable must match [A-Za-z0-9_-]{1,200}, got \"" + durable + "\"");
    }
    if (maxDeliveries < 1 || maxDeliveries > 1000) {
      throw new IllegalArgumentException(
          "maxDeliveries must be in [1, 1000], got " + maxDeliveries);
    }
    if (maxAckPending < 1 || maxAckPending > 10_000) {
      throw new IllegalArgumentException(
          "maxAckPending must be in [1, 10000], got " + maxAckPending);
    }
    Objects.requireNonNull(ackWait, "ackWait");
    if (ackWait.compareTo(Duration.ofSeconds(1)) < 0) {
      throw new IllegalArgumentException("ackWait must be at least 1 s, got " + ackWait);
    }
    Objects.requireNonNull(retryDelay, "retryDelay");
    if (retryDelay.isNegative() || retryDelay.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException("retryDelay must be in [0, 1 min], got " + retryDelay);
    }
  }

  /** 5 deliveries, 64 pending, 30 s to acknowledge, 200 ms before a redelivery. */
  public static NatsConsumerConfig of(String stream, String durable) {
    return new NatsConsumerConfig(
        stream, durable, 5, 64, Duration.ofSeconds(30), Duration.ofMillis(200));
  }

  public NatsConsumerConfig withMaxDeliveries(int value) {
    return new NatsConsumerConfig(stream, durable, value, maxAckPending, ackWait, retryDelay);
  }

  public NatsConsumerConfig withMaxAckPending(int value) {
    return new NatsConsumerConfig(stream, durable, maxDeliveries, value, ackWait, retryDelay);
  }

  public NatsConsumerConfig withAckWait(Duration value) {
    return new NatsConsumerConfig(stream, durable, maxDeliveries, maxAckPending, value, retryDelay);
  }

  public NatsConsumerConfig withRetryDelay(Duration value) {
    return new NatsConsumerConfig(stream, durable, maxDeliveries, maxAckPending, ackWait, value);
  }
}
