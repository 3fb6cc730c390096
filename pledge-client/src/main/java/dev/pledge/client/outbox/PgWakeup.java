package dev.pledge.client.outbox;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import javax.sql.DataSource;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * PostgreSQL's wake-up: a connection of its own that {@code LISTEN}s on {@link Outbox#CHANNEL}; a
 * publish's {@code NOTIFY} arrives when the publishing transaction commits. Loaded only on
 * PostgreSQL, so the driver is needed only there.
 */
final class PgWakeup implements AutoCloseable {
  private final DataSource dataSource;
  private volatile Connection connection;
  private volatile boolean closed;

  PgWakeup(DataSource dataSource) {
    this.dataSource = dataSource;
  }

  /**
   * Waits up to {@code wait} for a notification; answers early (true) when one arrived. A broken
   * connection is reopened on the next call; meanwhile this waits like a plain sleep.
   */
  boolean await(Duration wait) throws SQLException, InterruptedException {
    if (closed) {
      return true;
    }
    if (connection == null || connection.isClosed()) {
      connection = dataSource.getConnection();
      connection.setAutoCommit(true);
      try (Statement statement = connection.createStatement()) {
        statement.execute("LISTEN " + Outbox.CHANNEL);
      }
      return true; // a notification may have been missed while not listening: look now
    }
    PGNotification[] notifications =
        connection.unwrap(PGConnection.class).getNotifications((int) Math.max(1, wait.toMillis()));
    if (Thread.interrupted()) {
      throw new InterruptedException();
    }
    return notifications != null && notifications.length > 0;
  }

  @Override
  public void close() {
    closed = true;
    Connection connection = this.connection;
    if (connection != null) {
      try {
        connection.close();
      } catch (SQLException e) {
        // closing a listening connection that already broke: nothing to do
      }
    }
  }
}
