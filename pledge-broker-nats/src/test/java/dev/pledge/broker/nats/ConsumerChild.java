package dev.pledge.broker.nats;

import dev.pledge.broker.testkit.InboxLedger;
import dev.pledge.client.inbox.InboxOutcome;
import java.net.URI;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A {@link NatsConsumer} feeding the SDK's inbox ({@link InboxLedger}) in a process of its own, for
 * {@link ConsumerKilledTest}. Prints {@code READY} once consuming, then {@code HANDLED <id>} or
 * {@code DUPLICATE <id>} per delivery after the inbox's transaction committed. With a positive
 * hang-after it stops, after the effect of that many messages committed and before the adapter
 * acknowledges the last of them, and prints {@code HANGING <id>}: a {@code kill -9} then lands
 * between the effect and the ack. Arguments: the nats target, the stream and ledger name,
 * hang-after (0: never).
 */
public final class ConsumerChild {
  private ConsumerChild() {}

  public static void main(String[] args) throws Exception {
    URI target = URI.create(args[0]);
    String name = args[1];
    int hangAfter = Integer.parseInt(args[2]);
    InboxLedger ledger = new InboxLedger(name, Set.of());
    AtomicInteger handled = new AtomicInteger();
    // Redelivery after a consumer died waits for AckWait: 2 s here, 30 s by default.
    NatsConsumer.start(
        NatsTarget.parse(target),
        NatsConsumerConfig.of(name, "shipping")
            .withMaxAckPending(8)
            .withAckWait(Duration.ofSeconds(2))
            .withRetryDelay(Duration.ofMillis(20)),
        message -> {
          InboxOutcome outcome;
          try {
            outcome = ledger.handle(message);
          } catch (SQLException e) {
            throw new IllegalStateException(e);
          }
          System.out.println(outcome + " " + message.id());
          if (outcome == InboxOutcome.HANDLED && handled.incrementAndGet() == hangAfter) {
            System.out.println("HANGING " + message.id());
            System.out.flush();
            awaitForever();
          }
          System.out.flush();
        });
    System.out.println("READY");
    System.out.flush();
    awaitForever();
  }

  private static void awaitForever() {
    try {
      new CountDownLatch(1).await();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
