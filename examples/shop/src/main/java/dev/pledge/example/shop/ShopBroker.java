package dev.pledge.example.shop;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import dev.pledge.broker.kafka.KafkaConsumerConfig;
import dev.pledge.broker.kafka.KafkaMessageConsumer;
import dev.pledge.broker.kafka.KafkaSinkProvider;
import dev.pledge.broker.kafka.KafkaTarget;
import dev.pledge.broker.nats.NatsConsumer;
import dev.pledge.broker.nats.NatsConsumerConfig;
import dev.pledge.broker.nats.NatsSinkProvider;
import dev.pledge.broker.nats.NatsTarget;
import dev.pledge.broker.rabbitmq.AmqpTarget;
import dev.pledge.broker.rabbitmq.RabbitMqConsumer;
import dev.pledge.broker.rabbitmq.RabbitMqConsumerConfig;
import dev.pledge.broker.rabbitmq.RabbitMqSinkProvider;
import dev.pledge.core.spi.MessageHandler;
import dev.pledge.core.spi.MessageSink;
import io.nats.client.Connection;
import io.nats.client.Nats;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The broker between the order service's outbox relay and the shipping service's inbox, when the
 * shop runs with one: RabbitMQ and NATS JetStream on this machine (their default ports), Kafka as
 * one KRaft broker inside this JVM ({@link InJvmKafka}). Every name (exchange and queue, topic and
 * group, subject, stream and durable) carries the run's id, so two runs never share a queue; the
 * RabbitMQ and NATS ones are deleted again when it closes.
 */
public final class ShopBroker implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ShopBroker.class);

  /** Deliveries of one message before the consumer adapter dead-letters it. */
  private static final int MAX_DELIVERIES = 20;

  /** The brokers the shop can run over. */
  public enum Kind {
    RABBITMQ,
    KAFKA,
    NATS;

    /** {@code rabbitmq}, {@code kafka} or {@code nats}, case-insensitive. */
    public static Kind parse(String name) {
      try {
        return valueOf(name.toUpperCase(Locale.ROOT));
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException(
            "broker must be rabbitmq, kafka or nats, got \"" + name + "\"", e);
      }
    }

    public String label() {
      return name().toLowerCase(Locale.ROOT);
    }
  }

  private final Kind kind;
  private final String run;
  private final URI target;
  private final InJvmKafka kafka;

  private ShopBroker(Kind kind, String run, URI target, InJvmKafka kafka) {
    this.kind = kind;
    this.run = run;
    this.target = target;
    this.kafka = kafka;
  }

  /**
   * Starts or connects to the broker of {@code kind} for one run. For Kafka this starts the in-JVM
   * broker with its data under {@code folder}.
   *
   * @param run a short id of the run, {@code [a-z0-9]{1,16}}
   */
  public static ShopBroker start(Kind kind, String run, Path folder) {
    Objects.requireNonNull(kind, "kind");
    if (!run.matches("[a-z0-9]{1,16}")) {
      throw new IllegalArgumentException("run must match [a-z0-9]{1,16}, got " + run);
    }
    return switch (kind) {
      case RABBITMQ ->
          new ShopBroker(
              kind,
              run,
              URI.create("amqp://guest:guest@127.0.0.1:5672/%2F?exchange=pledge-shop-" + run),
              null);
      case NATS ->
          new ShopBroker(
              kind, run, URI.create("nats://127.0.0.1:4222/pledge-shop." + run + ".placed"), null);
      case KAFKA -> {
        InJvmKafka broker = InJvmKafka.start(folder);
        String topic = "pledge-shop-" + run + "-placed";
        broker.createTopic(topic, 3);
        yield new ShopBroker(
            kind, run, URI.create("kafka://127.0.0.1:" + broker.port() + "/" + topic), broker);
      }
    };
  }

  public Kind kind() {
    return kind;
  }

  /** The sink's target, the URI a coordinator subscription would name. */
  public URI target() {
    return target;
  }

  /** A sink publishing to the broker with its durable acknowledgement; the caller closes it. */
  public MessageSink openSink() {
    return switch (kind) {
      case RABBITMQ -> new RabbitMqSinkProvider().open(target);
      case KAFKA -> new KafkaSinkProvider().open(target);
      case NATS -> new NatsSinkProvider().open(target);
    };
  }

  /**
   * Starts the shipping consumer: the broker's consumer adapter, acknowledging after {@code
   * handler} returned (its local transaction committed), delivering a failed message again up to
   * {@value #MAX_DELIVERIES} times before dead-lettering it.
   */
  public AutoCloseable consume(MessageHandler handler) {
    return switch (kind) {
      case RABBITMQ ->
          RabbitMqConsumer.start(
              AmqpTarget.parse(target),
              RabbitMqConsumerConfig.of(queue())
                  .withBindingKeys(List.of(Orders.TOPIC))
                  .withMaxDeliveries(MAX_DELIVERIES)
                  .withRedeliveryDelay(Duration.ofMillis(100)),
              handler);
      case KAFKA ->
          KafkaMessageConsumer.start(
              KafkaTarget.parse(target),
              KafkaConsumerConfig.of("pledge-shop-" + run + "-shipping")
                  .withMaxDeliveries(MAX_DELIVERIES)
                  .withRetryDelay(Duration.ofMillis(100)),
              handler);
      case NATS ->
          NatsConsumer.start(
              NatsTarget.parse(target),
              NatsConsumerConfig.of(stream(), "shipping")
                  .withMaxDeliveries(MAX_DELIVERIES)
                  .withRetryDelay(Duration.ofMillis(100)),
              handler);
    };
  }

  private String queue() {
    return "pledge-shop-" + run + "-shipping";
  }

  private String stream() {
    return "PLEDGE_SHOP_" + run.toUpperCase(Locale.ROOT);
  }

  /** Deletes the run's queues, exchanges or streams (RabbitMQ, NATS); stops the in-JVM Kafka. */
  @Override
  public void close() {
    try {
      switch (kind) {
        case RABBITMQ -> deleteRabbitMqTopology();
        case NATS -> deleteNatsStreams();
        case KAFKA -> kafka.close();
      }
    } catch (Exception e) {
      LOG.warn("cleaning up the {} broker of run {}: {}", kind.label(), run, e.toString());
    }
  }

  private void deleteRabbitMqTopology() throws Exception {
    AmqpTarget amqp = AmqpTarget.parse(target);
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost(amqp.host());
    factory.setPort(amqp.port());
    factory.setUsername(amqp.user());
    factory.setPassword(amqp.password());
    factory.setVirtualHost(amqp.virtualHost());
    try (com.rabbitmq.client.Connection connection = factory.newConnection("pledge shop cleanup");
        Channel channel = connection.createChannel()) {
      channel.queueDelete(queue());
      channel.queueDelete(queue() + ".dead");
      channel.exchangeDelete(amqp.exchange());
      channel.exchangeDelete(RabbitMqConsumer.deadLetterExchange(amqp));
    }
  }

  private void deleteNatsStreams() throws Exception {
    NatsTarget nats = NatsTarget.parse(target);
    try (Connection connection = Nats.connect(nats.server())) {
      connection.jetStreamManagement().deleteStream(stream());
      connection.jetStreamManagement().deleteStream(stream() + "_dead");
    }
  }
}
