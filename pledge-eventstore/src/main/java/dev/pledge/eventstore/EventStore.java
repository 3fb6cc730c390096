package dev.pledge.eventstore;

import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pledge.eventstore.spi.ChangeFeed;
import dev.pledge.eventstore.spi.EventPublisher;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Streams of events in the service's own database (PostgreSQL, MariaDB or SQLite).
 *
 * <p><b>Streams and versions.</b> A stream is named by the application (an aggregate's id, such as
 * {@code sku-42}); its events have versions 1, 2, 3, … with no gap. An append names the version it
 * expects ({@link ExpectedVersion}); of two racing appends to one stream exactly one is stored and
 * the other gets a {@link WrongExpectedVersionException} naming the expected and the actual
 * version.
 *
 * <p><b>Positions.</b> Every event also gets a global position (a {@code long}) across all streams,
 * and positions become visible in order: a reader that has seen position {@code p} has seen every
 * position below it, forever. This is what a sequence or auto-increment column does not give
 * (values are handed out at insert but committed in any order, so a reader that reads 1, 2, 4 may
 * later find 3). On MariaDB and SQLite every append assigns positions 1, 2, 3, … while holding a
 * lock on the one row of {@code es_position} until it commits. On PostgreSQL appends take no lock:
 * a position is the writer's transaction id shifted left by 20 bits plus a counter, and readers see
 * only positions of transactions older than every transaction still running. Group commit ({@link
 * AppendWriter}) puts many appends in one transaction. docs/eventstore.md gives the argument and
 * the alternatives weighed.
 *
 * <p><b>Reading.</b> {@link #readStream} and {@link #readStreamBackward} read one stream from a
 * version; {@link #readAll} reads every stream from a position; {@link #subscribe} reads from a
 * position and then follows new events live. Every read returns at most {@code maxReadPageSize}
 * events.
 *
 * <p>Thread-safe. {@link #close()} stops the writer and the change feed and closes the pool.
 */
public final class EventStore implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(EventStore.class);

  private final EventStoreConfig config;
  private final Dialect dialect;
  private final HikariDataSource pool;
  private final Appender appender;
  private final AppendWriter writer;
  private final ChangeFeed feed;
  private final Clock clock;

  private EventStore(EventStoreConfig config, EventPublisher publisher, Clock clock) {
    this.config = config;
    this.dialect = Dialect.of(config.jdbcUrl());
    this.clock = clock;
    HikariConfig hikari = new HikariConfig();
    dialect.configure(hikari, config.jdbcUrl());
    hikari.setUsername(config.user());
    hikari.setPassword(config.password());
    hikari.setMaximumPoolSize(config.poolSize());
    hikari.setPoolName("pledge-es");
    hikari.setConnectionTimeout(TimeUnit.SECONDS.toMillis(10));
    this.pool = new HikariDataSource(hikari);
    try {
      createSchema();
    } catch (RuntimeException e) {
      pool.close();
      throw e;
    }
    this.appender = new Appender(dialect, publisher);
    this.feed =
        dialect == Dialect.POSTGRESQL
            ? new PostgresChangeFeed(
                config.jdbcUrl(), config.user(), config.password(), PostgresChangeFeed.CHANNEL)
            : new SignalledFeed();
    this.writer =
        new AppendWriter(
            pool,
            appender,
            clock,
            config.maxAppendsPerCommit(),
            config.maxPendingAppends(),
            config.writerConnections(),
            feed::committed);
    log.info("event store open: {}", config);
  }

  /** Opens the store, creating its tables if they are missing. */
  public static EventStore open(EventStoreConfig config) {
    return open(config, EventPublisher.NONE, Clock.systemUTC());
  }

  /** Opens the store with a publisher called in every append's transaction (the outbox). */
  public static EventStore open(EventStoreConfig config, EventPublisher publisher, Clock clock) {
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(publisher, "publisher");
    Objects.requireNonNull(clock, "clock");
    return new EventStore(config, publisher, clock);
  }

  public EventStoreConfig config() {
    return config;
  }

  /** The store's pool, for projections and read models in the same database. */
  public DataSource dataSource() {
    return pool;
  }

  Dialect dialect() {
    return dialect;
  }

  ChangeFeed feed() {
    return feed;
  }

  Clock clock() {
    return clock;
  }

  /**
   * Appends {@code events} to {@code streamId} if it is at {@code expected}, through group commit.
   * Returns once they are committed.
   *
   * @throws WrongExpectedVersionException if the stream is not at {@code expected}; nothing stored
   * @throws IllegalArgumentException if the stream id, an event or the batch breaks a bound
   * @throws EventStoreException if the database fails (nothing stored), or the commit's outcome is
   *     unknown (it may be stored: read the stream to find out)
   */
  public AppendResult append(String streamId, ExpectedVersion expected, List<EventData> events) {
    return await(appendAsync(streamId, expected, events), streamId);
  }

  public AppendResult append(String streamId, ExpectedVersion expected, EventData event) {
    return append(streamId, expected, List.of(event));
  }

  /** {@link #append} without waiting; the future fails with the same exceptions. */
  public CompletableFuture<AppendResult> appendAsync(
      String streamId, ExpectedVersion expected, List<EventData> events) {
    check(streamId, expected, events);
    return writer.submit(new Appender.Request(streamId, expected, List.copyOf(events)));
  }

  /**
   * Appends inside the caller's own transaction on {@code connection} (auto-commit off), for a
   * service that writes its own tables and events together. The caller commits or rolls back; until
   * then, on MariaDB and SQLite, every other append waits (the position lock is held), so keep the
   * transaction short; on PostgreSQL readers wait for it to end before they see later events.
   *
   * @throws WrongExpectedVersionException if the stream is not at {@code expected}; nothing was
   *     written, the caller's transaction is still usable
   */
  public AppendResult appendIn(
      Connection connection, String streamId, ExpectedVersion expected, List<EventData> events)
      throws SQLException {
    check(streamId, expected, events);
    if (connection.getAutoCommit()) {
      throw new IllegalArgumentException(
          "appendIn needs a connection in a transaction (auto-commit off)");
    }
    Appender.Outcome outcome =
        appender
            .append(
                connection,
                List.of(new Appender.Request(streamId, expected, List.copyOf(events))),
                clock.instant())
            .getFirst();
    return switch (outcome) {
      case Appender.Outcome.Appended appended -> appended.result();
      case Appender.Outcome.Conflict conflict -> throw conflict.conflict();
    };
  }

  /**
   * Tells subscriptions of this process that a transaction that ran {@link #appendIn} committed, so
   * they read it at once rather than at their next poll (PostgreSQL's feed needs no telling).
   */
  public void committed() {
    feed.committed(0);
  }

  /** Events of {@code streamId} with versions {@code fromVersion} and up, oldest first. */
  public List<RecordedEvent> readStream(String streamId, long fromVersion, int maxCount) {
    checkStreamId(streamId);
    checkPage(maxCount);
    return query(
        "SELECT "
            + COLUMNS
            + " FROM es_events WHERE stream_id = ? AND stream_version >= ? ORDER BY stream_version"
            + " LIMIT ?",
        streamId,
        fromVersion,
        maxCount);
  }

  /** Events of {@code streamId} with versions {@code fromVersion} and down, newest first. */
  public List<RecordedEvent> readStreamBackward(String streamId, long fromVersion, int maxCount) {
    checkStreamId(streamId);
    checkPage(maxCount);
    return query(
        "SELECT "
            + COLUMNS
            + " FROM es_events WHERE stream_id = ? AND stream_version <= ? ORDER BY stream_version"
            + " DESC LIMIT ?",
        streamId,
        fromVersion,
        maxCount);
  }

  /** The stream's version: that of its last event, 0 if it has none. */
  public long streamVersion(String streamId) {
    checkStreamId(streamId);
    try (Connection c = pool.getConnection();
        PreparedStatement s =
            c.prepareStatement("SELECT MAX(stream_version) FROM es_events WHERE stream_id = ?")) {
      s.setString(1, streamId);
      try (ResultSet rows = s.executeQuery()) {
        return rows.next() ? rows.getLong(1) : 0;
      }
    } catch (SQLException e) {
      throw new EventStoreException("cannot read the version of '" + streamId + "': " + e, e);
    }
  }

  /**
   * Events at positions after {@code afterPosition}, in position order, at most {@code maxCount}.
   */
  public List<RecordedEvent> readAll(long afterPosition, int maxCount) {
    checkPage(maxCount);
    try (Connection c = pool.getConnection()) {
      return readAll(c, afterPosition, maxCount);
    } catch (SQLException e) {
      throw new EventStoreException("cannot read events after " + afterPosition + ": " + e, e);
    }
  }

  /** {@link #readAll(long, int)} on the caller's connection (a projection's transaction). */
  public List<RecordedEvent> readAll(Connection connection, long afterPosition, int maxCount)
      throws SQLException {
    checkPage(maxCount);
    try (PreparedStatement s =
        connection.prepareStatement(
            "SELECT "
                + COLUMNS
                + " FROM es_events WHERE global_position > ?"
                + (dialect == Dialect.POSTGRESQL
                    ? " AND global_position < " + Dialect.POSTGRES_HORIZON
                    : "")
                + " ORDER BY global_position LIMIT ?")) {
      s.setFetchSize(maxCount);
      s.setLong(1, afterPosition);
      s.setInt(2, maxCount);
      return rows(s);
    }
  }

  /** The position of the last committed event (0 when the store is empty). */
  public long headPosition() {
    try (Connection c = pool.getConnection();
        PreparedStatement s =
            c.prepareStatement(
                dialect == Dialect.POSTGRESQL
                    ? "SELECT coalesce(max(global_position), 0) FROM es_events WHERE"
                        + " global_position < "
                        + Dialect.POSTGRES_HORIZON
                    : "SELECT last_position FROM es_position WHERE id = 1");
        ResultSet rows = s.executeQuery()) {
      return rows.next() ? rows.getLong(1) : 0;
    } catch (SQLException e) {
      throw new EventStoreException("cannot read the head position: " + e, e);
    }
  }

  /**
   * Delivers every event after {@code afterPosition} to {@code handler}, in position order, then
   * every new one as it commits, until the subscription is closed.
   */
  public Subscription subscribe(String name, long afterPosition, Subscription.Handler handler) {
    Objects.requireNonNull(handler, "handler");
    if (afterPosition < 0) {
      throw new IllegalArgumentException("afterPosition must be >= 0, got " + afterPosition);
    }
    return new Subscription(
        this, feed, name, afterPosition, config.maxReadPageSize(), config.pollInterval(), handler);
  }

  /** A stored snapshot of a stream's state at {@code version}. */
  public record Snapshot(
      String streamId, long version, String type, int schemaVersion, String payload) {}

  /**
   * Saves a snapshot of {@code streamId} at {@code version}, unless a newer one is stored. A
   * snapshot is a cache of a fold over the stream: losing one costs a longer load, never data.
   */
  public void saveSnapshot(Snapshot snapshot) {
    checkStreamId(snapshot.streamId());
    EventCodec.checkTypeName(snapshot.type());
    if (snapshot.payload().length() > config.maxEventBytes()) {
      throw new IllegalArgumentException(
          "snapshot of '"
              + snapshot.streamId()
              + "' is "
              + snapshot.payload().length()
              + " characters, more than maxEventBytes "
              + config.maxEventBytes());
    }
    try (Connection c = pool.getConnection();
        PreparedStatement s = c.prepareStatement(dialect.upsertSnapshot())) {
      s.setString(1, snapshot.streamId());
      s.setLong(2, snapshot.version());
      s.setString(3, snapshot.type());
      s.setInt(4, snapshot.schemaVersion());
      s.setString(5, snapshot.payload());
      s.executeUpdate();
    } catch (SQLException e) {
      throw new EventStoreException(
          "cannot save the snapshot of '" + snapshot.streamId() + "': " + e, e);
    }
  }

  /** The latest snapshot of {@code streamId}, if any. */
  public java.util.Optional<Snapshot> loadSnapshot(String streamId) {
    checkStreamId(streamId);
    try (Connection c = pool.getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT stream_version, snapshot_type, schema_version, payload FROM es_snapshots"
                    + " WHERE stream_id = ?")) {
      s.setString(1, streamId);
      try (ResultSet rows = s.executeQuery()) {
        if (!rows.next()) {
          return java.util.Optional.empty();
        }
        return java.util.Optional.of(
            new Snapshot(
                streamId, rows.getLong(1), rows.getString(2), rows.getInt(3), rows.getString(4)));
      }
    } catch (SQLException e) {
      throw new EventStoreException("cannot load the snapshot of '" + streamId + "': " + e, e);
    }
  }

  private static final String COLUMNS =
      "global_position, stream_id, stream_version, event_type, schema_version, payload, metadata,"
          + " recorded_at";

  private List<RecordedEvent> query(String sql, String streamId, long version, int maxCount) {
    try (Connection c = pool.getConnection();
        PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, streamId);
      s.setLong(2, version);
      s.setInt(3, maxCount);
      return rows(s);
    } catch (SQLException e) {
      throw new EventStoreException("cannot read stream '" + streamId + "': " + e, e);
    }
  }

  private static List<RecordedEvent> rows(PreparedStatement s) throws SQLException {
    List<RecordedEvent> events = new ArrayList<>();
    try (ResultSet rows = s.executeQuery()) {
      while (rows.next()) {
        events.add(
            new RecordedEvent(
                rows.getLong(1),
                rows.getString(2),
                rows.getLong(3),
                rows.getString(4),
                rows.getInt(5),
                rows.getString(6),
                Metadata.read(rows.getString(7)),
                Instant.ofEpochMilli(rows.getLong(8))));
      }
    }
    return events;
  }

  private void check(String streamId, ExpectedVersion expected, List<EventData> events) {
    checkStreamId(streamId);
    Objects.requireNonNull(expected, "expected");
    Objects.requireNonNull(events, "events");
    if (events.isEmpty()) {
      throw new IllegalArgumentException("append to '" + streamId + "' has no events");
    }
    if (events.size() > config.maxEventsPerAppend()) {
      throw new IllegalArgumentException(
          "append to '"
              + streamId
              + "' has "
              + events.size()
              + " events, more than maxEventsPerAppend "
              + config.maxEventsPerAppend());
    }
    for (int i = 0; i < events.size(); i++) {
      EventData event = Objects.requireNonNull(events.get(i), "events[" + i + "]");
      long bytes =
          event.payload().getBytes(StandardCharsets.UTF_8).length
              + Metadata.write(event.metadata()).getBytes(StandardCharsets.UTF_8).length;
      if (bytes > config.maxEventBytes()) {
        throw new IllegalArgumentException(
            "append to '"
                + streamId
                + "': events["
                + i
                + "] ("
                + event.type()
                + ") is "
                + bytes
                + " bytes, more than maxEventBytes "
                + config.maxEventBytes());
      }
    }
  }

  static void checkStreamId(String streamId) {
    if (streamId == null
        || streamId.isEmpty()
        || streamId.length() > EventStoreConfig.MAX_STREAM_ID_LENGTH
        || !streamId.chars().allMatch(ch -> ch > 0x20 && ch < 0x7f)) {
      throw new IllegalArgumentException(
          "streamId must be 1 to "
              + EventStoreConfig.MAX_STREAM_ID_LENGTH
              + " printable ASCII characters without spaces, got '"
              + streamId
              + "'");
    }
  }

  private void checkPage(int maxCount) {
    if (maxCount < 1 || maxCount > config.maxReadPageSize()) {
      throw new IllegalArgumentException(
          "maxCount must be in [1, " + config.maxReadPageSize() + "], got " + maxCount);
    }
  }

  private AppendResult await(CompletableFuture<AppendResult> future, String streamId) {
    Duration timeout = config.appendTimeout();
    try {
      return future.get(timeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException runtime) {
        // Rethrown as it is, so that callers can catch the typed conflict.
        throw runtime;
      }
      throw new EventStoreException("append to '" + streamId + "' failed: " + e.getCause(), e);
    } catch (TimeoutException e) {
      throw new EventStoreException(
          "append to '"
              + streamId
              + "' not committed within "
              + timeout
              + "; it may still be: read the stream to find out",
          e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new EventStoreException("interrupted while appending to '" + streamId + "'", e);
    }
  }

  private void createSchema() {
    try (Connection c = pool.getConnection()) {
      for (String sql : dialect.schema()) {
        Dialect.execute(c, sql);
      }
      dialect.createFunctions(c);
    } catch (SQLException e) {
      throw new EventStoreException(
          "cannot create the event store's tables on " + config.redactedUrl() + ": " + e, e);
    }
  }

  @Override
  public void close() {
    writer.close();
    feed.close();
    pool.close();
  }
}
