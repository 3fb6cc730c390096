package dev.pledge.client.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.client.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.postgresql.PGConnection;

class PostgresOutboxRelayTest extends SharedOutboxRelayContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.postgres();
  }

  @Test
  void aCommit_wakesTheRelayThroughNotify_longBeforeItsIdleWait() throws SQLException {
    try (OutboxRelay relay =
        OutboxRelay.start(
            db.dataSource(),
            sink(),
            FAST.withIdleWait(Duration.ofSeconds(60)),
            RelayListener.NONE)) {
      // Let the relay reach its wait (its LISTEN connection is open once a first wait began).
      await().atMost(WAIT).until(() -> listening() > 0);
      try (Connection c = db.dataSource().getConnection()) {
        outbox.publish(c, "orders", "a", "{}", null);
      }
      await().atMost(WAIT).until(() -> unpublished() == 0);
      assertThat(broker.messages("out")).hasSize(1);
    }
  }

  @Test
  void withoutNotify_aCommitSendsNoNotification_andTheRelayStillFindsTheRowAfterItsIdleWait()
      throws SQLException {
    Outbox quiet = outbox.withoutNotify();
    assertThat(quiet.notifies()).isFalse();
    assertThat(outbox.notifies()).isTrue();
    try (Connection listener = db.dataSource().getConnection()) {
      try (Statement s = listener.createStatement()) {
        s.execute("LISTEN " + Outbox.CHANNEL);
      }
      PGConnection pg = listener.unwrap(PGConnection.class);
      try (Connection c = db.dataSource().getConnection()) {
        quiet.publish(c, "orders", "a", "{}", null);
      }
      assertThat(pg.getNotifications(500)).isEmpty();
      try (Connection c = db.dataSource().getConnection()) {
        outbox.publish(c, "orders", "a", "{}", null);
      }
      assertThat(pg.getNotifications(5000)).hasSize(1);
    }
    try (OutboxRelay relay =
        OutboxRelay.start(
            db.dataSource(),
            sink(),
            FAST.withIdleWait(Duration.ofMillis(50)),
            RelayListener.NONE)) {
      await().atMost(WAIT).until(() -> unpublished() == 0);
      assertThat(broker.messages("out")).hasSize(2);
    }
  }

  private long listening() {
    return db.queryLong(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE query LIKE 'LISTEN pledge_outbox%'");
  }
}
