package dev.pledge.client.testing;

import dev.pledge.client.sql.Dialect;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import javax.sql.DataSource;
import org.mariadb.jdbc.MariaDbDataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The SDK's test databases: {@code pledge_sdk_test} on the local PostgreSQL and MariaDB, and a
 * SQLite file in a fresh temporary directory. A database that cannot be reached fails the test (a
 * service that is missing is never a skip).
 */
public record TestDatabase(Dialect dialect, DataSource dataSource) {

  public static TestDatabase postgres() {
    PGSimpleDataSource source = new PGSimpleDataSource();
    source.setUrl("jdbc:postgresql://127.0.0.1:5432/pledge_sdk_test");
    source.setUser("postgres");
    return new TestDatabase(Dialect.POSTGRESQL, source);
  }

  public static TestDatabase mariadb() {
    try {
      MariaDbDataSource source =
          new MariaDbDataSource("jdbc:mariadb://127.0.0.1:3306/pledge_sdk_test?user=root");
      return new TestDatabase(Dialect.MARIADB, source);
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * xa's database on the local PostgreSQL, {@code pledge_xa_test} (its own, since prepared
   * transactions outlive a test), or {@code PLEDGE_TEST_XA_POSTGRES_URL}.
   */
  public static TestDatabase postgresXa() {
    PGSimpleDataSource source = new PGSimpleDataSource();
    source.setUrl(
        env("PLEDGE_TEST_XA_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/pledge_xa_test"));
    source.setUser(env("PLEDGE_TEST_XA_POSTGRES_USER", "postgres"));
    return new TestDatabase(Dialect.POSTGRESQL, source);
  }

  /**
   * xa's database on the local MariaDB, {@code pledge_xa_test}, or {@code
   * PLEDGE_TEST_XA_MARIADB_URL}.
   */
  public static TestDatabase mariadbXa() {
    try {
      return new TestDatabase(
          Dialect.MARIADB,
          new MariaDbDataSource(
              env(
                  "PLEDGE_TEST_XA_MARIADB_URL",
                  "jdbc:mariadb://127.0.0.1:3306/pledge_xa_test?user=root")));
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }

  public static TestDatabase sqlite() {
    try {
      Path dir = Files.createTempDirectory("pledge-sdk-");
      SQLiteConfig config = new SQLiteConfig();
      config.setJournalMode(SQLiteConfig.JournalMode.WAL);
      config.setBusyTimeout(10_000);
      config.setSynchronous(SQLiteConfig.SynchronousMode.NORMAL);
      SQLiteDataSource source = new SQLiteDataSource(config);
      source.setUrl("jdbc:sqlite:" + dir.resolve("sdk.db"));
      return new TestDatabase(Dialect.SQLITE, source);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Drops the named tables if they exist (a clean start for a test). */
  public void drop(String... tables) {
    try (Connection connection = dataSource.getConnection();
        Statement statement = connection.createStatement()) {
      for (String table : tables) {
        statement.execute("DROP TABLE IF EXISTS " + table);
      }
    } catch (SQLException e) {
      throw new IllegalStateException("could not drop tables on " + dialect + ": " + e, e);
    }
  }

  /** Runs {@code sql} and answers the first column of the first row as a long. */
  public long queryLong(String sql) {
    try (Connection connection = dataSource.getConnection();
        Statement statement = connection.createStatement();
        var rows = statement.executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(sql + ": " + e, e);
    }
  }

  /** Runs statements on a new connection, auto-committed. */
  public void execute(String... sql) {
    try (Connection connection = dataSource.getConnection();
        Statement statement = connection.createStatement()) {
      for (String s : sql) {
        statement.execute(s);
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
  }
}
