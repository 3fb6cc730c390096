package dev.pledge.broker.kafka;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link KafkaSinkProvider}'s sinks publish. Checked when built.
 *
 * @param maxInFlight publishes accepted and not yet acknowledged, at most; past it {@code publish}
 *     fails at once with {@code SinkUnavailableException}
 * @param ackTimeout how long a publish may take until it is acknowledged, retries included (the
 *     producer's {@code delivery.timeout.ms}); then it fails as unknown
 * @param maxPayloadBytes the largest payload published, in bytes of UTF-8; larger ones are rejected
 *     (the producer's {@code max.request.size} leaves room for headers above it)
 * @param linger how long the producer waits to fill a batch ({@code linger.ms})
 * @param closeGrace how long {@code close} waits for outstanding acknowledgements
 */
public record KafkaSinkConfig(
    int maxInFlight,
    Duration ackTimeout,
    int maxPayloadBytes,
    Duration linger,
    Duration closeGrace) {

  /** A window of 4096, 30 s per publish, 1 MiB payloads (Kafka's default message size), 5 ms. */
  public static final KafkaSinkConfig DEFAULT =
      new KafkaSinkConfig(
          4096, Duration.ofSeconds(30), 1000 * 1000, Duration.ofMillis(5), Duration.ofSeconds(2));

  public KafkaSinkConfig {
    if (maxInFlight < 1 || maxInFlight > 65_536) {
      throw new IllegalArgumentException("maxInFlight must be in [1, 65536], got " + maxInFlight);
    }
    Objects.requireNonNull(ackTimeout, "ackTimeout");
    if (ackTimeout.compareTo(Duration.ofSeconds(2)) < 0) {
      throw new IllegalArgumentException(
          "ackTimeout must be at least 2 s (a request's timeout fits inside it), got "
              + ackTimeout);
    }
    if (maxPayloadBytes < 1 || maxPayloadBytes > 64 * 1024 * 1024) {
      throw new IllegalArgumentException(
          "maxPayloadBytes must be in [1, 67108864], got " + maxPayloadBytes);
    }
    Objects.requireNonNull(linger, "linger");
    if (linger.isNegative() || linger.compareTo(Duration.ofSeconds(1)) > 0) {
      throw new IllegalArgumentException("linger must be in [0, 1 s], got " + linger);
    }
    Objects.requireNonNull(closeGrace, "closeGrace");
    if (closeGrace.isNegative()) {
      throw new IllegalArgumentException("closeGrace must not be negative, got " + closeGrace);
    }
  }

  public KafkaSinkConfig withMaxInFlight(int value) {
    return new KafkaSinkConfig(value, ackTimeout, maxPayloadBytes, linger, closeGrace);
  }

  public KafkaSinkConfig withAckTimeout(Duration value) {
    return new KafkaSinkConfig(maxInFlight, value, maxPayloadBytes, linger, closeGrace);
  }

  public KafkaSinkConfig withMaxPayloadBytes(int value) {
    return new KafkaSinkConfig(maxInFlight, ackTimeout, value, linger, closeGrace);
  }
}
