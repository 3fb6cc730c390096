package dev.pledge.broker.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.DefaultConsumer;
import com.rabbitmq.client.Envelope;
import com.rabbitmq.client.ShutdownSignalException;
import dev.pledge.broker.rabbitmq.RabbitMqConsumerConfig.Acknowledgement;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the messages of a RabbitMQ queue to a {@link MessageHandler} (usually the SDK's inbox).
 *
 * <p>Topology, declared when absent (idempotent): the target's exchange (durable, {@code topic});
 * the queue, a durable quorum queue bound to it with the configured binding keys, whose {@code
 * x-delivery-limit} bounds deliveries and whose dead letters go, at least once, to the exchange
 * {@code <exchange>.dead} with the queue's name as routing key; and the dead-letter queue {@code
 * <queue>.dead} bound there.
 *
 * <p>Acknowledgement, by default, after the handler returned (its local transaction committed): a
 * consumer that dies before that gets the message again, and the inbox drops the duplicate. A
 * handler that throws has the message handed back (after {@link
 * RabbitMqConsumerConfig#redeliveryDelay()}) until {@link RabbitMqConsumerConfig#maxDeliveries()}
 * deliveries, then RabbitMQ dead-letters it. A message that cannot be decoded (no {@code
 * message_id}, no {@code pledge-topic}) is dead-lettered at once. Deliveries are handled one at a
 * time, in queue order; at most {@link RabbitMqConsumerConfig#prefetch()} are unacknowledged. The
 * connection recovers by itself (the client's automatic recovery); deliveries unacknowledged when
 * it was lost are redelivered by the broker.
 */
public final class RabbitMqConsumer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(RabbitMqConsumer.class);

  private final AmqpTarget target;
  private final RabbitMqConsumerConfig config;
  private final MessageHandler handler;
  private final Connection connection;
  private final Channel channel;

  private RabbitMqConsumer(
      AmqpTarget target,
      RabbitMqConsumerConfig config,
      MessageHandler handler,
      Connection connection,
      Channel channel) {
    this.target = target;
    this.config = config;
    this.handler = handler;
    this.connection = connection;
    this.channel = channel;
  }

  /**
   * Declares the topology, then consumes until closed.
   *
   * @throws UncheckedIOException when the broker cannot be reached or refuses the topology (a queue
   *     of that name with other arguments, for example)
   */
  public static RabbitMqConsumer start(
      AmqpTarget target, RabbitMqConsumerConfig config, MessageHandler handler) {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(handler, "handler");
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost(target.host());
    factory.setPort(target.port());
    factory.setVirtualHost(target.virtualHost());
    factory.setUsername(target.user());
    factory.setPassword(target.password());
    factory.setConnectionTimeout(5_000);
    factory.setRequestedHeartbeat(10);
    factory.setAutomaticRecoveryEnabled(true);
    factory.setTopologyRecoveryEnabled(true);
    factory.setNetworkRecoveryInterval(1_000);
    Connection connection = null;
    try {
      connection = factory.newConnection("pledge consumer " + config.queue());
      Channel channel = connection.createChannel();
      declare(channel, target, config);
      channel.basicQos(config.prefetch());
      RabbitMqConsumer consumer =
          new RabbitMqConsumer(target, config, handler, connection, channel);
      channel.basicConsume(
          config.queue(),
          config.acknowledgement() == Acknowledgement.AUTO_AT_MOST_ONCE,
          "pledge-" + config.queue(),
          consumer.new Deliveries(channel));
      log.info(
          "consuming {} from {} ({} acknowledgement)",
          config.queue(),
          target,
          config.acknowledgement());
      return consumer;
    } catch (IOException | TimeoutException | ShutdownSignalException e) {
      if (connection != null) {
        connection.abort(2_000);
      }
      throw new UncheckedIOException(
          new IOException("cannot consume " + config.queue() + " from " + target + ": " + e, e));
    }
  }

  /** The exchange that receives this consumer's dead letters: {@code <exchange>.dead}. */
  public static String deadLetterExchange(AmqpTarget target) {
    return target.exchange() + ".dead";
  }

  static void declare(Channel channel, AmqpTarget target, RabbitMqConsumerConfig config)
      throws IOException {
    String deadLetterExchange = deadLetterExchange(target);
    channel.exchangeDeclare(target.exchange(), BuiltinExchangeType.TOPIC, true);
    channel.exchangeDeclare(deadLetterExchange, BuiltinExchangeType.DIRECT, true);
    Map<String, Object> deadQueueArguments = new HashMap<>();
    deadQueueArguments.put("x-queue-type", "quorum");
    channel.queueDeclare(config.deadLetterQueue(), true, false, false, deadQueueArguments);
    channel.queueBind(config.deadLetterQueue(), deadLetterExchange, config.queue());
    Map<String, Object> arguments = new HashMap<>();
    arguments.put("x-queue-type", "quorum");
    arguments.put("x-delivery-limit", config.maxDeliveries() - 1);
    arguments.put("x-dead-letter-exchange", deadLetterExchange);
    arguments.put("x-dead-letter-routing-key", config.queue());
    // At-least-once dead-lettering (RabbitMQ 3.10+): a dead letter is never dropped on the way.
    arguments.put("x-dead-letter-strategy", "at-least-once");
    arguments.put("x-overflow", "reject-publish");
    channel.queueDeclare(config.queue(), true, false, false, arguments);
    for (String key : config.bindingKeys()) {
      channel.queueBind(config.queue(), target.exchange(), key);
    }
  }

  @Override
  public void close() {
    if (connection.isOpen()) {
      try {
        connection.close(5_000);
      } catch (IOException | ShutdownSignalException e) {
        log.warn("closing the consumer of {} from {}: {}", config.queue(), target, e.toString());
      }
    }
  }

  private final class Deliveries extends DefaultConsumer {
    Deliveries(Channel channel) {
      super(channel);
    }

    @Override
    public void handleDelivery(
        String consumerTag, Envelope envelope, AMQP.BasicProperties properties, byte[] body)
        throws IOException {
      boolean manual = config.acknowledgement() == Acknowledgement.AFTER_HANDLER;
      long tag = envelope.getDeliveryTag();
      TransactionalMessage message;
      try {
        message = AmqpHeaders.decode(properties, body);
      } catch (IllegalArgumentException e) {
        log.error("undecodable message on {} dead-lettered: {}", config.queue(), e.getMessage());
        if (manual) {
          channel.basicReject(tag, false);
        }
        return;
      }
      try {
        handler.handle(message);
      } catch (RuntimeException e) {
        if (!manual) {
          log.error(
              "handler failed on message {} from {}; it is lost (at-most-once acknowledgement)",
              message.id(),
              config.queue(),
              e);
          return;
        }
        log.warn(
            "handler failed on message {} from {} (delivery {} of at most {}): {}",
            message.id(),
            config.queue(),
            deliveryCount(properties) + 1,
            config.maxDeliveries(),
            e.toString());
        pauseBeforeRedelivery();
        settle(message.id(), () -> channel.basicNack(tag, false, true));
        return;
      }
      if (manual) {
        settle(message.id(), () -> channel.basicAck(tag, false));
      }
    }

    /**
     * Acknowledges (or hands back) a delivery; when the channel closed meanwhile (the consumer is
     * closing, the connection was lost) the broker delivers the message again, so that is logged,
     * not thrown.
     */
    private void settle(String id, AmqpAction action) throws IOException {
      try {
        action.run();
      } catch (ShutdownSignalException e) {
        log.info(
            "message {} from {} not settled, the channel closed; the broker delivers it again",
            id,
            config.queue());
      }
    }

    private void pauseBeforeRedelivery() {
      if (config.redeliveryDelay().isZero()) {
        return;
      }
      try {
        Thread.sleep(config.redeliveryDelay());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** One AMQP call on the channel. */
  @FunctionalInterface
  private interface AmqpAction {
    void run() throws IOException;
  }

  /** Earlier deliveries of this message, as the quorum queue counts them. */
  private static long deliveryCount(AMQP.BasicProperties properties) {
    if (properties.getHeaders() != null
        && properties.getHeaders().get("x-delivery-count") instanceof Number count) {
      return count.longValue();
    }
    return 0;
  }
}
