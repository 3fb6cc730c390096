package dev.pledge.broker.rabbitmq;

import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * How a {@link RabbitMqConsumer} reads a queue. Checked when built.
 *
 * @param queue the durable (quorum) queue to read, declared when absent
 * @param bindingKeys routing-key patterns binding the queue to the target's exchange ({@code #}:
 *     every topic); at least one, at most 64
 * @param prefetch unacknowledged deliveries the broker sends ahead, at most (AMQP {@code
 *     basic.qos})
 * @param maxDeliveries deliveries of one message, at most: after that many failed ones the message
 *     goes to the dead-letter queue (the queue's {@code x-delivery-limit} is this minus one)
 * @param redeliveryDelay how long the consumer waits after a failed delivery before handing the
 *     message back, so that a failing dependency is not hammered
 * @param acknowledgement when the broker is told a message is done; {@link
 *     Acknowledgement#AFTER_HANDLER} unless at-most-once is wanted
 */
public record RabbitMqConsumerConfig(
    String queue,
    List<String> bindingKeys,
    int prefetch,
    int maxDeliveries,
    Duration redeliveryDelay,
    Acknowledgement acknowledgement) {

  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:-]{1,200}");

  /** When a delivery is acknowledged. */
  public enum Acknowledgement {
    /**
     * After the handler returned, that is after the consumer's local transaction committed: at
     * least once. The default.
     */
    AFTER_HANDLER,
    /**
     * When the broker sends the message, before the handler runs: AT MOST ONCE. A message whose
     * handler fails, or that is in flight when the consumer dies, is lost. Opt in only for data
     * that may be lost.
     */
    AUTO_AT_MOST_ONCE
  }

  public RabbitMqConsumerConfig {
    Objects.requireNonNull(queue, "queue");
    if (!NAME.matcher(queue).matches() || queue.startsWith("amq.")) {
      throw new IllegalArgumentException(
          "queue must match [A-Za-z0-9._:-]{1,200} and not start with amq., got \"" + queue + "\"");
    }
    Objects.requireNonNull(bindingKeys, "bindingKeys");
    bindingKeys = List.copyOf(bindingKeys);
    if (bindingKeys.isEmpty() || bindingKeys.size() > 64) {
      throw new IllegalArgumentException(
          "bindingKeys must hold 1 to 64 patterns, got " + bindingKeys.size());
    }
    for (String key : bindingKeys) {
      if (key.isEmpty() || key.length() > 255) {
        throw new IllegalArgumentException(
            "each binding key must be 1 to 255 characters, got \"" + key + "\"");
      }
    }
    if (prefetch < 1 || prefetch > 1000) {
      throw new IllegalArgumentException("prefetch must be in [1, 1000], got " + prefetch);
    }
    if (maxDeliveries < 1 || maxDeliveries > 1000) {
      throw new IllegalArgumentException(
          "maxDeliveries must be in [1, 1000], got " + maxDeliveries);
    }
    Objects.requireNonNull(redeliveryDelay, "redeliveryDelay");
    if (redeliveryDelay.isNegative() || redeliveryDelay.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException(
          "redeliveryDelay must be in [0, 1 min], got " + redeliveryDelay);
    }
    Objects.requireNonNull(acknowledgement, "acknowledgement");
  }

  /**
   * Every topic of the exchange into {@code queue}, prefetch 16, 5 deliveries, 200 ms between them,
   * acknowledged after the handler.
   */
  public static RabbitMqConsumerConfig of(String queue) {
    return new RabbitMqConsumerConfig(
        queue, List.of("#"), 16, 5, Duration.ofMillis(200), Acknowledgement.AFTER_HANDLER);
  }

  public RabbitMqConsumerConfig withBindingKeys(List<String> value) {
    return new RabbitMqConsumerConfig(
        queue, value, prefetch, maxDeliveries, redeliveryDelay, acknowledgement);
  }

  public RabbitMqConsumerConfig withPrefetch(int value) {
    return new RabbitMqConsumerConfig(
        queue, bindingKeys, value, maxDeliveries, redeliveryDelay, acknowledgement);
  }

  public RabbitMqConsumerConfig withMaxDeliveries(int value) {
    return new RabbitMqConsumerConfig(
        queue, bindingKeys, prefetch, value, redeliveryDelay, acknowledgement);
  }

  public RabbitMqConsumerConfig withRedeliveryDelay(Duration value) {
    return new RabbitMqConsumerConfig(
        queue, bindingKeys, prefetch, maxDeliveries, value, acknowledgement);
  }

  public RabbitMqConsumerConfig withAcknowledgement(Acknowledgement value) {
    return new RabbitMqConsumerConfig(
        queue, bindingKeys, prefetch, maxDeliveries, redeliveryDelay, value);
  }

  /** The dead-letter queue: {@code <queue>.dead}. */
  public String deadLetterQueue() {
    return queue + ".dead";
  }
}
