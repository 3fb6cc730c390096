package dev.pledge.example.shop;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;

/**
 * The payment service: a balance per account in its own SQLite database.
 *
 * <ul>
 *   <li>saga: {@code POST /saga/charge} (action) debits the account, {@code POST /saga/refund}
 *       (compensate) credits it back;
 *   <li>2pc: {@code POST /2pc/prepare} holds the amount, {@code /2pc/commit} captures it, {@code
 *       /2pc/rollback} releases it.
 * </ul>
 *
 * <p>Payload {@code {"orderId", "account", "amount"}} (whole cents). Too little money, or a
 * declined card, is a business refusal: 409 {@code insufficient_funds}. Charge states: {@code
 * charged}, {@code refunded}, {@code held}, {@code captured}, {@code released}.
 */
public final class Payment implements AutoCloseable {
  static final Ledger.Names NAMES =
      new Ledger.Names(
          "payment",
          "account",
          "amount",
          1_000_000,
          "insufficient_funds",
          "charged",
          "refunded",
          "held",
          "captured",
          "released");

  private final Books ledger;

  public Payment(Path file, Faults faults) {
    ledger = new Ledger(NAMES, file, faults, "charge", "refund");
  }

  private Payment(Books ledger) {
    this.ledger = ledger;
  }

  /**
   * Payment for {@code xa} orders: its books on the PostgreSQL or MariaDB database behind {@code
   * dataSource} (which must not pool connections), each charge a branch of an xa transaction
   * ({@code POST /xa/prepare}, {@code /xa/commit}, {@code /xa/rollback}; {@link XaLedger}).
   */
  public static Payment xa(javax.sql.DataSource dataSource, Faults faults, String gidPrefix) {
    return new Payment(new XaLedger(NAMES, dataSource, faults, gidPrefix));
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

  /** Sets the opening balance per account (once per account). */
  public void open(Map<String, Long> opening) {
    ledger.open(opening);
  }

  public Map<String, Long> balances() {
    return ledger.onHand();
  }

  /** The state of the charge of {@code (gid, branch)}, or null. */
  public String charge(String gid, String branch) {
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
