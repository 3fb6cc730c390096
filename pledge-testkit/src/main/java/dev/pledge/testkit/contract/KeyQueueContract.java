package dev.pledge.testkit.contract;

import static dev.pledge.testkit.contract.Fixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.Mode;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Outcome;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Event;
import dev.pledge.core.spi.TransactionLog.QueueHead;
import dev.pledge.core.spi.TransactionLog.QueueKey;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Key queues: order per key across transactions, kept in the log(). */
interface KeyQueueContract extends LogContractPart {
  QueueKey BILLING_ORDER_7 = new QueueKey("billing", "order-7");
  QueueKey SHIPPING_ORDER_7 = new QueueKey("shipping", "order-7");

  /** A msg committed and fanned out, nothing of its two keyed messages sent yet. */
  private static Story fannedOut(Story story) {
    return story
        .after(Duration.ofMillis(2))
        .on(new Event.SubscribersResolved(Fixtures.SUBSCRIPTIONS));
  }

  private static String messageOf(Story story, int index) {
    return story.latest().gid().value() + "#" + index;
  }

  private static QueueHead head(QueueKey queue, Story story, int index, boolean started) {
    return new QueueHead(queue, story.latest().gid(), messageOf(story, index), started);
  }

  /** Writes the versions of {@code story} after {@code written} (0: creates it too). */
  private int writeFrom(Story story, int written) {
    List<Transaction> versions = story.versions();
    for (int i = written; i < versions.size(); i++) {
      Transaction next = versions.get(i);
      if (i == 0) {
        log().create(next, story.historyOf(1));
      } else {
        log().update(next, story.historyOf(next.version()));
      }
    }
    return versions.size();
  }

  @Test
  default void heads_ofKeyQueues_followCommitOrderAcrossTransactions_andMoveOnWhenTheHeadIsDone() {
    Story first = fannedOut(Fixtures.msgCommitting(gid("first"), T0));
    Story second = fannedOut(Fixtures.msgCommitting(gid("second"), T0.plusSeconds(1)));
    int firstWritten = writeFrom(first, 0);
    int secondWritten = writeFrom(second, 0);
    // Both transactions put #1 and #2 (key order-7) in the billing and shipping queues: the first
    // one's #1 heads both, in the order of the writes that committed them.
    assertThat(log().heads(List.of(BILLING_ORDER_7, SHIPPING_ORDER_7)))
        .containsExactlyInAnyOrder(
            head(BILLING_ORDER_7, first, 1, false), head(SHIPPING_ORDER_7, first, 1, false));
    assertThat(
            log()
                .heads(
                    List.of(new QueueKey("billing", "order-8"), new QueueKey("nobody", "order-7"))))
        .isEmpty();

    // Sent, it is started; acknowledged, it leaves, and the next of the same transaction heads.
    first.on(new Event.KeyTurn(messageOf(first, 1), "billing"));
    firstWritten = writeFrom(first, firstWritten);
    assertThat(log().heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, first, 1, true));
    first.answerDelivery(messageOf(first, 1), "billing", new Outcome.Unknown("HTTP 503"));
    firstWritten = writeFrom(first, firstWritten);
    assertThat(log().heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, first, 1, true));
    first
        .after(Duration.ofSeconds(1))
        .on(new Event.Tick())
        .answerDelivery(messageOf(first, 1), "billing", Outcome.SUCCEEDED);
    firstWritten = writeFrom(first, firstWritten);
    assertThat(log().heads(List.of(BILLING_ORDER_7, SHIPPING_ORDER_7)))
        .containsExactlyInAnyOrder(
            head(BILLING_ORDER_7, first, 2, false), head(SHIPPING_ORDER_7, first, 1, false));

    // The write that frees the head for another transaction makes that one due at once.
    Instant freedAt = first.now().plusSeconds(1);
    first.at(freedAt).on(new Event.KeyTurn(messageOf(first, 2), "billing"));
    firstWritten = writeFrom(first, firstWritten);
    assertThat(second.latest().wakeAt()).isAfter(freedAt);
    first.answerDelivery(messageOf(first, 2), "billing", Outcome.SUCCEEDED);
    firstWritten = writeFrom(first, firstWritten);
    assertThat(log().heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, second, 1, false));
    assertThat(log().due(freedAt, 10)).contains(second.latest());
    assertThat(log().heads(List.of(SHIPPING_ORDER_7)))
        .containsExactly(head(SHIPPING_ORDER_7, first, 1, false));

    // The queues are in the log(): another handle, and the log reopened, see the same heads.
    assertThat(anotherHandle().heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, second, 1, false));
    reopenLog();
    assertThat(log().heads(List.of(BILLING_ORDER_7, SHIPPING_ORDER_7)))
        .containsExactlyInAnyOrder(
            head(BILLING_ORDER_7, second, 1, false), head(SHIPPING_ORDER_7, first, 1, false));
    assertThat(secondWritten).isEqualTo(second.versions().size());
  }

  @Test
  default void heads_ofKeyQueues_skipADeadHead_andARedrivenDeliveryJoinsTheTail() {
    // Delivered by the impatient engine: one failed attempt makes a dead letter.
    Story first =
        fannedOut(
            Story.start(
                    Fixtures.IMPATIENT_ENGINE,
                    Fixtures.spec(Mode.MSG, gid("first"), Fixtures.TIMEOUT),
                    T0)
                .after(Duration.ofMillis(80))
                .on(new Event.CommitRequested()));
    Story second = fannedOut(Fixtures.msgCommitting(gid("second"), T0.plusSeconds(1)));
    int firstWritten = writeFrom(first, 0);
    writeFrom(second, 0);
    for (int index = 1; index <= 2; index++) {
      first.on(new Event.KeyTurn(messageOf(first, index), "billing"));
      first.answerDelivery(messageOf(first, index), "billing", new Outcome.Unknown("HTTP 503"));
      assertThat(
              first
                  .latest()
                  .message(messageOf(first, index))
                  .delivery("billing")
                  .progress()
                  .status())
          .isEqualTo(OpStatus.DEAD);
      firstWritten = writeFrom(first, firstWritten);
    }
    // Dead letters leave their queue: the next transaction's message heads it.
    assertThat(log().heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, second, 1, false));

    // Re-driven, a dead letter joins the tail, behind what was queued meanwhile.
    first.on(new Event.Redrive(messageOf(first, 1), "billing"));
    writeFrom(first, firstWritten);
    assertThat(log().heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, second, 1, false));
    int secondWritten = second.versions().size();
    second.takeTurns();
    for (int index = 1; index <= 2; index++) {
      second.answerDelivery(messageOf(second, index), "billing", Outcome.SUCCEEDED);
      second.takeTurns();
    }
    writeFrom(second, secondWritten);
    assertThat(log().heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, first, 1, false));
  }
}
