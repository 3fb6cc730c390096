package dev.pledge.broker.rabbitmq;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link RabbitMqSinkProvider}'s sinks publish. Checked when built; every bound is explicit.
 *
 * @param maxInFlight publishes accepted and not yet confirmed, at most (the confirm window); past
 *     it {@code publish} fails at once with {@code SinkUnavailableException}
 * @param ackTimeout how long a publish waits for its publisher confirm, reconnections included,
 *     before it fails as unknown
 * @param maxPayloadBytes the largest payload published, in bytes of UTF-8; larger ones are rejected
 * @param connectTimeout the bound on opening a connection (TCP and AMQP handshake)
 * @param reconnectDelayMax the longest wait between two attempts to reconnect (they start at 50 ms
 *     and double)
 * @param closeGrace how long {@code close} waits for outstanding confirms before failing them
 * @param heartbeat the AMQP heartbeat: a silent broker is taken as gone after about twice this
 */
public record RabbitMqSinkConfig(
    int maxInFlight,
    Duration ackTimeout,
    int maxPayloadBytes,
    Duration connectTimeout,
    Duration reconnectDelayMax,
    Duration closeGrace,
    Duration heartbeat) {

  /** The defaults: a window of 1024, 10 s for a confirm, 1 MiB payloads. */
  public static final RabbitMqSinkConfig DEFAULT =
      new RabbitMqSinkConfig(
          1024,
          Duration.ofSeconds(10),
          1024 * 1024,
          Duration.ofSeconds(5),
          Duration.ofSeconds(2),
          Duration.ofSeconds(2),
          Duration.ofSeconds(10));

  public RabbitMqSinkConfig {
    if (maxInFlight < 1 || maxInFlight > 65_536) {
      throw new IllegalArgumentException("maxInFlight must be in [1, 65536], got " + maxInFlight);
    }
    positive("ackTimeout", ackTimeout);
    if (maxPayloadBytes < 1 || maxPayloadBytes > 64 * 1024 * 1024) {
      throw new IllegalArgumentException(
          "maxPayloadBytes must be in [1, 67108864], got " + maxPayloadBytes);
    }
    positive("connectTimeout", connectTimeout);
    positive("reconnectDelayMax", reconnectDelayMax);
    Objects.requireNonNull(closeGrace, "closeGrace");
    if (closeGrace.isNegative()) {
      throw new IllegalArgumentException("closeGrace must not be negative, got " + closeGrace);
    }
    positive("heartbeat", heartbeat);
    if (heartbeat.toSeconds() < 1) {
      throw new IllegalArgumentException("heartbeat must be at least 1 s, got " + heartbeat);
    }
  }

  public RabbitMqSinkConfig withMaxInFlight(int value) {
    return new RabbitMqSinkConfig(
        value,
        ackTimeout,
        maxPayloadBytes,
        connectTimeout,
        reconnectDelayMax,
        closeGrace,
        heartbeat);
  }

  public RabbitMqSinkConfig withAckTimeout(Duration value) {
    return new RabbitMqSinkConfig(
        maxInFlight,
        value,
        maxPayloadBytes,
        connectTimeout,
        reconnectDelayMax,
        closeGrace,
        heartbeat);
  }

  public RabbitMqSinkConfig withMaxPayloadBytes(int value) {
    return new RabbitMqSinkConfig(
        maxInFlight, ackTimeout, value, connectTimeout, reconnectDelayMax, closeGrace, heartbeat);
  }

  static void positive(String field, Duration value) {
    Objects.requireNonNull(value, field);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(field + " must be positive, got " + value);
    }
  }
}
