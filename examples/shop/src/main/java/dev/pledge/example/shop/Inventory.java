package dev.pledge.example.shop;

import dev.pledge.eventstore.EventStore;
import dev.pledge.eventstore.EventStoreConfig;
import dev.pledge.eventstore.ProjectionRunner;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.locks.LockSupport;

/**
 * The inventory service: stock on hand per SKU in its own SQLite database.
 *
 * <ul>
 *   <li>saga: {@code POST /saga/reserve} (action) takes stock, {@code POST /saga/release}
 *       (compensate) puts it back;
 *   <li>2pc: {@code POST /2pc/prepare} holds stock, {@code /2pc/commit} makes the hold a sale,
 *       {@code /2pc/rollback} puts it back.
 * </ul>
 *
 * <p>Payload {@code {"orderId", "sku", "qty"}}. Too little stock is a business refusal: 409 {@code
 * out_of_stock}. Reservation states: {@code reserved}, {@code released}, {@code held}, {@code
 * committed}, {@code rolled_back}.
 *
 * <p>Event-sourced: every stock change is also an event of stream {@code stock-<SKU>}, appended in
 * the same database and local transaction as the change, and a projection keeps the CQRS read model
 * {@code stock_level} ({@link StockEvents}).
 */
public final class Inventory implements AutoCloseable {
  static final Ledger.Names NAMES =
      new Ledger.Names(
          "inventory",
          "sku",
          "qty",
          1_000,
          "out_of_stock",
          "reserved",
          "released",
          "held",
          "committed",
          "rolled_back");

  private final EventStore events;
  private final Books ledger;
  private final ProjectionRunner stockLevels;

  /**
   * Inventory for {@code xa} orders: its books on the PostgreSQL or MariaDB database behind {@code
   * dataSource} (which must not pool connections), each take a branch of an xa transaction ({@code
   * POST /xa/prepare}, {@code /xa/commit}, {@code /xa/rollback}; {@link XaLedger}). Not
   * event-sourced in this mode: {@link #events()} is null.
   */
  public static Inventory xa(javax.sql.DataSource dataSource, Faults faults, String gidPrefix) {
    return new Inventory(new XaLedger(NAMES, dataSource, faults, gidPrefix));
  }

  private Inventory(XaLedger ledger) {
    this.events = null;
    this.ledger = ledger;
    this.stockLevels = null;
  }

  public Inventory(Path file, Faults faults) {
    // The event store's tables live in the inventory's own SQLite file, so that the ledger's
    // transaction can append the events of its changes.
    events = EventStore.open(EventStoreConfig.forUrl("jdbc:sqlite:" + file).withPoolSize(2));
    ledger =
        new Ledger(NAMES, file, faults, "reserve", "release", StockEvents.recorder(events, NAMES));
    stockLevels =
        ProjectionRunner.start(
            events,
            new StockEvents.StockLevels(),
            ProjectionRunner.Options.defaults().withOwner("inventory"));
  }

  /** The event store of the stock events, or null when the books are xa's ({@link #xa}). */
  EventStore events() {
    return events;
  }

  /**
   * The live read model of stock levels once its projection has caught up with every event (within
   * {@code timeout}; whatever it holds then, if not).
   */
  Map<String, StockEvents.Level> stockLevels(Duration timeout) throws SQLException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (ProjectionRunner.committedCheckpoint(events, StockEvents.StockLevels.NAME)
            < events.headPosition()
        && System.nanoTime() < deadline) {
      LockSupport.parkNanos(Duration.ofMillis(20).toNanos());
    }
    return StockEvents.readModel(events);
  }

  public String baseUrl() {
    return ledger.baseUrl();
  }

  int inFlight() {
    return ledger.inFlight();
  }

  Books ledger() {
    return ledger;
  }

  /** Sets the opening stock per SKU (once per SKU). */
  public void stock(Map<String, Long> opening) {
    ledger.open(opening);
  }

  public Map<String, Long> onHand() {
    return ledger.onHand();
  }

  /** The state of the reservation of {@code (gid, branch)}, or null. */
  public String reservation(String gid, String branch) {
    return ledger.state(gid, branch);
  }

  public Map<String, Long> barrierStats() {
    return ledger.barrierStats();
  }

  public List<String> barrierProblems() {
    return ledger.barrierProblems();
  }

  @Override
  public void close() {
    if (stockLevels != null) {
      stockLevels.close();
    }
    ledger.close();
    if (events != null) {
      events.close();
    }
  }
}
