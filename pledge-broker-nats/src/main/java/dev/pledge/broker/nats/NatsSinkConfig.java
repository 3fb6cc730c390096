package dev.pledge.broker.nats;

import java.time.Duration;
import java.util.Objects;

/**
 * How a {@link NatsSinkProvider}'s sinks publish. Checked when built.
 *
 * @param maxInFlight publishes accepted and not yet acknowledged by JetStream, at most; past it
 *     {@code publish} fails at once with {@code SinkUnavailableException}
 * @param ackTimeout how long a publish waits for its JetStream acknowledgement, reconnections
 *     included; then it fails as unknown
 * @param maxPayloadBytes the largest payload published, in bytes of UTF-8 (the server's {@code
 *     max_payload}, 1 MiB by default, bounds payload and headers together)
 * @param connectTimeout the bound on opening the connection
 * @param closeGrace how long {@code close} waits for outstanding acknowledgements
 */
public record NatsSinkConfig(
    int maxInFlight,
    Duration ackTimeout,
    int maxPayloadBytes,
    Duration connectTimeout,
    Duration closeGrace) {

  /** A window of 4096, 10 s per acknowledgement, payloads up to 1,000,000 bytes. */
  public static final NatsSinkConfig DEFAULT =
      new NatsSinkConfig(
          4096, Duration.ofSeconds(10), 1_000_000, Duration.ofSeconds(5), Duration.ofSeconds(2));

  public NatsSinkConfig {
    if (maxInFlight < 1 || maxInFlight > 65_536) {
      throw new IllegalArgumentException("maxInFlight must be in [1, 65536], got " + maxInFlight);
    }
    positive("ackTimeout", ackTimeout);
    if (maxPayloadBytes < 1 || maxPayloadBytes > 64 * 1024 * 1024) {
      throw new IllegalArgumentException(
          "maxPayloadBytes must be in [1, 67108864], got " + maxPayloadBytes);
    }
    positive("connectTimeout", connectTimeout);
    Objects.requireNonNull(closeGrace, "closeGrace");
    if (closeGrace.isNegative()) {
      throw new IllegalArgumentException("closeGrace must not be negative, got " + closeGrace);
    }
  }

  public NatsSinkConfig withMaxInFlight(int value) {
    return new NatsSinkConfig(value, ackTimeout, maxPayloadBytes, connectTimeout, closeGrace);
  }

  public NatsSinkConfig withAckTimeout(Duration value) {
    return new NatsSinkConfig(maxInFlight, value, maxPayloadBytes, connectTimeout, closeGrace);
  }

  public NatsSinkConfig withMaxPayloadBytes(int value) {
    return new NatsSinkConfig(maxInFlight, ackTimeout, value, connectTimeout, closeGrace);
  }

  private static void positive(String field, Duration value) {
    Objects.requireNonNull(value, field);
    if (value.isNegative() || value.isZero()) {
      throw new IllegalArgumentException(field + " must be positive, got " + value);
    }
  }
}
