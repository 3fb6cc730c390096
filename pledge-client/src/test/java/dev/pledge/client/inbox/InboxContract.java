package dev.pledge.client.inbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.client.testing.TestDatabase;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageHandler;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What the inbox promises on every database. The effect adds the message's amount to a balance, so
 * running it twice shows as a wrong balance.
 */
public abstract class InboxContract {
  protected abstract TestDatabase database();

  private TestDatabase db;
  private Inbox inbox;
  private final ExecutorService threads = Executors.newFixedThreadPool(2);

  @BeforeEach
  void cleanTables() {
    db = database();
    db.drop(Inbox.TABLE, "sdk_balance");
    db.execute(
        "CREATE TABLE sdk_balance (account VARCHAR(32) NOT NULL PRIMARY KEY, cents BIGINT NOT NULL)",
        "INSERT INTO sdk_balance VALUES ('a', 0)");
    inbox = Inbox.create(db.dataSource());
  }

  @AfterEach
  void stopThreads() throws InterruptedException {
    threads.shutdownNow();
    assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
  }

  static TransactionalMessage message(String id, long cents) {
    return new TransactionalMessage(
        id, "payments", "a", "{\"cents\":" + cents + "}", Map.of(), "g-" + id);
  }

  static void credit(Connection c, long cents) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("UPDATE sdk_balance SET cents = cents + ? WHERE account = 'a'")) {
      s.setLong(1, cents);
      s.executeUpdate();
    }
  }

  private long balance() {
    return db.queryLong("SELECT cents FROM sdk_balance WHERE account = 'a'");
  }

  @Test
  void aMessageDeliveredThreeTimes_runsItsEffectOnce() throws SQLException {
    TransactionalMessage m = message("m1", 5);
    List<InboxOutcome> outcomes = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      outcomes.add(inbox.handle(m, c -> credit(c, 5)));
    }
    assertThat(outcomes)
        .containsExactly(InboxOutcome.HANDLED, InboxOutcome.DUPLICATE, InboxOutcome.DUPLICATE);
    assertThat(balance()).isEqualTo(5);
  }

  @Test
  void theSameIdWithAnotherPayload_isRefusedLoudly_andRunsNothing() throws SQLException {
    inbox.handle(message("m1", 5), c -> credit(c, 5));
    assertThatThrownBy(() -> inbox.handle(message("m1", 7), c -> credit(c, 7)))
        .isInstanceOf(InboxConflictException.class)
        .hasMessageContaining("m1")
        .hasMessageContaining("other content");
    assertThat(balance()).isEqualTo(5);
  }

  @Test
  void anEffectThatThrows_leavesTheMessageUnhandled_soTheRedeliveryRunsIt() throws SQLException {
    TransactionalMessage m = message("m1", 5);
    assertThatThrownBy(() ->
            inbox.handle(
                m,
                c -> {
                  credit(c, 5);
                  throw new SQLException("disk full");
                }))
        .hasMessage("disk full");
    assertThat(balance()).isZero();
    assertThat(inbox.handle(m, c -> credit(c, 5))).isEqualTo(InboxOutcome.HANDLED);
    assertThat(balance()).isEqualTo(5);
  }

  @Test
  void theSameMessageOnTwoConnectionsAtOnce_runsItsEffectOnce() throws Exception {
    for (int i = 0; i < 10; i++) {
      TransactionalMessage m = message("race-" + i, 1);
      CyclicBarrier start = new CyclicBarrier(2);
      List<Future<InboxOutcome>> both = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        both.add(
            threads.submit(() -> {
              start.await(10, TimeUnit.SECONDS);
              return inbox.handle(m, c -> credit(c, 1));
            }));
      }
      List<InboxOutcome> outcomes = new ArrayList<>();
      for (Future<InboxOutcome> f : both) {
        outcomes.add(f.get(30, TimeUnit.SECONDS));
      }
      assertThat(outcomes).containsExactlyInAnyOrder(InboxOutcome.HANDLED, InboxOutcome.DUPLICATE);
    }
    assertThat(balance()).isEqualTo(10);
  }

  @Test
  void asAMessageHandler_returnsForHandledAndDuplicate_andThrowsForAConflict() {
    MessageHandler handler = inbox.handler((c, m) -> credit(c, 3));
    handler.handle(message("m1", 3));
    handler.handle(message("m1", 3));
    assertThatThrownBy(() -> handler.handle(message("m1", 4)))
        .isInstanceOf(InboxConflictException.class);
    assertThat(balance()).isEqualTo(3);
  }

  @Test
  void purge_deletesOnlyRowsHandledBeforeTheCutoff_withinTheLimit() throws SQLException {
    for (int i = 0; i < 5; i++) {
      inbox.handle(message("m" + i, 1), c -> credit(c, 1));
    }
    assertThat(inbox.purgeHandledBefore(Instant.EPOCH, 10)).isZero();
    assertThat(inbox.purgeHandledBefore(Instant.now().plusSeconds(60), 3)).isEqualTo(3);
    assertThat(db.queryLong("SELECT COUNT(*) FROM pledge_inbox")).isEqualTo(2);
    assertThatThrownBy(() -> inbox.purgeHandledBefore(Instant.now(), 0))
        .hasMessageContaining("limit");
  }
}
