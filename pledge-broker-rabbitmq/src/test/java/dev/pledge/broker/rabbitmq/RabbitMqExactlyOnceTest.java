package dev.pledge.broker.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.pledge.broker.testkit.InboxLedger;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.testkit.net.TcpProxy;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Duplicates of every kind reach the consumer (a relay's republish, the sink's republish after a
 * cut connection, redeliveries after a lost acknowledgement), and through the SDK's inbox each
 * message's effect happens exactly once.
 */
class RabbitMqExactlyOnceTest {
  @Test
  void duplicatesFromRepublishesAndLostAcks_haveTheirEffectExactlyOnce() throws Exception {
    String name = "exactly-once-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    List<TransactionalMessage> sent =
        IntStream.range(0, 40)
            .mapToObj(i ->
                new TransactionalMessage(
                    name + ":" + i,
                    "order.placed",
                    "k" + (i % 4),
                    "{\"i\":" + i + "}",
                    null,
                    "g" + i))
            .toList();
    AmqpTarget direct =
        AmqpTarget.parse(RabbitMqBroker.target(RabbitMqBroker.HOST, RabbitMqBroker.PORT, name));
    try (TcpProxy proxy = TcpProxy.start(RabbitMqBroker.HOST, RabbitMqBroker.PORT);
        InboxLedger ledger = new InboxLedger(name, Set.of(sent.get(5).id(), sent.get(25).id()));
        RabbitMqConsumer consumer =
            RabbitMqConsumer.start(
                direct,
                RabbitMqConsumerConfig.of(name).withRedeliveryDelay(Duration.ofMillis(20)),
                ledger.handler());
        MessageSink sink =
            new RabbitMqSinkProvider(RabbitMqSinkContractTest.CONFIG)
                .open(RabbitMqBroker.target(proxy.host(), proxy.port(), name))) {
      // A relay that publishes everything twice, as after an unknown outcome.
      for (TransactionalMessage m : sent.subList(0, 20)) {
        sink.publish(m).join();
        sink.publish(m).join();
      }
      // The connection cut with publishes in flight: the sink republishes what was unconfirmed.
      proxy.stall();
      List<CompletableFuture<Void>> acks =
          sent.subList(20, 40).stream().map(sink::publish).toList();
      proxy.cut();
      proxy.restore();
      for (int i = 0; i < acks.size(); i++) {
        TransactionalMessage m = sent.get(20 + i);
        CompletableFuture<Void> ack = acks.get(i);
        await().atMost(Duration.ofSeconds(60)).until(ack::isDone);
        if (ack.isCompletedExceptionally()) {
          await()
              .atMost(Duration.ofSeconds(60))
              .until(() -> sink.publish(m).handle((v, e) -> e == null).join());
        }
      }

      await().atMost(Duration.ofSeconds(60)).untilAsserted(() -> ledger.assertExactlyOnce(sent));
      assertThat(ledger.deliveries()).as("duplicates did arrive").isGreaterThan(sent.size());
    } finally {
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
