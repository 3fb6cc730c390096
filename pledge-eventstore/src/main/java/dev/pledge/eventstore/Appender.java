package dev.pledge.eventstore;

import dev.pledge.eventstore.spi.EventPublisher;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The appends of one local transaction (on PostgreSQL one call of {@code es_append_v4}, which takes
 * no lock; elsewhere as follows): takes the position lock, checks each append's expected version,
 * assigns versions and positions, inserts the events, calls the publisher, and advances the
 * position counter. The caller commits (or rolls back) afterwards; until then the position lock is
 * held, which is what makes positions commit in order.
 */
final class Appender {
  private final Dialect dialect;
  private final EventPublisher publisher;

  /** One append of a batch. */
  record Request(String streamId, ExpectedVersion expected, List<EventData> events) {}

  /** The outcome of one append of a batch. */
  sealed interface Outcome {
    record Appended(AppendResult result) implements Outcome {}

    record Conflict(WrongExpectedVersionException conflict) implements Outcome {}
  }

  Appender(Dialect dialect, EventPublisher publisher) {
    this.dialect = dialect;
    this.publisher = publisher;
  }

  /**
   * Runs {@code requests} in order on {@code connection}, inside the caller's transaction; or, on
   * PostgreSQL with the connection in auto-commit mode, as one statement that is its own
   * transaction (possible only when the publisher has nothing to write, see {@link #oneStatement}).
   */
  List<Outcome> append(Connection connection, List<Request> requests, Instant now)
      throws SQLException {
    if (dialect == Dialect.POSTGRESQL) {
      List<Outcome> outcomes = appendByFunction(connection, requests, now);
      for (Outcome outcome : outcomes) {
        if (outcome instanceof Outcome.Appended appended) {
          publisher.publish(connection, appended.result().events());
        }
      }
      return outcomes;
    }
    long last = dialect.lockPositions(connection);
    long start = last;
    List<Outcome> outcomes = new ArrayList<>(requests.size());
    List<RecordedEvent> inserted = new ArrayList<>();
    // One query for the versions of every stream of the batch (a round trip per append would
    // hold the position lock that much longer). Two appends of one batch may name the same
    // stream: the second sees the first's events through this map.
    java.util.Map<String, Long> versions = currentVersions(connection, requests);
    for (Request request : requests) {
      long current = versions.get(request.streamId());
      if (!request.expected().matches(current)) {
        outcomes.add(
            new Outcome.Conflict(
                new WrongExpectedVersionException(
                    request.streamId(), request.expected(), current)));
        continue;
      }
      List<RecordedEvent> events = new ArrayList<>(request.events().size());
      for (EventData data : request.events()) {
        current++;
        last++;
        events.add(
            new RecordedEvent(
                last,
                request.streamId(),
                current,
                data.type(),
                data.schemaVersion(),
                data.payload(),
                data.metadata(),
                now));
      }
      versions.put(request.streamId(), current);
      inserted.addAll(events);
      outcomes.add(new Outcome.Appended(new AppendResult(request.streamId(), current, events)));
    }
    if (inserted.isEmpty()) {
      return outcomes;
    }
    insert(connection, inserted);
    for (Outcome outcome : outcomes) {
      if (outcome instanceof Outcome.Appended appended) {
        publisher.publish(connection, appended.result().events());
      }
    }
    // The counter moves, and on PostgreSQL the notification is queued (delivered at commit, and
    // only then), in one statement: one round trip fewer while the lock is held.
    String advance =
        dialect == Dialect.POSTGRESQL
            ? "WITH moved AS (UPDATE es_position SET last_position = ? WHERE id = 1 AND"
                + " last_position = ? RETURNING last_position) SELECT pg_notify('"
                + PostgresChangeFeed.CHANNEL
                + "', CAST(last_position AS TEXT)) FROM moved"
            : "UPDATE es_position SET last_position = ? WHERE id = 1 AND last_position = ?";
    try (PreparedStatement statement = connection.prepareStatement(advance)) {
      statement.setLong(1, last);
      statement.setLong(2, start);
      int moved;
      if (dialect == Dialect.POSTGRESQL) {
        moved = 0;
        try (ResultSet rows = statement.executeQuery()) {
          while (rows.next()) {
            moved++;
          }
        }
      } else {
        moved = statement.executeUpdate();
      }
      if (moved != 1) {
        throw new IllegalStateException(
            "es_position moved while this transaction held its lock: the lock is not working");
      }
    }
    return outcomes;
  }

  /**
   * Whether a batch can run as one auto-committed statement: on PostgreSQL, when the publisher
   * writes nothing (it must write in the append's transaction, after the append).
   */
  boolean oneStatement() {
    return dialect == Dialect.POSTGRESQL && publisher == EventPublisher.NONE;
  }

