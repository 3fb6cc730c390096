package dev.pledge.example.shop;

import java.util.List;
import java.util.Map;

/**
 * What inventory and payment keep, as the audit reads it: a quantity per key (stock per SKU,
 * balance per account) and one entry per take, whatever database holds them: {@link Ledger} on the
 * service's own SQLite database (saga and 2pc), {@link XaLedger} on PostgreSQL or MariaDB (xa).
 */
interface Books extends AutoCloseable {
  String baseUrl();

  /** Requests the service is answering right now. */
  int inFlight();

  /** Sets the opening amount of each key, once: a key already opened keeps what it has. */
  void open(Map<String, Long> opening);

  Map<String, Long> opening();

  Map<String, Long> onHand();

  /** The amount per key in entries of {@code state}. */
  Map<String, Long> inState(String state);

  /** Order id to entry states, for every entry. */
  Map<String, List<String>> statesByOrder();

  /** The state of the entry of {@code (gid, branch)}, or null when there is none. */
  String state(String gid, String branch);

  /** What the participant's SDK did, by {@code op/kind}, and {@code repeats}. */
  Map<String, Long> barrierStats();

  /** What is wrong in the SDK's own records, if anything. */
  List<String> barrierProblems();

  @Override
  void close();
}
