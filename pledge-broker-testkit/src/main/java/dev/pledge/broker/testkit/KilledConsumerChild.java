package dev.pledge.broker.testkit;

import dev.pledge.client.inbox.InboxOutcome;
import dev.pledge.core.spi.MessageHandler;
import java.sql.SQLException;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The child side of the broker modules' consumer-killed tests: a handler feeding the SDK's inbox
 * ({@link InboxLedger}) that prints {@code HANDLED <id>} or {@code DUPLICATE <id>} per delivery
 * after the inbox's transaction committed. With a positive hang-after it stops after the effect of
 * that many messages committed and before the adapter acknowledges the last of them, and prints
 * {@code HANGING <id>}: a {@code kill -9} then lands between the effect and the ack. Each module's
 * {@code ConsumerChild} starts its own adapter with {@link #handler()}, then calls {@link
 * #ready()}.
 */
public final class KilledConsumerChild {
  private final InboxLedger ledger;
  private final int hangAfter;
  private final AtomicInteger handled = new AtomicInteger();

  /** The ledger named {@code name}; hang-after 0 never hangs. */
  public KilledConsumerChild(String name, int hangAfter) {
    this.ledger = new InboxLedger(name, Set.of());
    this.hangAfter = hangAfter;
  }

  /** The handler to give the broker's consumer adapter. */
  public MessageHandler handler() {
    return message -> {
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
    };
  }

  /** Prints {@code READY} (the adapter is consuming) and waits until the process is killed. */
  public void ready() {
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
