package dev.pledge.client.outbox;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pledge.client.sql.Dialect;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.UUID;
import java.util.regex.Pattern;
import javax.sql.DataSource;

/**
 * The transactional outbox: {@link #publish} writes a message into table {@code pledge_outbox} of
 * the service's own database, in the caller's transaction, so the message exists exactly when the
 * business change it announces committed. An {@link OutboxRelay} then publishes the committed rows,
 * in order per key, to a {@link dev.pledge.core.spi.MessageSink}.
 *
 * <p>The outbox never commits, rolls back or closes the caller's connection; it only inserts one
 * row on it. On PostgreSQL the same statement sends {@code NOTIFY pledge_outbox}, which PostgreSQL
 * delivers at commit (and drops at rollback), so a waiting relay wakes at once.
 *
 * <p>Input is checked before anything is written, with the bounds of the coordinator's API (see
 * docs/protocol.md, "Limits"): a message the relay could never publish is refused here, with an
 * {@link IllegalArgumentException} naming the field, rather than found stuck later.
 *
 * <p>Thread-safe; one instance per database.
 */
public final class Outbox {
  /** The table's name; the relay and the migrations use it. */
  public static final String TABLE = "pledge_outbox";

  /** PostgreSQL's notification channel, sent with every publish. */
  public static final String CHANNEL = "pledge_outbox";

  static final int MAX_PAYLOAD_BYTES = 1024 * 1024;
  static final int MAX_KEY_BYTES = 1024;
  static final int MAX_HEADERS = 32;
  static final int MAX_HEADER_BYTES = 4096;
  private static final Pattern TOPIC = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final Pattern HEADER_NAME = Pattern.compile("[A-Za-z0-9-]{1,64}");
  private static final Set<String> RESERVED_HEADERS =
      Set.of(
          "content-type",
          "host",
          "connection",
          "content-length",
          "expect",
          "upgrade",
          "transfer-encoding",
          "keep-alive",
          "te",
          "trailer");
  static final ObjectMapper JSON = new ObjectMapper();

  private final Dialect dialect;
  private final Clock clock;
  private final String insert;
  private final boolean notify;

  private Outbox(Dialect dialect, Clock clock) {
    this(dialect, clock, true);
  }

  private Outbox(Dialect dialect, Clock clock, boolean notify) {
    this.dialect = Objects.requireNonNull(dialect, "dialect");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.notify = notify;
    String columns = "id, topic, msg_key, ordering_key, payload, headers, created_micros";
    String values = "?, ?, ?, ?, ?, ?, ?";
    this.insert =
        dialect == Dialect.POSTGRESQL && notify
            ? "WITH i AS (INSERT INTO "
                + TABLE
                + " ("
                + columns
                + ") VALUES ("
                + values
                + ") RETURNING seq) SELECT pg_notify('"
                + CHANNEL
                + "', '') FROM i"
            : "INSERT INTO " + TABLE + " (" + columns + ") VALUES (" + values + ")";
  }

  /**
   * This outbox without the {@code NOTIFY} on PostgreSQL: relays find its rows after their {@code
   * idleWait} (or a {@link OutboxRelay#wake}) instead of at once. PostgreSQL serialises the commits
   * of transactions that notified; with many concurrent writers that costs far more than the
   * relay's latency (docs/benchmarks.md, "Outbox relay and inbox": about 10 × fewer commits per
   * second with 8 writers on the shared machine). Other databases never notify.
   */
  public Outbox withoutNotify() {
    return new Outbox(dialect, clock, false);
  }

  /** Whether {@link #publish} sends {@code NOTIFY} (PostgreSQL, unless {@link #withoutNotify}). */
  public boolean notifies() {
    return notify && dialect == Dialect.POSTGRESQL;
  }

  /** An outbox for a database of this dialect; the table must exist ({@link #migrate}). */
  public static Outbox create(Dialect dialect) {
    return new Outbox(dialect, Clock.systemUTC());
  }

  /** An outbox whose rows are stamped by {@code clock} (for the relay's lag). */
  public static Outbox create(Dialect dialect, Clock clock) {
    return new Outbox(dialect, clock);
  }

