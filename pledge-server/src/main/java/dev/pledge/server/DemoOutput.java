package dev.pledge.server;

import dev.pledge.example.shop.Audit;
import dev.pledge.example.shop.Customers;
import dev.pledge.example.shop.Shop;
import java.io.PrintWriter;
import java.util.List;

/**
 * What {@code pledge demo} prints: lines stamped with the time since the run started, the progress
 * line, and the consistency report with its verdict.
 */
final class DemoOutput {
  private final PrintWriter out;
  private final long startNanos;

  DemoOutput(PrintWriter out, long startNanos) {
    this.out = out;
    this.startNanos = startNanos;
  }

  /** The time since the run started, as the lines' stamps show it. */
  String elapsed() {
    return String.format("%.1fs", (System.nanoTime() - startNanos) / 1e9);
  }

  void printf(String format, Object... args) {
    out.printf(format, args);
  }

  void println(String line) {
    out.println(line);
  }

  void flush() {
    out.flush();
  }

  void progress(Customers customers, int orders, Shop shop, String coordinatorState) {
    out.printf(
        "[%5s] orders %d/%d answered: %d committed, %d aborted, %d failed | shop requests in"
            + " progress %d | coordinator %s%n",
        elapsed(),
        customers.finished(),
        orders,
        customers.confirmed(),
        customers.aborted(),
        customers.failures().size(),
        shop.inFlight(),
        coordinatorState.startsWith("KILLED")
            ? "DOWN (killed with -9, restarting)"
            : coordinatorState.startsWith("killed") ? "up (restarted)" : coordinatorState);
    out.flush();
  }

  /**
   * Prints the report of {@link Audit}, the coordinator's story and every failed order, then the
   * verdict; returns whether the run was consistent: the audit held, everything settled and no
   * order failed.
   */
  boolean report(
      Audit.Report report,
      long seed,
      String coordinatorState,
      Customers customers,
      List<String> unsettled) {
    out.println();
    out.printf("Consistency report (%s, seed %d)%n", elapsed(), seed);
    report.lines().forEach(line -> out.println("  " + line));
    out.printf("  coordinator: %s%n", coordinatorState);
    for (String failure : customers.failures()) {
      out.println("  order failed: " + failure);
    }
    boolean consistent =
        report.consistent() && unsettled.isEmpty() && customers.failures().isEmpty();
    out.println();
    out.println(
        consistent
            ? "CONSISTENT: every order committed or aborted everywhere; stock and money"
                + " conserved; one shipment per committed order, none for an aborted one"
            : "INCONSISTENT: see the [FAIL] lines above");
    out.flush();
    return consistent;
  }
}
