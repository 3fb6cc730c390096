package dev.pledge.broker.rabbitmq;

import dev.pledge.core.spi.MessageSink;
import dev.pledge.core.spi.MessageSinkProvider;
import java.net.URI;
import java.util.Objects;
import java.util.Set;

/**
 * Opens RabbitMQ sinks for {@code amqp://USER:PASS@HOST:PORT/VHOST?exchange=NAME} targets (see
 * {@link AmqpTarget}). Registered for {@link java.util.ServiceLoader}; the no-argument constructor
 * uses {@link RabbitMqSinkConfig#DEFAULT}.
 */
public final class RabbitMqSinkProvider implements MessageSinkProvider {
  private final RabbitMqSinkConfig config;

  public RabbitMqSinkProvider() {
    this(RabbitMqSinkConfig.DEFAULT);
  }

  public RabbitMqSinkProvider(RabbitMqSinkConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  @Override
  public Set<String> schemes() {
    return Set.of("amqp");
  }

  @Override
  public void validate(URI target) {
    AmqpTarget.parse(target);
  }

  /** Opens a sink; it connects on its first publish, and again whenever the connection is lost. */
  @Override
  public MessageSink open(URI target) {
    return new RabbitMqSink(AmqpTarget.parse(target), config);
  }
}
