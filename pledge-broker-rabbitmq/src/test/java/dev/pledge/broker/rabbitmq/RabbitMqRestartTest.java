package dev.pledge.broker.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.pledge.broker.testkit.InboxLedger;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageHandler;
import dev.pledge.core.spi.MessageSink;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * The RabbitMQ server on this machine restarted ({@code rabbitmqctl stop_app}, then {@code
 * start_app}) while the consumer holds messages whose effect committed but whose acknowledgement
 * was not sent: the persistent messages on the durable quorum queue survive, the broker delivers
 * the unacknowledged ones again once the consumer's connection recovers, and through the inbox each
 * effect happens exactly once. The broker is left running.
 */
class RabbitMqRestartTest {
  @Test
  void brokerRestartedWithUnackedMessages_redeliversThem_andEachIsProcessedOnce() throws Exception {
    String name = "restart-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    List<TransactionalMessage> sent =
        IntStream.range(0, 20)
            .mapToObj(i ->
                new TransactionalMessage(
                    name + ":" + i, "order.placed", "k" + (i % 3), "{\"i\":" + i + "}", null, "g"))
            .toList();
    CountDownLatch holding = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger held = new AtomicInteger();
    try (InboxLedger ledger = new InboxLedger(name, Set.of())) {
      MessageHandler inner = ledger.handler();
      // The first message's effect commits, then its acknowledgement waits for the restart.
      MessageHandler handler =
          message -> {
            inner.handle(message);
            if (held.getAndIncrement() == 0) {
              holding.countDown();
              try {
                if (!release.await(60, TimeUnit.SECONDS)) {
                  throw new IllegalStateException("never released");
                }
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
            }
          };
      try (RabbitMqConsumer consumer =
              RabbitMqConsumer.start(
                  AmqpTarget.parse(
                      RabbitMqBroker.target(RabbitMqBroker.HOST, RabbitMqBroker.PORT, name)),
                  RabbitMqConsumerConfig.of(name).withRedeliveryDelay(Duration.ofMillis(20)),
                  handler);
          MessageSink sink =
              new RabbitMqSinkProvider(RabbitMqSinkContractTest.CONFIG)
                  .open(RabbitMqBroker.target(RabbitMqBroker.HOST, RabbitMqBroker.PORT, name))) {
        for (TransactionalMessage m : sent) {
          sink.publish(m).join(); // confirmed: persistent on the durable queue
        }
        assertThat(holding.await(30, TimeUnit.SECONDS)).as("the consumer holds a message").isTrue();
        int effectsBefore = ledger.effects().size();

        RabbitMqBroker.rabbitmqctl("stop_app");
        release.countDown(); // its acknowledgement now goes nowhere
        RabbitMqBroker.rabbitmqctl("start_app");
        RabbitMqBroker.rabbitmqctl("await_startup");

        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> ledger.assertExactlyOnce(sent));
        assertThat(effectsBefore).as("an effect committed before the restart").isPositive();
        assertThat(ledger.deliveries())
            .as("the unacknowledged message was delivered again after the restart")
            .isGreaterThan(sent.size());
      }
    } finally {
      RabbitMqBroker.rabbitmqctl("await_startup");
      try (Connection admin = RabbitMqBroker.connect("cleanup");
          Channel channel = admin.createChannel()) {
        channel.queueDelete(name);
        channel.queueDelete(name + ".dead");
        channel.exchangeDelete(name);
        channel.exchangeDelete(name + ".dead");
      }
    }
  }
}