  /**
   * An outbox on the database behind {@code dataSource}: finds its dialect and creates the table if
   * it is missing.
   */
  public static Outbox create(DataSource dataSource) {
    try (Connection connection = dataSource.getConnection()) {
      Dialect dialect = Dialect.of(connection);
      migrate(connection, dialect);
      return new Outbox(dialect, Clock.systemUTC());
    } catch (SQLException e) {
      throw new IllegalStateException("could not prepare table " + TABLE + ": " + e, e);
    }
  }

  public Dialect dialect() {
    return dialect;
  }

  /**
   * Writes one message in the caller's transaction and answers its id. The caller commits: the
   * message is published only if, and after, that transaction commits.
   *
   * @param connection the caller's connection, in the transaction that makes the business change
   *     (auto-commit off, or the message is committed on its own at once)
   * @param topic {@code [A-Za-z0-9._:-]{1,128}}
   * @param key the ordering key (at most 1,024 UTF-8 bytes), or null: messages of one key are
   *     published in the order their transactions wrote them; without a key, the topic orders them
   * @param payload JSON text, at most 1 MiB
   * @param headers at most 32 headers, names {@code [A-Za-z0-9-]{1,64}}, 4,096 bytes in all, none
   *     that Pledge or HTTP sets ({@code Pledge-*}, {@code Content-Type}, ...); null for none
   * @return the message's id, which consumers deduplicate by
   * @throws IllegalArgumentException naming the field that is out of bounds; nothing is written
   * @throws SQLException from the caller's database; the caller's transaction decides
   */
  public String publish(
      Connection connection, String topic, String key, String payload, Map<String, String> headers)
      throws SQLException {
    Objects.requireNonNull(connection, "connection");
    String headersJson = check(topic, key, payload, headers);
    String id = UUID.randomUUID().toString();
    long micros = ChronoUnit.MICROS.between(Instant.EPOCH, clock.instant());
    try (PreparedStatement statement = connection.prepareStatement(insert)) {
      statement.setString(1, id);
      statement.setString(2, topic);
      statement.setString(3, key);
      statement.setString(4, key == null ? topic : key);
      statement.setString(5, payload);
      statement.setString(6, headersJson);
      statement.setLong(7, micros);
      statement.execute();
    }
    return id;
  }

  /** Checks a message against the bounds and answers its headers as JSON text. */
  static String check(String topic, String key, String payload, Map<String, String> headers) {
    if (topic == null || !TOPIC.matcher(topic).matches()) {
      throw new IllegalArgumentException(
          "topic must match [A-Za-z0-9._:-]{1,128}, was " + quote(topic));
    }
    if (key != null && key.getBytes(StandardCharsets.UTF_8).length > MAX_KEY_BYTES) {
      throw new IllegalArgumentException(
          "key must be at most " + MAX_KEY_BYTES + " UTF-8 bytes, was " + key.length() + " chars");
    }
    if (payload == null) {
      throw new IllegalArgumentException("payload must not be null (use \"{}\" for an empty one)");
    }
    int payloadBytes = payload.getBytes(StandardCharsets.UTF_8).length;
    if (payloadBytes > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException(
          "payload must be at most " + MAX_PAYLOAD_BYTES + " bytes, was " + payloadBytes);
    }
    try {
      JSON.readTree(payload);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("payload must be JSON text: " + e.getOriginalMessage(), e);
    }
    Map<String, String> sorted = new TreeMap<>(headers == null ? Map.of() : headers);
    if (sorted.size() > MAX_HEADERS) {
      throw new IllegalArgumentException(
          "headers: at most " + MAX_HEADERS + ", was " + sorted.size());
    }
    int bytes = 0;
    for (Map.Entry<String, String> header : sorted.entrySet()) {
      String name = header.getKey();
      if (name == null || !HEADER_NAME.matcher(name).matches()) {
        throw new IllegalArgumentException(
            "headers: a name must match [A-Za-z0-9-]{1,64}, was " + quote(name));
      }
      String lower = name.toLowerCase(Locale.ROOT);
      if (lower.startsWith("pledge-") || RESERVED_HEADERS.contains(lower)) {
        throw new IllegalArgumentException(
            "headers." + name + ": reserved (Pledge-* and HTTP's own headers are set by Pledge)");
      }
      if (header.getValue() == null) {
        throw new IllegalArgumentException("headers." + name + ": the value must not be null");
      }
      bytes += name.length() + header.getValue().getBytes(StandardCharsets.UTF_8).length;
    }
    if (bytes > MAX_HEADER_BYTES) {
      throw new IllegalArgumentException(
          "headers: at most " + MAX_HEADER_BYTES + " bytes of names and values, was " + bytes);
    }
    try {
      return JSON.writeValueAsString(sorted);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("headers could not be written as JSON", e);
    }
  }