  /**
   * PostgreSQL: the whole batch in one round trip, through {@code es_append_v4} (see {@link
   * Dialect#appendFunction}), which does in the server what {@link #append} does from here: lock
   * the counter, check each append's version, insert, advance the counter and notify. Every
   * statement of the function reads a fresh snapshot, taken after the lock was granted.
   */
  private static List<Outcome> appendByFunction(
      Connection connection, List<Request> requests, Instant now) throws SQLException {
    int appends = requests.size();
    String[] streams = new String[appends];
    Long[] expected = new Long[appends];
    Integer[] counts = new Integer[appends];
    List<String> types = new ArrayList<>();
    List<Integer> schemas = new ArrayList<>();
    List<String> payloads = new ArrayList<>();
    List<String> metadata = new ArrayList<>();
    for (int i = 0; i < appends; i++) {
      Request request = requests.get(i);
      streams[i] = request.streamId();
      expected[i] =
          switch (request.expected()) {
            case ExpectedVersion.Any a -> -1L;
            case ExpectedVersion.NoStream n -> 0L;
            case ExpectedVersion.Exactly e -> e.version();
          };
      counts[i] = request.events().size();
      for (EventData data : request.events()) {
        types.add(data.type());
        schemas.add(data.schemaVersion());
        payloads.add(data.payload());
        metadata.add(Metadata.write(data.metadata()));
      }
    }
    long[] actual = new long[appends];
    long[] first = new long[appends];
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT idx, actual, first_position FROM es_append_v4(?, ?, ?, ?, ?, ?, ?, ?, ?)")) {
      statement.setArray(1, connection.createArrayOf("text", streams));
      statement.setArray(2, connection.createArrayOf("int8", expected));
      statement.setArray(3, connection.createArrayOf("int4", counts));
      statement.setArray(4, connection.createArrayOf("text", types.toArray()));
      statement.setArray(5, connection.createArrayOf("int4", schemas.toArray()));
      statement.setArray(6, connection.createArrayOf("text", payloads.toArray()));
      statement.setArray(7, connection.createArrayOf("text", metadata.toArray()));
      statement.setLong(8, now.toEpochMilli());
      // In auto-commit (the group-commit writer) the writer notifies after the commit instead.
      statement.setBoolean(9, !connection.getAutoCommit());
      int rowsSeen = 0;
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          int i = rows.getInt(1) - 1;
          actual[i] = rows.getLong(2);
          first[i] = rows.getLong(3);
          rowsSeen++;
        }
      }
      if (rowsSeen != appends) {
        throw new IllegalStateException(
            "es_append_v4 answered " + rowsSeen + " rows for " + appends + " appends");
      }
    }
    List<Outcome> outcomes = new ArrayList<>(appends);
    for (int i = 0; i < appends; i++) {
      Request request = requests.get(i);
      if (first[i] == 0) {
        outcomes.add(
            new Outcome.Conflict(
                new WrongExpectedVersionException(
                    request.streamId(), request.expected(), actual[i])));
        continue;
      }
      List<RecordedEvent> events = new ArrayList<>(request.events().size());
      long version = actual[i];
      long position = first[i];
      for (EventData data : request.events()) {
        events.add(
            new RecordedEvent(
                position++,
                request.streamId(),
                ++version,
                data.type(),
                data.schemaVersion(),
                data.payload(),
                data.metadata(),
                now));
      }
      outcomes.add(new Outcome.Appended(new AppendResult(request.streamId(), version, events)));
    }
    return outcomes;
  }

  /** The version of each stream the batch names (0 for a stream with no event). */
  private static java.util.Map<String, Long> currentVersions(
      Connection connection, List<Request> requests) throws SQLException {
    java.util.Map<String, Long> versions = new java.util.HashMap<>();
    for (Request request : requests) {
      versions.put(request.streamId(), 0L);
    }
    List<String> streams = new ArrayList<>(versions.keySet());
    String marks = String.join(", ", java.util.Collections.nCopies(streams.size(), "?"));
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT stream_id, MAX(stream_version) FROM es_events WHERE stream_id IN ("
                + marks
                + ") GROUP BY stream_id")) {
      for (int i = 0; i < streams.size(); i++) {
        statement.setString(i + 1, streams.get(i));
      }
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          versions.put(rows.getString(1), rows.getLong(2));
        }
      }
    }
    return versions;
  }

  private static void insert(Connection connection, List<RecordedEvent> events)
      throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO es_events (global_position, stream_id, stream_version, event_type,"
                + " schema_version, payload, metadata, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?,"
                + " ?)")) {
      for (RecordedEvent event : events) {
        insert.setLong(1, event.position());
        insert.setString(2, event.streamId());
        insert.setLong(3, event.version());
        insert.setString(4, event.type());
        insert.setInt(5, event.schemaVersion());
        insert.setString(6, event.payload());
        insert.setString(7, Metadata.write(event.metadata()));
        insert.setLong(8, event.recordedAt().toEpochMilli());
        insert.addBatch();
      }
      insert.executeBatch();
    }
  }
}
