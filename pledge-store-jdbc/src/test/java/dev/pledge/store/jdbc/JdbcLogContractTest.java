package dev.pledge.store.jdbc;

import dev.pledge.core.spi.TransactionLog;
import dev.pledge.testkit.contract.TransactionLogContract;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.AfterEach;

/**
 * The log's contract against a real database. Each concrete class names one database; its tables
 * get a prefix of their own, so runs never see each other's rows, and are emptied before every
 * test. A database that cannot be reached fails every test loudly: these tests never skip.
 */
abstract class JdbcLogContractTest extends TransactionLogContract {
  private final List<JdbcTransactionLog> opened = new ArrayList<>();
  private JdbcLogConfig config;

  /** The database, with the defaults except the table prefix. */
  abstract JdbcLogConfig database();

  @Override
  protected TransactionLog newLog() {
    if (config == null) {
      String prefix = "c" + Long.toString(ThreadLocalRandom.current().nextLong(1L << 40), 36) + "_";
      config = database().withTablePrefix(prefix);
    }
    JdbcTransactionLog log = track(JdbcTransactionLog.open(config));
    empty();
    return log;
  }

  @Override
  protected TransactionLog reopen(TransactionLog log) {
    ((JdbcTransactionLog) log).close();
    return track(JdbcTransactionLog.open(config));
  }

  @Override
  protected TransactionLog newHandle(TransactionLog log) {
    return track(JdbcTransactionLog.open(config));
  }

  private JdbcTransactionLog track(JdbcTransactionLog log) {
    opened.add(log);
    return log;
  }

  @AfterEach
  final void closeLogs() {
    opened.forEach(JdbcTransactionLog::close);
    opened.clear();
  }

  /** Deletes every row the previous test left (the tables stay; the epochs stay increasing). */
  private void empty() {
    try (Connection connection =
            DriverManager.getConnection(
                config.jdbcUrl().replaceFirst("^jdbc:mysql:", "jdbc:mariadb:"),
                config.user(),
                config.password());
        Statement statement = connection.createStatement()) {
      statement.execute("DELETE FROM " + config.tablePrefix() + "transactions");
      statement.execute("DELETE FROM " + config.tablePrefix() + "history");
    } catch (SQLException e) {
      throw new IllegalStateException("cannot empty the log's tables at " + config, e);
    }
  }
}
