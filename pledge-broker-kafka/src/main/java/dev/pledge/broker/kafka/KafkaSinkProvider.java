package dev.pledge.broker.kafka;

import dev.pledge.core.spi.MessageSink;
import dev.pledge.core.spi.MessageSinkProvider;
import java.net.URI;
import java.util.Objects;
import java.util.Set;

/**
 * Opens Kafka sinks for {@code kafka://HOST:PORT/TOPIC} targets (see {@link KafkaTarget}).
 * Registered for {@link java.util.ServiceLoader}; the no-argument constructor uses {@link
 * KafkaSinkConfig#DEFAULT}.
 */
public final class KafkaSinkProvider implements MessageSinkProvider {
  private final KafkaSinkConfig config;

  public KafkaSinkProvider() {
    this(KafkaSinkConfig.DEFAULT);
  }

  public KafkaSinkProvider(KafkaSinkConfig config) {
    this.config = Objects.requireNonNull(config, "config");
  }

  @Override
  public Set<String> schemes() {
    return Set.of("kafka");
  }

  @Override
  public void validate(URI target) {
    KafkaTarget.parse(target);
  }

  /** Opens a sink; the producer connects in the background and whenever it lost the broker. */
  @Override
  public MessageSink open(URI target) {
    return new KafkaSink(KafkaTarget.parse(target), config);
  }
}
