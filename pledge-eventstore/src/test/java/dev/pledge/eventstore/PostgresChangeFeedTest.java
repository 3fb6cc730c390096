package dev.pledge.eventstore;

import static org.awaitility.Awaitility.await;

import dev.pledge.eventstore.spi.ChangeFeed;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.UUID;

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
}
