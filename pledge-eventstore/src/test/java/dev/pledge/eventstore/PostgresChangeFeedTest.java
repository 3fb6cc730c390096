package dev.pledge.eventstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.eventstore.spi.ChangeFeed;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * PostgreSQL's feed on the real server: another connection's committed {@code pg_notify} wakes it.
 * Each test listens on a channel of its own, so appends of other test classes do not wake it.
 */
class PostgresChangeFeedTest extends ChangeFeedContract {
  private final EventStoreConfig database = TestDatabases.postgres();
  private final String channel = "pledge_es_test_" + UUID.randomUUID().toString().replace("-", "");

  @Override
  protected ChangeFeed open() {
    PostgresChangeFeed feed =
        new PostgresChangeFeed(database.jdbcUrl(), database.user(), database.password(), channel);
    // The feed signals once it listens.
    await().atMost(Duration.ofSeconds(10)).until(() -> feed.generation() > 0);
    return feed;
  }

  @Override
  protected void commitElsewhere(ChangeFeed feed) throws Exception {
    try (Connection c =
            DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
        Statement s = c.createStatement()) {
      c.setAutoCommit(false);
      s.execute("SELECT pg_notify('" + channel + "', '1')");
      c.commit();
    }
  }

  @Test
  void aListeningConnectionTheServerEnds_isOpenedAgain_andWakesWaitersAgain() throws Exception {
    long pid = listeningBackend();
    assertThat(pid).isPositive();
    long before = feed.generation();

    try (Connection c =
            DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
        PreparedStatement s = c.prepareStatement("SELECT pg_terminate_backend(?)")) {
      s.setInt(1, (int) pid);
      try (ResultSet rows = s.executeQuery()) {
        assertThat(rows.next() && rows.getBoolean(1)).isTrue();
      }
    }

    // Listening again on a backend of its own, and it said so (subscriptions read what committed
    // meanwhile).
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() -> {
          long now = listeningBackend();
          return now > 0 && now != pid;
        });
    await().atMost(Duration.ofSeconds(10)).until(() -> feed.generation() > before);
    long seen = feed.generation();
    CompletableFuture<Boolean> waiter =
        CompletableFuture.supplyAsync(() -> {
          try {
            return feed.await(seen, Duration.ofSeconds(30));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        });
    commitElsewhere(feed);
    assertThat(waiter.get(10, TimeUnit.SECONDS)).isTrue();
  }

  /** The pid of the backend listening on this test's channel, 0 if none. */
  private long listeningBackend() throws SQLException {
    try (Connection c =
            DriverManager.getConnection(database.jdbcUrl(), database.user(), database.password());
        PreparedStatement s =
            c.prepareStatement(
                "SELECT pid FROM pg_stat_activity WHERE application_name ="
                    + " 'pledge-eventstore-listen' AND query = ?")) {
      s.setString(1, "LISTEN " + channel);
      try (ResultSet rows = s.executeQuery()) {
        return rows.next() ? rows.getLong(1) : 0;
      }
    }
  }
}