  private static String quote(String text) {
    if (text == null) {
      return "null";
    }
    return "\"" + (text.length() <= 40 ? text : text.substring(0, 40) + "…") + "\"";
  }

  /**
   * Creates table {@code pledge_outbox} and its indexes if they are missing (idempotent; safe from
   * several processes at once on PostgreSQL and MariaDB). Commits on the connection.
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

  /**
   * The table. {@code seq} orders rows (the relay publishes each key's rows in {@code seq} order);
   * {@code ordering_key} is the key, or the topic for a message without one; {@code
   * published_micros} is null until the sink acknowledged the row; times are microseconds since the
   * epoch, so the three databases store them alike.
   */
  static List<String> ddl(Dialect dialect) {
    return switch (dialect) {
      case POSTGRESQL ->
          List.of(
              """
              CREATE TABLE IF NOT EXISTS pledge_outbox (
                seq BIGSERIAL PRIMARY KEY,
                id VARCHAR(200) NOT NULL UNIQUE,
                topic VARCHAR(128) NOT NULL,
                msg_key VARCHAR(1024),
                ordering_key VARCHAR(1024) NOT NULL,
                payload TEXT NOT NULL,
                headers TEXT NOT NULL,
                created_micros BIGINT NOT NULL,
                published_micros BIGINT,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error VARCHAR(512))
              """,
              "CREATE INDEX IF NOT EXISTS pledge_outbox_pending ON pledge_outbox (ordering_key, seq)"
                  + " WHERE published_micros IS NULL",
              "CREATE INDEX IF NOT EXISTS pledge_outbox_published ON pledge_outbox"
                  + " (published_micros) WHERE published_micros IS NOT NULL");
      case MARIADB ->
          List.of(
              """
              CREATE TABLE IF NOT EXISTS pledge_outbox (
                seq BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                id VARCHAR(200) NOT NULL,
                topic VARCHAR(128) NOT NULL,
                msg_key VARCHAR(1024),
                ordering_key VARCHAR(1024) NOT NULL,
                payload LONGTEXT NOT NULL,
                headers TEXT NOT NULL,
                created_micros BIGINT NOT NULL,
                published_micros BIGINT,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error VARCHAR(512),
                UNIQUE KEY pledge_outbox_id (id),
                KEY pledge_outbox_pending (published_micros, ordering_key(191), seq)
              ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4
              """);
      case SQLITE ->
          List.of(
              """
              CREATE TABLE IF NOT EXISTS pledge_outbox (
                seq INTEGER PRIMARY KEY AUTOINCREMENT,
                id TEXT NOT NULL UNIQUE,
                topic TEXT NOT NULL,
                msg_key TEXT,
                ordering_key TEXT NOT NULL,
                payload TEXT NOT NULL,
                headers TEXT NOT NULL,
                created_micros INTEGER NOT NULL,
                published_micros INTEGER,
                attempts INTEGER NOT NULL DEFAULT 0,
                last_error TEXT)
              """,
              "CREATE INDEX IF NOT EXISTS pledge_outbox_pending ON pledge_outbox (ordering_key, seq)"
                  + " WHERE published_micros IS NULL",
              "CREATE INDEX IF NOT EXISTS pledge_outbox_published ON pledge_outbox"
                  + " (published_micros) WHERE published_micros IS NOT NULL");
    };
  }
}
