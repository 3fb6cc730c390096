package dev.pledge.example.shop;

import dev.pledge.eventstore.EventCodec;
import dev.pledge.eventstore.EventStore;
import dev.pledge.eventstore.ExpectedVersion;
import dev.pledge.eventstore.Projection;
import dev.pledge.eventstore.RecordedEvent;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Inventory, event-sourced: every change of a SKU's stock is an event of stream {@code
 * stock-<SKU>}, appended in the same local transaction as the change ({@link EventStore#appendIn}),
 * and a CQRS read model of stock levels ({@code stock_level}) is built from the events by a
 * projection whose checkpoint moves in the same transaction as the table.
 *
 * <p>Events: {@code stock-received} (opening stock), {@code stock-reserved} (a saga reservation or
 * a 2pc hold), {@code stock-released} (compensated or rolled back), {@code stock-sold} (a 2pc hold
 * committed).
 */
final class StockEvents {
  private StockEvents() {}

  /** The prefix of every stock stream. */
  static final String STREAM_PREFIX = "stock-";

  record StockReceived(String sku, long qty) {}

  record StockReserved(String sku, long qty, String orderId, String how) {}

  record StockReleased(String sku, long qty, String orderId, String how) {}

  record StockSold(String sku, long qty, String orderId) {}

  /** One SKU's stock level: on hand (free), reserved or held, sold. */
  record Level(long available, long reserved, long sold) {}

  static final EventCodec CODEC =
      EventCodec.builder()
          .register("stock-received", StockReceived.class)
          .register("stock-reserved", StockReserved.class)
          .register("stock-released", StockReleased.class)
          .register("stock-sold", StockSold.class)
          .build();

  /**
   * The ledger's changes as events, appended in the ledger's own transaction; after each commit the
   * store's subscriptions (the projection) are woken at once.
   */
  static Ledger.Changes recorder(EventStore store, Ledger.Names names) {
    return new Ledger.Changes() {
      @Override
      public void record(Connection c, Ledger.Change change) throws SQLException {
        store.appendIn(
            c,
            STREAM_PREFIX + change.key(),
            ExpectedVersion.any(),
            List.of(CODEC.encode(event(change, names))));
      }

      @Override
      public void committed() {
        store.committed();
      }
    };
  }

  private static Record event(Ledger.Change change, Ledger.Names names) {
    String kind = change.kind();
    if (kind.equals("opened")) {
      return new StockReceived(change.key(), change.amount());
    } else if (kind.equals(names.taken()) || kind.equals(names.held())) {
      return new StockReserved(change.key(), change.amount(), change.orderId(), kind);
    } else if (kind.equals(names.returned()) || kind.equals(names.rolledBack())) {
      return new StockReleased(change.key(), change.amount(), change.orderId(), kind);
    } else if (kind.equals(names.committed())) {
      return new StockSold(change.key(), change.amount(), change.orderId());
    }
    throw new IllegalStateException("inventory: no stock event for a change to " + kind);
  }

  /** How one event changes a level: the fold both the projection and the audit use. */
  static Level apply(Level level, Object event) {
    return switch (event) {
      case StockReceived e ->
          new Level(level.available() + e.qty(), level.reserved(), level.sold());
      case StockReserved e ->
          new Level(level.available() - e.qty(), level.reserved() + e.qty(), level.sold());
      case StockReleased e ->
          new Level(level.available() + e.qty(), level.reserved() - e.qty(), level.sold());
      case StockSold e ->
          new Level(level.available(), level.reserved() - e.qty(), level.sold() + e.qty());
      default -> throw new IllegalStateException("not a stock event: " + event);
    };
  }

  static String sku(RecordedEvent event) {
    return event.streamId().substring(STREAM_PREFIX.length());
  }

  /** The read model: table {@code stock_level}, one row per SKU. */
  static final class StockLevels implements Projection {
    static final String NAME = "stock-levels";

    @Override
    public String name() {
      return NAME;
    }

    @Override
    public void createTables(Connection c) throws SQLException {
      try (var s = c.createStatement()) {
        s.execute(
            "CREATE TABLE IF NOT EXISTS stock_level (sku TEXT PRIMARY KEY, available INTEGER NOT"
                + " NULL, reserved INTEGER NOT NULL, sold INTEGER NOT NULL)");
      }
    }

    @Override
    public void apply(Connection c, RecordedEvent event) throws SQLException {
      if (!event.streamId().startsWith(STREAM_PREFIX)) {
        return;
      }
      String sku = sku(event);
      Level level = new Level(0, 0, 0);
      try (PreparedStatement s =
          c.prepareStatement("SELECT available, reserved, sold FROM stock_level WHERE sku = ?")) {
        s.setString(1, sku);
        try (ResultSet rows = s.executeQuery()) {
          if (rows.next()) {
            level = new Level(rows.getLong(1), rows.getLong(2), rows.getLong(3));
          }
        }
      }
      Level next = StockEvents.apply(level, CODEC.decode(event));
      try (PreparedStatement s =
          c.prepareStatement(
              "INSERT INTO stock_level (sku, available, reserved, sold) VALUES (?, ?, ?, ?) ON"
                  + " CONFLICT (sku) DO UPDATE SET available = excluded.available, reserved ="
                  + " excluded.reserved, sold = excluded.sold")) {
        s.setString(1, sku);
        s.setLong(2, next.available());
        s.setLong(3, next.reserved());
        s.setLong(4, next.sold());
        s.executeUpdate();
      }
    }

    @Override
    public void reset(Connection c, long position) throws SQLException {
      if (position != 0) {
        throw new IllegalArgumentException("stock levels can only be rebuilt from position 0");
      }
      try (var s = c.createStatement()) {
        s.execute("DELETE FROM stock_level");
      }
    }
  }

  /** The live read model as it stands. */
  static Map<String, Level> readModel(EventStore store) throws SQLException {
    Map<String, Level> out = new TreeMap<>();
    try (Connection c = store.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement("SELECT sku, available, reserved, sold FROM stock_level");
        ResultSet rows = s.executeQuery()) {
      while (rows.next()) {
        out.put(rows.getString(1), new Level(rows.getLong(2), rows.getLong(3), rows.getLong(4)));
      }
    }
    return out;
  }

  /** What the audit learns from reading every event from position 0. */
  record Replay(Map<String, Level> levels, List<String> gaps, long events, int streams) {}

  /**
   * Rebuilds the stock levels from the events alone (every event from position 0, folded in
   * memory), and checks on the way that positions and every stream's versions run 1, 2, 3, … with
   * no gap.
   */
  static Replay replay(EventStore store) {
    Map<String, Level> levels = new TreeMap<>();
    Map<String, Long> versions = new TreeMap<>();
    List<String> gaps = new ArrayList<>();
    long position = 0;
    long events = 0;
    int page = store.config().maxReadPageSize();
    while (true) {
      List<RecordedEvent> batch = store.readAll(position, page);
      for (RecordedEvent e : batch) {
        if (e.position() != position + 1) {
          gaps.add("position " + e.position() + " follows " + position);
        }
        position = e.position();
        events++;
        long expected = versions.getOrDefault(e.streamId(), 0L) + 1;
        if (e.version() != expected) {
          gaps.add(e.streamId() + ": version " + e.version() + " where " + expected + " was due");
        }
        versions.put(e.streamId(), e.version());
        if (e.streamId().startsWith(STREAM_PREFIX)) {
          levels.put(
              sku(e), apply(levels.getOrDefault(sku(e), new Level(0, 0, 0)), CODEC.decode(e)));
        }
      }
      if (batch.size() < page) {
        return new Replay(levels, gaps, events, versions.size());
      }
    }
  }
}
