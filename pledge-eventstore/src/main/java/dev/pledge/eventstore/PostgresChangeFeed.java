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
 * after every commit of the group-commit writer this thread sends one {@code pg_notify} on it (for
 * all commits since the last), and an append inside the caller's transaction queues one that
 * PostgreSQL delivers when (and only if) that transaction commits, to every listening process. A
 * lost connection is opened again after a back-off that doubles up to 5 s; meanwhile subscriptions
 * fall back to polling.
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

  /**
   * The last position the group-commit writer committed and has not yet announced (0: none). The
   * listening thread sends one {@code pg_notify} for all of them, in a transaction of its own
   * (which writes nothing, so it waits for no flush): notifying inside the appends' transactions
   * would serialise their commits on PostgreSQL's notify lock.
   */
  private final java.util.concurrent.atomic.AtomicLong pendingNotify =
      new java.util.concurrent.atomic.AtomicLong();

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
    this.notifier = Thread.ofPlatform().name("pledge-es-notify").daemon().start(this::announce);
  }

  private final Thread notifier;

  /**
   * The notifier thread: sends one {@code pg_notify} for every commit announced since the last, on
   * a connection of its own. A failure drops that announcement (other processes then find the
   * events at their next poll) and the connection, opened again for the next one.
   */
  private void announce() {
    Connection c = null;
    while (!closed) {
      long toSend;
      try {
        synchronized (pendingNotify) {
          while (!closed && pendingNotify.get() == 0) {
            pendingNotify.wait(500);
          }
        }
        toSend = pendingNotify.getAndSet(0);
      } catch (InterruptedException e) {
        break;
      }
      if (toSend == 0) {
        continue;
      }
      try {
        if (c == null) {
          c = DriverManager.getConnection(url, properties);
        }
        try (var statement = c.prepareStatement("SELECT pg_notify('" + channel + "', ?)")) {
          statement.setString(1, Long.toString(toSend));
          statement.execute();
        }
      } catch (SQLException e) {
        log.warn("event store change feed: cannot notify ({}); others will poll", e.toString());
        c = closeQuietly(c);
      }
    }
    closeQuietly(c);
  }

  private static Connection closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException e) {
        log.debug("closing the notify connection", e);
      }
    }
    return null;
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
            for (PGNotification notification : notifications) {
              try {
                heard(Long.parseLong(notification.getParameter()));
              } catch (NumberFormatException e) {
                // Not one of ours: a wake-up all the same.
              }
            }
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

  /** Wakes this process's subscribers now and announces the commit to every other process. */
  @Override
  public void committed(long lastPosition) {
    super.committed(lastPosition);
    if (lastPosition > 0) {
      pendingNotify.accumulateAndGet(lastPosition, Math::max);
      synchronized (pendingNotify) {
        pendingNotify.notifyAll();
      }
    }
  }

  @Override
  public void close() {
    // The listening thread sees the flag within one wait for notifications (500 ms) and closes
    // its connection itself: a JDBC connection is not closed from another thread.
    closed = true;
    synchronized (pendingNotify) {
      pendingNotify.notifyAll();
    }
    try {
      notifier.join(2000);
      thread.join(2000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
