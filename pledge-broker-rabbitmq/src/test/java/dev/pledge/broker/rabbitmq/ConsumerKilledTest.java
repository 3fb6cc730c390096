package dev.pledge.broker.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import dev.pledge.broker.testkit.InboxLedger;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.testkit.process.ChildProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A consumer process ({@link ConsumerChild}: {@link RabbitMqConsumer} and the SDK's inbox) killed
 * with {@code -9} mid-stream, after a message's effect committed and before its ack: the broker
 * redelivers what was unacknowledged to the next consumer process, the inbox recognises the one
 * whose effect already ran, and every message's effect happens exactly once, none lost.
 */
class ConsumerKilledTest {
  private static final int MESSAGES = 60;
  private static final int HANG_AFTER = 20;

  @TempDir Path logs;

  @Test
  void consumerKilledBetweenEffectAndAck_nothingLost_effectsExactlyOnce() throws Exception {
    String name = "killed-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    String target =
        RabbitMqBroker.target(RabbitMqBroker.HOST, RabbitMqBroker.PORT, name).toString();
    List<TransactionalMessage> sent =
        IntStream.range(0, MESSAGES)
            .mapToObj(i ->
                new TransactionalMessage(
                    name + ":" + i, "order.placed", "k" + (i % 4), "{\"i\":" + i + "}", null, "g"))
            .toList();
    try (InboxLedger ledger = new InboxLedger(name, Set.of())) {
      String hung;
      try (ChildProcess first = child(target, name, HANG_AFTER, "first")) {
        first.awaitLineStartingWith("READY", Duration.ofSeconds(60));
        try (MessageSink sink =
            new RabbitMqSinkProvider(RabbitMqSinkContractTest.CONFIG)
                .open(RabbitMqBroker.target(RabbitMqBroker.HOST, RabbitMqBroker.PORT, name))) {
          for (TransactionalMessage m : sent) {
            sink.publish(m).join();
          }
        }
        hung = first.awaitLineStartingWith("HANGING ", Duration.ofSeconds(60)).substring(8);
        first.kill9();
      }
      assertThat(ledger.effects()).as("effects before the kill").hasSize(HANG_AFTER);
      assertThat(ledger.effects()).containsKey(hung);

      try (ChildProcess second = child(target, name, 0, "second")) {
        second.awaitLineStartingWith("READY", Duration.ofSeconds(60));
        await().atMost(Duration.ofSeconds(90)).untilAsserted(() -> ledger.assertExactlyOnce(sent));
        // The message whose effect committed but whose ack the kill prevented came again, and the
        // inbox absorbed it.
        second.awaitLine(("DUPLICATE " + hung)::equals, Duration.ofSeconds(30));
      }
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

  private ChildProcess child(String target, String name, int hangAfter, String which) {
    return ChildProcess.startJava(
        "rabbitmq-consumer-" + which,
        ChildProcess.testClasspath(),
        List.of(),
        ConsumerChild.class.getName(),
        List.of(target, name, Integer.toString(hangAfter)),
        logs.resolve(which + ".log"));
  }
}
