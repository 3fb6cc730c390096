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
 * The appends of one local transaction: takes the position lock, checks each append's expected
 * version, assigns versions and positions, inserts the events, calls the publisher, and advances
 * the position counter. The caller commits (or rolls back) afterwards; until then the position lock
 * is held, which is what makes positions commit in order.
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

  /** Runs {@code requests} in order on {@code connection}, inside the caller's transaction. */
  List<Outcome> append(Connection connection, List<Request> requests, Instant now)
      throws SQLException {
    long last = dialect.lockPositions(connection);
    long start = last;
    List<Outcome> outcomes = new ArrayList<>(requests.size());
    List<RecordedEvent> inserted = new ArrayList<>();
    // Two appends of one batch may name the same stream: the second must see the first's events.
    java.util.Map<String, Long> versions = new java.util.HashMap<>();
    try (PreparedStatement version =
        connection.prepareStatement(
            "SELECT MAX(stream_version) FROM es_events WHERE stream_id = ?")) {
      for (Request request : requests) {
        Long known = versions.get(request.streamId());
        long current = known != null ? known : currentVersion(version, request.streamId());
        if (!request.expected().matches(current)) {
          versions.put(request.streamId(), current);
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
    try (PreparedStatement advance =
        connection.prepareStatement(
            "UPDATE es_position SET last_position = ? WHERE id = 1 AND last_position = ?")) {
      advance.setLong(1, last);
      advance.setLong(2, start);
      if (advance.executeUpdate() != 1) {
        throw new IllegalStateException(
            "es_position moved while this transaction held its lock: the lock is not working");
      }
    }
    if (dialect == Dialect.POSTGRESQL) {
      // Delivered to listeners when (and only if) the transaction commits.
      try (PreparedStatement notify = connection.prepareStatement("SELECT pg_notify(?, ?)")) {
        notify.setString(1, PostgresChangeFeed.CHANNEL);
        notify.setString(2, Long.toString(last));
        notify.execute();
      }
    }
    return outcomes;
  }

  private static long currentVersion(PreparedStatement statement, String streamId)
      throws SQLException {
    statement.setString(1, streamId);
    try (ResultSet rows = statement.executeQuery()) {
      return rows.next() ? rows.getLong(1) : 0;
    }
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
