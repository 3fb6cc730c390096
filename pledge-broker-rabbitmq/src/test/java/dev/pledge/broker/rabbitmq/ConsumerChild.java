package dev.pledge.broker.rabbitmq;

import dev.pledge.broker.testkit.KilledConsumerChild;
import java.net.URI;
import java.time.Duration;

/**
 * A {@link RabbitMqConsumer} feeding the SDK's inbox in a process of its own, for {@link
 * ConsumerKilledTest}; what it prints and when it hangs: {@link KilledConsumerChild}. Arguments:
 * the amqp target, the queue and ledger name, hang-after (0: never).
 */
public final class ConsumerChild {
  private ConsumerChild() {}

  public static void main(String[] args) {
    KilledConsumerChild child = new KilledConsumerChild(args[1], Integer.parseInt(args[2]));
    RabbitMqConsumer.start(
        AmqpTarget.parse(URI.create(args[0])),
        RabbitMqConsumerConfig.of(args[1])
            .withPrefetch(8)
            .withRedeliveryDelay(Duration.ofMillis(20)),
        child.handler());
    child.ready();
  }
}
