package dev.pledge.broker.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.broker.testkit.InboxLedger;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.testkit.net.TcpProxy;
import io.nats.client.Connection;
import java.net.URI;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * Duplicates reach the consumer (redeliveries after a lost acknowledgement; a relay's republishes
 * and the publishes in flight when the link was cut are first deduplicated by JetStream's
 * Nats-Msg-Id window), and through the SDK's inbox each message's effect happens exactly once.
 */
class NatsExactlyOnceTest {
  @Test
  void duplicatesFromRepublishesAndLostAcks_haveTheirEffectExactlyOnce() throws Exception {
    String name = "eo" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
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
    NatsTarget direct =
        NatsTarget.parse(
            URI.create("nats://" + NatsServer.HOST + ":" + NatsServer.PORT + "/" + name));
    try (TcpProxy proxy = TcpProxy.start(NatsServer.HOST, NatsServer.PORT);
        InboxLedger ledger = new InboxLedger(name, Set.of(sent.get(5).id(), sent.get(25).id()));
        NatsConsumer consumer =
            NatsConsumer.start(
                direct,
                NatsConsumerConfig.of(name, "shipping").withRetryDelay(Duration.ofMillis(20)),
                ledger.handler());
        MessageSink sink =
            new NatsSinkProvider(NatsSinkContractTest.CONFIG)
                .open(URI.create("nats://" + proxy.host() + ":" + proxy.port() + "/" + name))) {
      for (TransactionalMessage m : sent.subList(0, 20)) {
        sink.publish(m).join();
        sink.publish(m).join();
      }
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
      try (Connection admin = NatsServer.connect()) {
        admin.jetStreamManagement().deleteStream(name);
        admin.jetStreamManagement().deleteStream(name + "_dead");
      }
    }
  }
}
