package dev.pledge.broker.nats;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.broker.testkit.InboxLedger;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.testkit.process.ChildProcess;
import io.nats.client.Connection;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A consumer process ({@link ConsumerChild}: {@link NatsConsumer} and the SDK's inbox) killed with
 * {@code -9} mid-stream, after a message's effect committed and before its ack: JetStream
 * redelivers what was unacknowledged (after AckWait) to the next consumer process on the same
 * durable, the inbox recognises the one whose effect already ran, and every message's effect
 * happens exactly once, none lost.
 */
class ConsumerKilledTest {
  private static final int MESSAGES = 60;
  private static final int HANG_AFTER = 20;

  @TempDir Path logs;

  @Test
  void consumerKilledBetweenEffectAndAck_nothingLost_effectsExactlyOnce() throws Exception {
    String name = "killed" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    URI target = URI.create("nats://" + NatsServer.HOST + ":" + NatsServer.PORT + "/" + name);
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
        try (MessageSink sink = new NatsSinkProvider(NatsSinkContractTest.CONFIG).open(target)) {
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
      try (Connection admin = NatsServer.connect()) {
        admin.jetStreamManagement().deleteStream(name);
        admin.jetStreamManagement().deleteStream(name + "_dead");
      }
    }
  }

  private ChildProcess child(URI target, String name, int hangAfter, String which) {
    return ChildProcess.startJava(
        "nats-consumer-" + which,
        ChildProcess.testClasspath(),
        List.of(),
        ConsumerChild.class.getName(),
        List.of(target.toString(), name, Integer.toString(hangAfter)),
        logs.resolve(which + ".log"));
  }
}
