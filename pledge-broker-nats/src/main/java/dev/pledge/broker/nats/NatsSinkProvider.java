package dev.pledge.broker.nats;

import dev.pledge.core.spi.MessageSink;
import dev.pledge.core.spi.MessageSinkProvider;
import java.net.URI;
import java.util.Objects;
import java.util.Set;

/**
 * Opens NATS JetStream sinks for {@code nats://HOST:PORT/SUBJECT} targets (see {@link NatsTarget}).
 * Registered for {@link java.util.ServiceLoader}; the no-argument constructor uses {@link
 * NatsSinkConfig#DEFAULT}.
 */
public final class NatsSinkProvider implements MessageSinkProvider {
  private final NatsSinkConfig config;

  public NatsSinkProvider() {
    this(NatsSinkConfig.DEFAULT);
  }

  public NatsSinkProvider(NatsSinkConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  @Override
  public Set<String> schemes() {
    return Set.of("nats");
  }

  @Override
  public void validate(URI target) {
    NatsTarget.parse(target);
  }

  /** Opens a sink; it connects on its first publish. */
  @Override
  public MessageSink open(URI target) {
    return new NatsSink(NatsTarget.parse(target), config);
  }
}
