package dev.pledge.example.shop;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

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

  private final Ledger ledger;

  public Inventory(Path file, Faults faults) {
    ledger = new Ledger(NAMES, file, faults, "reserve", "release");
  }

  public String baseUrl() {
    return ledger.baseUrl();
  }

  int inFlight() {
    return ledger.inFlight();
  }

  Ledger ledger() {
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
    ledger.close();
  }
}
