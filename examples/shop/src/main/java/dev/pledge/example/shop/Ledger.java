package dev.pledge.example.shop;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * What inventory and payment have in common: a quantity per key (stock per SKU, balance per
 * account) in the service's own SQLite database, taken by saga actions and 2pc prepares, given back
 * by compensations and rollbacks, every op behind the {@link Barrier}.
 *
 * <p>Each take is an {@code entry} row keyed by {@code (gid, branch)} whose state moves: saga
 * {@code taken → returned}; 2pc {@code held → committed} or {@code held → rolled back}. The
 * invariant the audit checks: opening = on hand + taken + held + committed, per key.
 */
final class Ledger implements AutoCloseable {
  /** How a service names its things. */
  record Names(
      String service,
      String keyField,
      String amountField,
      long maxAmount,
      String refusal,
      String taken,
      String returned,
      String held,
      String committed,
      String rolledBack) {}

  /**
   * A change of one key's amount, told to {@link Changes} inside the local transaction that makes
   * it: {@code kind} is {@code opened}, or the entry state the change leads to (taken, held,
   * returned, rolled back, committed).
   */
  record Change(String kind, String key, long amount, String orderId) {}

  /** Told of every change, on the transaction's connection (inventory records them as events). */
  @FunctionalInterface
  interface Changes {
    Changes NONE = (c, change) -> {};

    void record(Connection c, Change change) throws SQLException;
  }

  private final Names names;
  private final Db db;
  private final ServiceHttp http;
  private final Changes changes;

  Ledger(Names names, Path file, Faults faults, String sagaAction, String sagaCompensation) {
    this(names, file, faults, sagaAction, sagaCompensation, Changes.NONE);
  }

