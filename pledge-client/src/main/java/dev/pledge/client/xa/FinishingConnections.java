package dev.pledge.client.xa;

import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.Deque;
import javax.sql.DataSource;

/**
 * The connections {@link XaBranches} commits and rolls back on. On MariaDB the data source opens a
 * new connection each time (the one a branch is prepared on must be closed for real: MariaDB keeps
 * a prepared XA transaction attached to its session until it disconnects), but {@code XA COMMIT}
 * and {@code XA ROLLBACK} leave nothing attached to the session that ran them, so their connections
 * are kept, at most {@code maxIdle}, for the next call: a commit is then one round trip instead of
 * a connect, the statement and a close. With {@code maxIdle} 0 (PostgreSQL, whose data source is
 * the application's pool) every call takes a connection from the data source and gives it back.
 *
 * <p>A connection whose call failed with an {@link SQLException} (or anything but an {@link
 * XaHeuristicException}, which is an answer, not a failure) is closed, never kept; one idle for
 * more than {@link #CHECK_AFTER} is checked ({@link Connection#isValid}) before it is used.
 * Thread-safe.
 */
final class FinishingConnections implements AutoCloseable {
  /** An idle connection older than this is checked before use (servers drop idle sessions). */
  static final Duration CHECK_AFTER = Duration.ofSeconds(30);

  /** One call on a connection. */
  @FunctionalInterface
  interface Call<T> {
    T run(Connection connection) throws SQLException;
  }

  private record Idle(Connection connection, long sinceNanos) {}

  private final DataSource dataSource;
  private final int maxIdle;
  private final Deque<Idle> idle = new ArrayDeque<>();

  FinishingConnections(DataSource dataSource, int maxIdle) {
    if (maxIdle < 0 || maxIdle > 1_000) {
      throw new IllegalArgumentException("maxIdle must be 0 to 1000, was " + maxIdle);
    }
    this.dataSource = dataSource;
    this.maxIdle = maxIdle;
  }

  /** Runs {@code call} on a connection in auto-commit mode. */
  <T> T call(Call<T> call) throws SQLException {
    Connection connection = take();
    boolean keep = false;
    try {
      connection.setAutoCommit(true);
      T result = call.run(connection);
      keep = true;
      return result;
    } catch (XaHeuristicException e) {
      keep = true;
      throw e;
    } finally {
      give(connection, keep);
    }
  }

  private Connection take() throws SQLException {
    while (true) {
      Idle next;
      synchronized (idle) {
        next = idle.pollFirst();
      }
      if (next == null) {
        return dataSource.getConnection();
      }
      if (System.nanoTime() - next.sinceNanos() < CHECK_AFTER.toNanos()
          || next.connection().isValid(2)) {
        return next.connection();
      }
      closeQuietly(next.connection());
    }
  }

  private void give(Connection connection, boolean keep) {
    if (keep && maxIdle > 0) {
      synchronized (idle) {
        if (idle.size() < maxIdle) {
          idle.addFirst(new Idle(connection, System.nanoTime()));
          return;
        }
      }
    }
    closeQuietly(connection);
  }

  @Override
  public void close() {
    while (true) {
      Idle next;
      synchronized (idle) {
        next = idle.pollFirst();
      }
      if (next == null) {
        return;
      }
      closeQuietly(next.connection());
    }
  }

  private static void closeQuietly(Connection connection) {
    try {
      connection.close();
    } catch (SQLException e) {
      // Closing a connection that is no longer wanted: nothing to do about a failure.
    }
  }
}
