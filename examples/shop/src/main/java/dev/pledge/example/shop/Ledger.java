package dev.pledge.example.shop;

import dev.pledge.client.barrier.Barrier;
import dev.pledge.client.barrier.BusinessRefusal;
import dev.pledge.client.participant.ParticipantRequest;
import dev.pledge.client.sql.Dialect;
import dev.pledge.core.Op;
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
 * by compensations and rollbacks, every op behind the SDK's {@link Barrier}.
 *
 * <p>Each take is an {@code entry} row keyed by {@code (gid, branch)} whose state moves: saga
 * {@code taken → returned}; 2pc {@code held → committed} or {@code held → rolled back}. The
 * invariant the audit checks: opening = on hand + taken + held + committed, per key.
 */
final class Ledger implements Books {
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
   * it: {@code kind} is {@code opened}, or the state the entry moved to (taken, held, returned,
   * rolled back, committed).
   */
  record Change(String kind, String key, long amount, String orderId) {}

  /**
   * Told of every change on the transaction's connection, before it commits (inventory appends them
   * as events), and after each commit of the ledger's database.
   */
  interface Changes {
    Changes NONE =
        new Changes() {
          @Override
          public void record(Connection c, Change change) {}
        };

    void record(Connection c, Change change) throws SQLException;

    /** After a local transaction of the ledger committed. */
    default void committed() {}
  }

