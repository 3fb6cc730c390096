package dev.pledge.eventstore;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Properties;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * PostgreSQL's change feed: one connection of its own that {@code LISTEN}s on {@link #CHANNEL};
 * every append's transaction runs {@code pg_notify} on it, which PostgreSQL delivers when (and only
 * if) that transaction commits, to every listening process. A lost connection is opened again after
 * a back-off that doubles up to 5 s; meanwhile subscriptions fall back to polling.
 */
final class PostgresChangeFeed extends SignalledFeed {
  static final String CHANNEL = "pledge_es";
  private static final Logger log = LoggerFactory.getLogger(PostgresChangeFeed.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  private final String url;
  private final String channel;
  private final Properties properties;
  private final Thread thread;
  private volatile boolean closed;

  /** Listens on {@code channel}: {@link #CHANNEL}, the one every append notifies. */
  PostgresChangeFeed(String url, String user, String password, String channel) {
    if (!channel.matches("[a-z_][a-z0-9_]{0,62}")) {
      throw new IllegalArgumentException(
          "channel must be a lower-case SQL identifier of at most 63 characters, got '"
              + channel
              + "'");
    }
    this.url = url;
    this.channel = channel;
    this.properties = new Properties();
    properties.setProperty("user", user);
    properties.setProperty("password", password);
    properties.setProperty("ApplicationName", "pledge-eventstore-listen");
    properties.setProperty("tcpKeepAlive", "true");
    this.thread = Thread.ofPlatform().name("pledge-es-listen").daemon().start(this::run);
  }

  private void run() {
    Duration backoff = Duration.ofMillis(100);
    while (!closed) {
      try (Connection c = DriverManager.getConnection(url, properties)) {
        Dialect.execute(c, "LISTEN " + channel);
        // Anything committed while no one listened is found by the subscriptions' next read.
        signal();
        backoff = Duration.ofMillis(100);
        PGConnection pg = c.unwrap(PGConnection.class);
        while (!closed) {
          PGNotification[] notifications = pg.getNotifications(500);
          if (notifications != null && notifications.length > 0) {
            signal();
          }
        }
      } catch (SQLException e) {
        if (closed) {
          return;
        }
        log.warn("event store change feed: LISTEN connection lost ({}); again in {}", e, backoff);
        try {
          Thread.sleep(backoff.toMillis());
        } catch (InterruptedException interrupted) {
          return;
        }
        backoff =
            backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0
                ? MAX_BACKOFF
                : backoff.multipliedBy(2);
      }
    }
  }

  @Override
  public void close() {
    // The listening thread sees the flag within one wait for notifications (500 ms) and closes
    // its connection itself: a JDBC connection is not closed from another thread.
    closed = true;
    try {
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
