package dev.pledge.broker.kafka;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.broker.testkit.InboxLedger;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Duplicates of every kind reach the consumer (a relay's republish, publishes in flight when the
 * link was cut and published again, redeliveries after a lost acknowledgement), and through the
 * SDK's inbox each message's effect happens exactly once.
 */
class KafkaExactlyOnceTest {
  @Test
  void duplicatesFromRepublishesAndLostAcks_haveTheirEffectExactlyOnce() {
    EmbeddedKafka kafka = EmbeddedKafka.get();
    String name = "exactly-once-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    kafka.createTopic(name, 3);
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
    KafkaTarget direct = KafkaTarget.parse(URI.create("kafka://" + kafka.direct() + "/" + name));
    try (InboxLedger ledger = new InboxLedger(name, Set.of(sent.get(5).id(), sent.get(25).id()));
        KafkaMessageConsumer consumer =
            KafkaMessageConsumer.start(
                direct,
                KafkaConsumerConfig.of(name + "-group").withRetryDelay(Duration.ofMillis(20)),
                ledger.handler());
        MessageSink sink =
            new KafkaSinkProvider(KafkaSinkContractTest.CONFIG)
                .open(URI.create("kafka://" + kafka.proxied() + "/" + name))) {
      for (TransactionalMessage m : sent.subList(0, 20)) {
        sink.publish(m).join();
        sink.publish(m).join();
      }
      kafka.proxy.stall();
      List<CompletableFuture<Void>> acks =
          sent.subList(20, 40).stream().map(sink::publish).toList();
      kafka.proxy.cut();
      kafka.proxy.restore();
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
      kafka.proxy.resume();
      kafka.proxy.restore();
    }
  }
}
