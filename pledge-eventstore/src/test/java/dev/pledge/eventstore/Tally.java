package dev.pledge.eventstore;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.HashMap;
import java.util.Map;

/**
 * A test read model that counts how many times each event of its streams was applied: one row per
 * event position. Any count but 1 is an event applied twice (or, if missing, lost).
 */
class Tally implements Projection {
  private final String name;
  private final String table;
  private final String streamPrefix;
  volatile long failAt = -1;

  Tally(String name, String streamPrefix) {
    this.name = name;
    this.table = "es_tally_" + Integer.toHexString(name.hashCode() & 0x7fffffff);
    this.streamPrefix = streamPrefix;
  }

  @Override
  public String name() {
    return name;
  }

  String table() {
    return table;
  }

  @Override
  public void createTables(Connection connection) throws SQLException {
    Dialect.execute(
        connection,
        "CREATE TABLE IF NOT EXISTS "
            + table
            + " (global_position BIGINT NOT NULL PRIMARY KEY, applied INT NOT NULL)");
  }

  @Override
  public void apply(Connection connection, RecordedEvent event) throws SQLException {
    if (!event.streamId().startsWith(streamPrefix)) {
      return;
    }
    if (event.position() == failAt) {
      throw new SQLException("refused on purpose at position " + failAt);
    }
    int updated;
    try (PreparedStatement s =
        connection.prepareStatement(
            "UPDATE " + table + " SET applied = applied + 1 WHERE global_position = ?")) {
      s.setLong(1, event.position());
      updated = s.executeUpdate();
    }
    if (updated == 0) {
      try (PreparedStatement s =
          connection.prepareStatement("INSERT INTO " + table + " VALUES (?, 1)")) {
        s.setLong(1, event.position());
        s.executeUpdate();
      }
    }
  }

  @Override
  public void reset(Connection connection, long position) throws SQLException {
    try (PreparedStatement s =
        connection.prepareStatement("DELETE FROM " + table + " WHERE global_position > ?")) {
      s.setLong(1, position);
      s.executeUpdate();
    }
  }

  /** Position to times applied. */
  static Map<Long, Integer> counts(EventStore store, String table) throws SQLException {
    Map<Long, Integer> counts = new HashMap<>();
    try (Connection c = store.dataSource().getConnection();
        PreparedStatement s = c.prepareStatement("SELECT global_position, applied FROM " + table);
        ResultSet rows = s.executeQuery()) {
      while (rows.next()) {
        counts.put(rows.getLong(1), rows.getInt(2));
      }
    }
    return counts;
  }
}
