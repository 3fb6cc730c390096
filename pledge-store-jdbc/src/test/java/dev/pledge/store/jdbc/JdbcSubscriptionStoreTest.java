package dev.pledge.store.jdbc;

import dev.pledge.core.spi.SubscriptionStore;
import dev.pledge.testkit.contract.SubscriptionStoreContract;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.io.TempDir;

/** The subscription store's contract on each real database, through the log that implements it. */
class JdbcSubscriptionStoreTest {
  @TempDir static Path folder;

  @Nested
  class Sqlite extends OnDatabase {
    @Override
    JdbcLogConfig database() {
      return JdbcLogConfig.forUrl("jdbc:sqlite:" + folder.resolve("subscriptions.db"));
    }
  }

  @Nested
  class Postgres extends OnDatabase {
    @Override
    JdbcLogConfig database() {
      return TestDatabases.postgres();
    }
  }

  @Nested
  class Mariadb extends OnDatabase {
    @Override
    JdbcLogConfig database() {
      return TestDatabases.mariadb();
    }
  }

  abstract static class OnDatabase extends SubscriptionStoreContract {
    private final List<JdbcTransactionLog> opened = new ArrayList<>();
    private JdbcLogConfig config;

    abstract JdbcLogConfig database();

    @Override
    protected SubscriptionStore newStore() {
      String prefix = "s" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36) + "_";
      config = database().withTablePrefix(prefix);
      JdbcTransactionLog log = JdbcTransactionLog.open(config);
      opened.add(log);
      return log;
    }

    @Override
    protected SubscriptionStore reopen(SubscriptionStore store) {
      ((JdbcTransactionLog) store).close();
      JdbcTransactionLog log = JdbcTransactionLog.open(config);
      opened.add(log);
      return log;
    }

    /** Closes the logs and drops this test's tables, which no other test shares. */
    @AfterEach
    final void dropTables() throws SQLException {
      opened.forEach(JdbcTransactionLog::close);
      opened.clear();
      try (Connection connection =
              DriverManager.getConnection(config.jdbcUrl(), config.user(), config.password());
          Statement statement = connection.createStatement()) {
        for (String table :
            List.of(
                "transactions", "history", "epochs", "subscriptions", "audit", "schema_version")) {
          statement.execute("DROP TABLE IF EXISTS " + config.tablePrefix() + table);
        }
      }
    }
  }
}