  Ledger(
      Names names,
      Path file,
      Faults faults,
      String sagaAction,
      String sagaCompensation,
      Changes changes) {
    this.names = names;
    this.changes = changes;
    this.http = new ServiceHttp(names.service());
    this.db =
        new Db(
            file,
            Barrier.DDL,
            "CREATE TABLE IF NOT EXISTS balance (key TEXT PRIMARY KEY, amount INTEGER NOT NULL"
                + " CHECK (amount >= 0))",
            "CREATE TABLE IF NOT EXISTS opening (key TEXT PRIMARY KEY, amount INTEGER NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS entry (
              gid TEXT NOT NULL, branch TEXT NOT NULL, order_id TEXT NOT NULL, key TEXT NOT NULL,
              amount INTEGER NOT NULL, state TEXT NOT NULL, PRIMARY KEY (gid, branch))
            """);
    Participant participant = new Participant(names.service(), db, faults);
    participant.route(
        http,
        "/saga/" + sagaAction,
        "action",
        true,
        (c, call, refuse) ->
            Barrier.forward(
                c, call, "compensate", conn -> take(conn, call, refuse, names.taken())));
    participant.route(
        http,
        "/saga/" + sagaCompensation,
        "compensate",
        false,
        (c, call, refuse) ->
            Barrier.compensate(
                c, call, "action", conn -> giveBack(conn, call, names.taken(), names.returned())));
    participant.route(
        http,
        "/2pc/prepare",
        "prepare",
        true,
        (c, call, refuse) ->
            Barrier.forward(c, call, "rollback", conn -> take(conn, call, refuse, names.held())));
    participant.route(
        http,
        "/2pc/commit",
        "commit",
        false,
        (c, call, refuse) ->
            Barrier.confirm(
                c,
                call,
                "prepare",
                "rollback",
                conn -> {
                  move(conn, call, names.held(), names.committed());
                  recordEntry(conn, call, names.committed());
                  return Barrier.Answer.ok("{\"state\":\"" + names.committed() + "\"}");
                }));
    participant.route(
        http,
        "/2pc/rollback",
        "rollback",
        false,
        (c, call, refuse) ->
            Barrier.compensate(
                c,
                call,
                "prepare",
                conn -> giveBack(conn, call, names.held(), names.rolledBack())));
    http.start();
  }

  String baseUrl() {
    return http.baseUrl();
  }

  int inFlight() {
    return http.inFlight();
  }

  Db db() {
    return db;
  }

  /** Sets the opening amount of each key, once: a key already opened keeps what it has. */
  void open(Map<String, Long> opening) {
    db.inTransaction(c -> {
      for (Map.Entry<String, Long> key : opening.entrySet()) {
        if (key.getValue() < 0) {
          throw new IllegalArgumentException(
              names.service()
                  + " opening of "
                  + key.getKey()
                  + " must be >= 0, got "
                  + key.getValue());
        }
        if (Db.update(
                c,
                "INSERT OR IGNORE INTO opening (key, amount) VALUES (?, ?)",
                key.getKey(),
                key.getValue())
            == 1) {
          Db.update(
              c, "INSERT INTO balance (key, amount) VALUES (?, ?)", key.getKey(), key.getValue());
          changes.record(c, new Change("opened", key.getKey(), key.getValue(), ""));
        }
      }
      return null;
    });
  }

  private Barrier.Answer take(Connection c, Barrier.Call call, boolean refuse, String state)
      throws SQLException {
    String orderId = Json.text(call.payload(), "orderId");
    String key = Json.text(call.payload(), names.keyField());
    long amount = Json.positive(call.payload(), names.amountField(), names.maxAmount());
    long available;
    try (ResultSet rows = Db.query(c, "SELECT amount FROM balance WHERE key = ?", key)) {
      available = rows.next() ? rows.getLong(1) : 0;
    }
    if (refuse) {
      return Barrier.Answer.refused(names.refusal(), key + ": refused (injected)");
    }
    if (available < amount) {
      return Barrier.Answer.refused(
          names.refusal(), key + ": " + amount + " wanted, " + available + " available");
    }
    Db.update(c, "UPDATE balance SET amount = amount - ? WHERE key = ?", amount, key);
    Db.update(
        c,
        "INSERT INTO entry (gid, branch, order_id, key, amount, state) VALUES (?, ?, ?, ?, ?, ?)",
        call.gid(),
        call.branch(),
        orderId,
        key,
        amount,
        state);
    changes.record(c, new Change(state, key, amount, orderId));
    return Barrier.Answer.ok("{\"state\":\"" + state + "\"}");
  }

  /** Tells {@link #changes} of the entry of {@code call}, now in state {@code kind}. */
  private void recordEntry(Connection c, Barrier.Call call, String kind) throws SQLException {
    try (ResultSet rows =
        Db.query(
            c,
            "SELECT key, amount, order_id FROM entry WHERE gid = ? AND branch = ?",
            call.gid(),
            call.branch())) {
      if (rows.next()) {
        changes.record(c, new Change(kind, rows.getString(1), rows.getLong(2), rows.getString(3)));
      }
    }
  }

  private Barrier.Answer giveBack(Connection c, Barrier.Call call, String from, String to)
      throws SQLException {
    try (ResultSet rows =
        Db.query(
            c,
            "SELECT key, amount FROM entry WHERE gid = ? AND branch = ? AND state = ?",
            call.gid(),
            call.branch(),
            from)) {
      if (!rows.next()) {
        throw new IllegalStateException(
            "no " + from + " entry for " + call.gid() + "/" + call.branch() + " to give back");
      }
      Db.update(
          c,
          "UPDATE balance SET amount = amount + ? WHERE key = ?",
          rows.getLong(2),
          rows.getString(1));
    }
    move(c, call, from, to);
    recordEntry(c, call, to);
    return Barrier.Answer.ok("{\"state\":\"" + to + "\"}");
  }

  private static void move(Connection c, Barrier.Call call, String from, String to)
      throws SQLException {
    int changed =
        Db.update(
            c,
            "UPDATE entry SET state = ? WHERE gid = ? AND branch = ? AND state = ?",
            to,
            call.gid(),
            call.branch(),
            from);
    if (changed != 1) {
      throw new IllegalStateException(
          "entry " + call.gid() + "/" + call.branch() + " is not " + from);
    }
  }

  // ---- reading, for the audit and the tests ----

  Map<String, Long> opening() {
    return pairs("SELECT key, amount FROM opening");
  }

  Map<String, Long> onHand() {
    return pairs("SELECT key, amount FROM balance");
  }

  /** The amount per key in entries of {@code state}. */
  Map<String, Long> inState(String state) {
    return pairs("SELECT key, SUM(amount) FROM entry WHERE state = ? GROUP BY key", state);
  }

  /** Order id to entry state, for every entry. */
  Map<String, List<String>> statesByOrder() {
    return db.inTransaction(c -> {
      Map<String, List<String>> out = new TreeMap<>();
      try (ResultSet rows = Db.query(c, "SELECT order_id, state FROM entry ORDER BY gid")) {
        while (rows.next()) {
          out.computeIfAbsent(rows.getString(1), k -> new ArrayList<>()).add(rows.getString(2));
        }
      }
      return out;
    });
  }

  /** The state of the entry of {@code (gid, branch)}, or null when there is none. */
  String state(String gid, String branch) {
    return db.inTransaction(c -> {
      try (ResultSet rows =
          Db.query(c, "SELECT state FROM entry WHERE gid = ? AND branch = ?", gid, branch)) {
        return rows.next() ? rows.getString(1) : null;
      }
    });
  }

  Map<String, Long> barrierStats() {
    return Barrier.stats(db);
  }

  List<String> barrierProblems() {
    List<String> out = new ArrayList<>(Barrier.problems(db, "action", "compensate"));
    out.addAll(Barrier.problems(db, "prepare", "rollback"));
    return out;
  }

  private Map<String, Long> pairs(String sql, Object... args) {
    return db.inTransaction(c -> {
      Map<String, Long> out = new TreeMap<>();
      try (ResultSet rows = Db.query(c, sql, args)) {
        while (rows.next()) {
          out.put(rows.getString(1), rows.getLong(2));
        }
      }
      return out;
    });
  }

  @Override
  public void close() {
    http.close();
    db.close();
  }
}
