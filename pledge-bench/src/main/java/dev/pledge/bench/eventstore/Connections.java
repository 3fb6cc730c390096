package dev.pledge.bench.eventstore;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;

/** R1's connections: one per client, or SQLite's one writer shared under a lock. */
final class Connections implements AutoCloseable {
  private final List<Connection> connections;
  private final boolean shared;

  private Connections(List<Connection> connections, boolean shared) {
    this.connections = connections;
    this.shared = shared;
  }

  static Connections jdbc(String url, String user, String password, int n) throws SQLException {
    List<Connection> all = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Connection c = DriverManager.getConnection(url, user, password);
      c.setAutoCommit(false);
      all.add(c);
    }
    return new Connections(all, false);
  }

  static Connections sqlite(Path file) throws SQLException {
    Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
    try (Statement s = c.createStatement()) {
      s.execute("PRAGMA journal_mode=WAL");
      s.execute("PRAGMA synchronous=FULL");
    }
    c.setAutoCommit(false);
    return new Connections(List.of(c), true);
  }

  void execute(String sql) throws SQLException {
    Connection c = connections.getFirst();
    try (Statement s = c.createStatement()) {
      s.execute(sql);
    }
    c.commit();
  }

  void insertOne(int client, long i) throws SQLException {
    if (shared) {
      synchronized (this) {
        insert(connections.getFirst(), client, i);
      }
    } else {
      insert(connections.get(client), client, i);
    }
  }

  private static void insert(Connection c, int client, long i) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("INSERT INTO bench_r1 (id, v) VALUES (?, ?)")) {
      s.setLong(1, ((long) client << 40) + i);
      s.setString(2, "r1-" + client + "-" + i);
      s.executeUpdate();
    }
    c.commit();
  }

  @Override
  public void close() {
    for (Connection c : connections) {
      try {
        c.close();
      } catch (SQLException e) {
        // closing at the end of the run
      }
    }
  }
}