  private final Names names;
  private final Db db;
  private final ServiceHttp http;
  private final ParticipantHttp participant;
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
            "CREATE TABLE IF NOT EXISTS balance (key TEXT PRIMARY KEY, amount INTEGER NOT NULL"
                + " CHECK (amount >= 0))",
            "CREATE TABLE IF NOT EXISTS opening (key TEXT PRIMARY KEY, amount INTEGER NOT NULL)",
            """
            CREATE TABLE IF NOT EXISTS entry (
              gid TEXT NOT NULL, branch TEXT NOT NULL, order_id TEXT NOT NULL, key TEXT NOT NULL,
              amount INTEGER NOT NULL, state TEXT NOT NULL, PRIMARY KEY (gid, branch))
            """);
    db.afterCommit(changes::committed);
    db.inTransaction(c -> {
      Barrier.migrate(c, Dialect.SQLITE);
      return null;
    });
    participant = new ParticipantHttp(names.service(), db, faults, Barrier.create(Dialect.SQLITE));
    participant.route(
        http,
        "/saga/" + sagaAction,
        Op.ACTION,
        (c, request, refuse) -> take(c, request, names.taken()));
    participant.route(
        http,
        "/saga/" + sagaCompensation,
        Op.COMPENSATE,
        (c, request, refuse) -> giveBack(c, request, names.taken(), names.returned()));
    participant.route(
        http, "/2pc/prepare", Op.PREPARE, (c, request, refuse) -> take(c, request, names.held()));
    participant.route(http, "/2pc/commit", Op.COMMIT, (c, request, refuse) -> commit(c, request));
    participant.route(
        http,
        "/2pc/rollback",
        Op.ROLLBACK,
        (c, request, refuse) -> giveBack(c, request, names.held(), names.rolledBack()));
    http.start();
  }

  @Override
  public String baseUrl() {
    return http.baseUrl();
  }

  @Override
  public int inFlight() {
    return http.inFlight();
  }

  Db db() {
    return db;
  }

  /** Sets the opening amount of each key, once: a key already opened keeps what it has. */
  @Override
  public void open(Map<String, Long> opening) {
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

  private void take(Connection c, ParticipantRequest call, String state) throws SQLException {
    String orderId = Json.text(call.payload(), "orderId");
    String key = Json.text(call.payload(), names.keyField());
    long amount = Json.positive(call.payload(), names.amountField(), names.maxAmount());
    long available;
    try (ResultSet rows = Db.query(c, "SELECT amount FROM balance WHERE key = ?", key)) {
      available = rows.next() ? rows.getLong(1) : 0;
    }
    if (available < amount) {
      throw new BusinessRefusal(
          names.refusal() + ": " + key + ": " + amount + " wanted, " + available + " available");
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
  }

  private void commit(Connection c, ParticipantRequest call) throws SQLException {
    move(c, call, names.held(), names.committed());
    recordEntry(c, call, names.committed());
  }

  /** Tells {@link #changes} of the entry of {@code call}, now in state {@code kind}. */
  private void recordEntry(Connection c, ParticipantRequest call, String kind) throws SQLException {
    try (ResultSet rows =
        Db.query(
            c,
            "SELECT key, amount, order_id FROM entry WHERE gid = ? AND branch = ?",
            call.gid(),
            call.branch())) {
      if (!rows.next()) {
        throw new IllegalStateException("no entry for " + call.gid() + "/" + call.branch());
      }
      changes.record(c, new Change(kind, rows.getString(1), rows.getLong(2), rows.getString(3)));
    }
  }

  private void giveBack(Connection c, ParticipantRequest call, String from, String to)
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
  }

  private static void move(Connection c, ParticipantRequest call, String from, String to)
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

  @Override
  public Map<String, Long> opening() {
    return pairs("SELECT key, amount FROM opening");
  }

  @Override
  public Map<String, Long> onHand() {
    return pairs("SELECT key, amount FROM balance");
  }

  /** The amount per key in entries of {@code state}. */
  @Override
  public Map<String, Long> inState(String state) {
    return pairs("SELECT key, SUM(amount) FROM entry WHERE state = ? GROUP BY key", state);
  }

  /** Order id to entry state, for every entry. */
  @Override
  public Map<String, List<String>> statesByOrder() {
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
  @Override
  public String state(String gid, String branch) {
    return db.inTransaction(c -> {
      try (ResultSet rows =
          Db.query(c, "SELECT state FROM entry WHERE gid = ? AND branch = ?", gid, branch)) {
        return rows.next() ? rows.getString(1) : null;
      }
    });
  }

  @Override
  public Map<String, Long> barrierStats() {
    return participant.stats();
  }

  /**
   * What is wrong between the SDK's barrier table and the entries, if anything: a forward op that
   * ran after its compensation (hanging), a 2pc branch both committed and rolled back, a commit
   * without a successful prepare.
   */
  @Override
  public List<String> barrierProblems() {
    return db.inTransaction(c -> {
      List<String> out = new ArrayList<>();
      collect(
          c,
          out,
          "a forward op ran after its compensation",
          """
          SELECT b.gid || '/' || b.branch FROM pledge_barrier b
          WHERE ((b.op = 'action' AND b.reason = 'compensate')
              OR (b.op = 'prepare' AND b.reason = 'rollback'))
          AND EXISTS (SELECT 1 FROM entry e WHERE e.gid = b.gid AND e.branch = b.branch)
          """);
      collect(
          c,
          out,
          "both commit and rollback",
          """
          SELECT b.gid || '/' || b.branch FROM pledge_barrier b WHERE b.op = 'commit'
          AND EXISTS (SELECT 1 FROM pledge_barrier r WHERE r.gid = b.gid
                      AND r.branch = b.branch AND r.op = 'rollback')
          """);
      collect(
          c,
          out,
          "commit without a successful prepare",
          """
          SELECT b.gid || '/' || b.branch FROM pledge_barrier b WHERE b.op = 'commit'
          AND NOT EXISTS (SELECT 1 FROM pledge_barrier p WHERE p.gid = b.gid
                          AND p.branch = b.branch AND p.op = 'prepare' AND p.reason = 'prepare')
          """);
      return out;
    });
  }

  private static void collect(Connection c, List<String> out, String what, String sql)
      throws SQLException {
    try (ResultSet rows = Db.query(c, sql)) {
      while (rows.next()) {
        out.add(what + ": " + rows.getString(1));
      }
    }
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
