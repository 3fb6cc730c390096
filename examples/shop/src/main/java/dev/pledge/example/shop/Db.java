package dev.pledge.example.shop;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.locks.ReentrantLock;

/**
 * One service's own SQLite database: a single connection in WAL mode with {@code synchronous=FULL},
 * used one local transaction at a time. SQLite admits one writer anyway; taking turns in the JVM
 * keeps {@code SQLITE_BUSY} out of the picture and makes every local transaction serializable.
 *
 * <p>Inventory's event store has connections of its own to the same file (its projection writes the
 * read model). Transactions here stay SQLite's default deferred ones, and every one that writes
 * writes first (the SDK barrier's insert, the opening stock's insert): its first statement takes
 * the file's write lock, waiting up to {@code busy_timeout}, so it never holds a read snapshot that
 * another connection's commit could make stale ({@code SQLITE_BUSY_SNAPSHOT}, which no busy timeout
 * retries). {@code BEGIN IMMEDIATE} is not an option: the SDK's barrier needs the JDBC connection
 * out of auto-commit, and then sqlite-jdbc opens the next transaction right after each commit, so
 * an immediate one would hold the write lock between transactions.
 */
final class Db implements AutoCloseable {
  private final Connection connection;
  private final ReentrantLock lock = new ReentrantLock();
  private final Path file;
  private volatile Runnable afterCommit = () -> {};

  /** A unit of work inside one local transaction. */
  @FunctionalInterface
  interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  Db(Path file, String... schema) {
    this.file = file;
    try {
      connection = DriverManager.getConnection("jdbc:sqlite:" + file);
      try (Statement statement = connection.createStatement()) {
        statement.execute("PRAGMA journal_mode=WAL");
        statement.execute("PRAGMA synchronous=FULL");
        statement.execute("PRAGMA busy_timeout=5000");
        for (String ddl : schema) {
          statement.execute(ddl);
        }
      }
      connection.setAutoCommit(false);
      connection.commit();
    } catch (SQLException e) {
      throw new ShopException("cannot open the database " + file + ": " + e.getMessage(), e);
    }
  }

  Path file() {
    return file;
  }

  /** Runs {@code action} after every commit (not after a rollback), outside the lock. */
  void afterCommit(Runnable action) {
    afterCommit = action;
  }

  /**
   * Runs {@code work} in one local transaction: committed if it returns, rolled back if it throws.
   */
  <T> T inTransaction(Work<T> work) {
    T result = inTransactionLocked(work);
    afterCommit.run();
    return result;
  }

  private <T> T inTransactionLocked(Work<T> work) {
    lock.lock();
    try {
      try {
        T result = work.run(connection);
        connection.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        try {
          connection.rollback();
        } catch (SQLException rollback) {
          e.addSuppressed(rollback);
        }
        if (e instanceof RuntimeException runtime) {
          throw runtime;
        }
        throw new ShopException("local transaction failed on " + file + ": " + e.getMessage(), e);
      }
    } finally {
      lock.unlock();
    }
  }

  /** The first column of every row of {@code sql}, as longs. */
  List<Long> longs(String sql, Object... args) {
    return inTransaction(c -> {
      List<Long> out = new ArrayList<>();
      try (ResultSet rows = query(c, sql, args)) {
        while (rows.next()) {
          out.add(rows.getLong(1));
        }
      }
      return out;
    });
  }

  /** The one long {@code sql} selects (0 when it selects NULL). */
  long scalar(String sql, Object... args) {
    List<Long> values = longs(sql, args);
    if (values.size() != 1) {
      throw new IllegalStateException(sql + " selected " + values.size() + " rows, not 1");
    }
    return values.getFirst();
  }

  static ResultSet query(Connection c, String sql, Object... args) throws SQLException {
    PreparedStatement statement = c.prepareStatement(sql);
    bind(statement, args);
    statement.closeOnCompletion();
    return statement.executeQuery();
  }

  static int update(Connection c, String sql, Object... args) throws SQLException {
    try (PreparedStatement statement = c.prepareStatement(sql)) {
      bind(statement, args);
      return statement.executeUpdate();
    }
  }

  private static void bind(PreparedStatement statement, Object... args) throws SQLException {
    for (int i = 0; i < args.length; i++) {
      statement.setObject(i + 1, args[i]);
    }
  }

  @Override
  public void close() {
    lock.lock();
    try {
      connection.close();
    } catch (SQLException e) {
      throw new ShopException("closing " + file + " failed: " + e.getMessage(), e);
    } finally {
      lock.unlock();
    }
  }
}
