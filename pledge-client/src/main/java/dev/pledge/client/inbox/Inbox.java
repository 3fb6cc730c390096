package dev.pledge.client.inbox;

import dev.pledge.client.sql.Dialect;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageHandler;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.HexFormat;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The consumer's inbox: table {@code pledge_inbox(message_id, fingerprint, topic, handled_micros)}
 * in the consumer's database. {@link #handle} inserts the message's id in the same local
 * transaction as the message's effect, so the effect commits exactly once per id however often the
 * message is delivered:
 *
 * <ul>
 *   <li>the id is new: the effect runs, and commits with the row ({@link InboxOutcome#HANDLED});
 *   <li>the id is there with the same fingerprint (a SHA-256 of topic, key and payload): a
 *       duplicate, acknowledged without running the effect ({@link InboxOutcome#DUPLICATE});
 *   <li>the id is there with another fingerprint: {@link InboxConflictException}, nothing runs;
 *   <li>the same id delivered twice at once: the second insert waits for the first transaction,
 *       then is a duplicate (or, if the first rolled back, runs the effect itself).
 * </ul>
 *
 * <p>An effect that throws rolls the row back with it: the message is not handled and the adapter
 * delivers it again. {@link #handler} adapts the inbox to the {@link MessageHandler} that broker
 * consumer adapters call.
 *
 * <p>Thread-safe; one instance per database.
 */
public final class Inbox {
  /** The table's name. */
  public static final String TABLE = "pledge_inbox";

  private static final Logger LOG = LoggerFactory.getLogger(Inbox.class);

  /** A message's effect, run on the inbox's connection inside its local transaction. */
  @FunctionalInterface
  public interface Effect {
    void run(Connection connection) throws SQLException;
  }

  /** An effect that needs the message: what {@link #handler} runs for each one. */
  @FunctionalInterface
  public interface MessageEffect {
    void run(Connection connection, TransactionalMessage message) throws SQLException;
  }

  private final DataSource dataSource;
  private final Dialect dialect;
  private final Clock clock;
  private final String insert;
  private final String fingerprintOf;

  private Inbox(DataSource dataSource, Dialect dialect, Clock clock) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.clock = clock;
    this.insert =
        dialect.insertUnlessPresent(
            TABLE, "message_id, fingerprint, topic, handled_micros", "?, ?, ?, ?");
    this.fingerprintOf =
        "SELECT fingerprint FROM "
            + TABLE
            + " WHERE message_id = ?"
            + (dialect == Dialect.MARIADB ? " LOCK IN SHARE MODE" : "");
  }

  /** An inbox on the database behind {@code dataSource}; creates the table if it is missing. */
  public static Inbox create(DataSource dataSource) {
    return create(dataSource, Clock.systemUTC());
  }

  public static Inbox create(DataSource dataSource, Clock clock) {
    Objects.requireNonNull(dataSource, "dataSource");
    Objects.requireNonNull(clock, "clock");
    try (Connection connection = dataSource.getConnection()) {
      Dialect dialect = Dialect.of(connection);
      migrate(connection, dialect);
      return new Inbox(dataSource, dialect, clock);
    } catch (SQLException e) {
      throw new IllegalStateException("could not prepare table " + TABLE + ": " + e, e);
    }
  }

  /**
   * An inbox for callers that bring their own connection and transaction: only {@link
   * #handle(Connection, TransactionalMessage, Effect)} works; the table must exist ({@link
   * #migrate}).
   */
  public static Inbox create(Dialect dialect) {
    return new Inbox(null, Objects.requireNonNull(dialect, "dialect"), Clock.systemUTC());
  }

  public Dialect dialect() {
    return dialect;
  }

  /**
   * Handles one delivery in a local transaction of its own.
   *
   * @throws InboxConflictException when the id was handled with other content; nothing ran
   * @throws SQLException when the database failed; nothing committed, deliver again
   */
  public InboxOutcome handle(TransactionalMessage message, Effect effect) throws SQLException {
    if (dataSource == null) {
      throw new IllegalStateException(
          "this inbox was created without a DataSource: use handle(connection, message, effect)");
    }
    try (Connection connection = dataSource.getConnection()) {
      boolean autoCommit = connection.getAutoCommit();
      connection.setAutoCommit(false);
      try {
        InboxOutcome outcome = handle(connection, message, effect);
        connection.commit();
        return outcome;
      } catch (SQLException | RuntimeException | Error e) {
        try {
          connection.rollback();
        } catch (SQLException suppressed) {
          e.addSuppressed(suppressed);
        }
        throw e;
      } finally {
        connection.setAutoCommit(autoCommit);
      }
    }
  }

  /**
   * Handles one delivery in the caller's transaction (a Spring-managed one, say); the caller
   * commits, or rolls back when this throws. The connection must not be in auto-commit mode.
   */
  public InboxOutcome handle(Connection connection, TransactionalMessage message, Effect effect)
      throws SQLException {
    Objects.requireNonNull(message, "message");
    Objects.requireNonNull(effect, "effect");
    if (connection.getAutoCommit()) {
      throw new IllegalStateException(
          "the inbox needs a transaction: the connection is in auto-commit mode");
    }
    String fingerprint = fingerprint(message);
    boolean inserted;
    try (PreparedStatement statement = connection.prepareStatement(insert)) {
      statement.setString(1, message.id());
      statement.setString(2, fingerprint);
      statement.setString(3, message.topic());
      statement.setLong(4, ChronoUnit.MICROS.between(Instant.EPOCH, clock.instant()));
      inserted = statement.executeUpdate() == 1;
    }
    if (!inserted) {
      String stored = storedFingerprint(connection, message.id());
      if (stored != null && !stored.equals(fingerprint)) {
        throw new InboxConflictException(message.id(), stored, fingerprint);
      }
      LOG.debug("inbox message={} -> duplicate", message.id());
      return InboxOutcome.DUPLICATE;
    }
    effect.run(connection);
    LOG.debug("inbox message={} -> handled", message.id());
    return InboxOutcome.HANDLED;
  }

  /**
   * This inbox as the handler a consumer adapter calls: it returns normally once the effect is
   * committed or the message was a duplicate (so the adapter acknowledges), and throws when it was
   * not handled (so the adapter delivers it again, then dead-letters it).
   */
  public MessageHandler handler(MessageEffect effect) {
    Objects.requireNonNull(effect, "effect");
    return message -> {
      try {
        handle(message, connection -> effect.run(connection, message));
      } catch (SQLException e) {
        throw new IllegalStateException(
            "message " + message.id() + " not handled, the database failed: " + e, e);
      }
    };
  }

  /**
   * Deletes at most {@code limit} rows handled before {@code cutoff}, and answers how many. After
   * that a very late duplicate of such a message would run again: choose the cutoff beyond any
   * redelivery the brokers can make (their retention and dead-letter re-drives).
   */
  public int purgeHandledBefore(Instant cutoff, int limit) throws SQLException {
    if (limit < 1 || limit > 100_000) {
      throw new IllegalArgumentException("limit must be 1 to 100000, was " + limit);
    }
    long micros = ChronoUnit.MICROS.between(Instant.EPOCH, cutoff);
    String sql =
        switch (dialect) {
          case MARIADB -> "DELETE FROM " + TABLE + " WHERE handled_micros < ? LIMIT " + limit;
          case POSTGRESQL, SQLITE ->
              "DELETE FROM "
                  + TABLE
                  + " WHERE message_id IN (SELECT message_id FROM "
                  + TABLE
                  + " WHERE handled_micros < ? LIMIT "
                  + limit
                  + ")";
        };
    if (dataSource == null) {
      throw new IllegalStateException("this inbox was created without a DataSource");
    }
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setLong(1, micros);
      return statement.executeUpdate();
    }
  }

  private String storedFingerprint(Connection connection, String id) throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(fingerprintOf)) {
      statement.setString(1, id);
      try (ResultSet rows = statement.executeQuery()) {
        return rows.next() ? rows.getString(1) : null;
      }
    }
  }

  /** SHA-256 over topic, key and payload, each prefixed by its length so no two inputs collide. */
  static String fingerprint(TransactionalMessage message) {
    try {
      MessageDigest digest = MessageDigest.getInstance("SHA-256");
      for (String part : new String[] {message.topic(), message.key(), message.payload()}) {
        byte[] bytes = part == null ? new byte[0] : part.getBytes(StandardCharsets.UTF_8);
        digest.update((part == null ? "-1:" : bytes.length + ":").getBytes(StandardCharsets.UTF_8));
        digest.update(bytes);
      }
      return HexFormat.of().formatHex(digest.digest());
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  /**
   * Creates table {@code pledge_inbox} if it is missing (idempotent). Commits on the connection.
   */
  public static void migrate(Connection connection, Dialect dialect) throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(true);
    try (Statement statement = connection.createStatement()) {
      for (String ddl : ddl(dialect)) {
        statement.execute(ddl);
      }
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  static List<String> ddl(Dialect dialect) {
    String table =
        """
        CREATE TABLE IF NOT EXISTS pledge_inbox (
          message_id VARCHAR(200) NOT NULL PRIMARY KEY,
          fingerprint CHAR(64) NOT NULL,
          topic VARCHAR(128) NOT NULL,
          handled_micros BIGINT NOT NULL)\
        """;
    return switch (dialect) {
      case POSTGRESQL, SQLITE ->
          List.of(
              table,
              "CREATE INDEX IF NOT EXISTS pledge_inbox_handled ON pledge_inbox (handled_micros)");
      case MARIADB ->
          List.of(
              table + " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4",
              "CREATE INDEX IF NOT EXISTS pledge_inbox_handled ON pledge_inbox (handled_micros)");
    };
  }
}
