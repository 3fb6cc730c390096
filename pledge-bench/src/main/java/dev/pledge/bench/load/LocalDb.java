package dev.pledge.bench.load;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A fixed pool of connections to one database, each used for one local transaction at a time.
 *
 * <p>SQLite gets one connection: it has one writer per file, so more connections would only wait on
 * its lock (and its busy handler sleeps in steps of milliseconds); queueing in Java on the one
 * connection is the fastest a process can commit to one file. The file is in WAL mode with {@code
 * synchronous=FULL}, as the coordinator's own log is, so every commit is durable.
 */
final class LocalDb implements AutoCloseable {
  private static final long BORROW_TIMEOUT_SECONDS = 30;

  final DbKind kind;
  final String description;
  private final BlockingQueue<Connection> idle;
  private final List<Connection> all = new ArrayList<>();

  /** One unit of work inside a local transaction; the pool commits it, or rolls it back. */
  interface Work<T> {
    T run(Connection connection) throws SQLException;
  }

  private LocalDb(DbKind kind, String description, List<Connection> connections) {
    this.kind = kind;
    this.description = description;
    this.idle = new ArrayBlockingQueue<>(connections.size());
    this.all.addAll(connections);
    this.idle.addAll(connections);
  }

  static LocalDb sqlite(Path file) {
    try {
      Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
      try (Statement s = c.createStatement()) {
        s.execute("PRAGMA journal_mode=WAL");
        s.execute("PRAGMA synchronous=FULL");
        s.execute("PRAGMA busy_timeout=10000");
      }
      c.setAutoCommit(false);
      return new LocalDb(DbKind.SQLITE, "SQLite " + file.getFileName(), List.of(c));
    } catch (SQLException e) {
      throw new BenchException("cannot open SQLite file " + file + ": " + e.getMessage(), e);
    }
  }

  static LocalDb postgres(String url, String user, String password, int size) {
    if (size < 1 || size > 64) {
      throw new IllegalArgumentException("pool size must be in [1, 64], got " + size);
    }
    List<Connection> connections = new ArrayList<>();
    try {
      for (int i = 0; i < size; i++) {
        Connection c = DriverManager.getConnection(url, user, password);
        c.setAutoCommit(false);
        connections.add(c);
      }
    } catch (SQLException e) {
      connections.forEach(LocalDb::closeQuietly);
      throw new BenchException("cannot connect to " + url + ": " + e.getMessage(), e);
    }
    return new LocalDb(DbKind.POSTGRES, "PostgreSQL " + url, connections);
  }

  /** Runs {@code work} in one local transaction and commits it; rolls back if it throws. */
  <T> T transaction(Work<T> work) throws SQLException {
    Connection c;
    try {
      c = idle.poll(BORROW_TIMEOUT_SECONDS, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while waiting for a connection", e);
    }
    if (c == null) {
      throw new SQLException(
          "no connection to " + description + " free within " + BORROW_TIMEOUT_SECONDS + " s");
    }
    try {
      T result = work.run(c);
      c.commit();
      return result;
    } catch (SQLException | RuntimeException e) {
      try {
        c.rollback();
      } catch (SQLException rollback) {
        e.addSuppressed(rollback);
      }
      throw e;
    } finally {
      idle.add(c);
    }
  }

  /** Runs each statement in its own transaction (DDL and set-up). */
  void execute(String... statements) {
    try {
      transaction(c -> {
        try (Statement s = c.createStatement()) {
          for (String sql : statements) {
            s.execute(sql);
          }
        }
        return null;
      });
    } catch (SQLException e) {
      throw new BenchException("set-up of " + description + " failed: " + e.getMessage(), e);
    }
  }

  private static void closeQuietly(Connection c) {
    try {
      c.close();
    } catch (SQLException e) {
      // closing at the end of a run: nothing left to do with it
    }
  }

  @Override
  public void close() {
    all.forEach(LocalDb::closeQuietly);
  }
}
