package dev.pledge.example.shop;

import dev.pledge.client.barrier.BusinessRefusal;
import dev.pledge.client.participant.Answer;
import dev.pledge.client.participant.ParticipantRequest;
import dev.pledge.client.participant.XaParticipant;
import dev.pledge.client.xa.XaBranches;
import dev.pledge.client.xa.XaIncident;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Inventory's or payment's books on PostgreSQL or MariaDB, taking part in {@code xa} transactions:
 * {@code POST /xa/prepare} runs the take (the amount off the key's balance, an entry in state
 * {@code committed}) in a branch that the SDK's {@link XaBranches} then prepares as a real database
 * prepared transaction ({@code PREPARE TRANSACTION} / {@code XA PREPARE}); {@code /xa/commit} and
 * {@code /xa/rollback} end it by its xid. The take becomes visible exactly when the branch commits;
 * a rolled-back branch leaves nothing, so the audit's invariant is the ledger's: opening = on hand
 * + committed, per key.
 *
 * <p>Each request suffers its injected fault first, as the SQLite services' do. The data source
 * must open a new connection each time (no pool): on MariaDB a prepared branch stays attached to
 * its session until the session disconnects.
 */
final class XaLedger implements Books {
  private static final Logger LOG = LoggerFactory.getLogger(XaLedger.class);

  /** The bound on a branch's row-lock waits: a take that waits longer answers 503, retried. */
  static final Duration LOCK_TIMEOUT = Duration.ofSeconds(1);

  private final Ledger.Names names;
  private final DataSource dataSource;
  private final Faults faults;
  private final String gidPrefix;
  private final XaBranches branches;
  private final XaParticipant participant;
  private final ServiceHttp http;
  private final Map<String, AtomicLong> counts = new ConcurrentHashMap<>();

  /**
   * @param gidPrefix the prefix of this run's gids: the prepared branches listed as left over are
   *     those whose gid starts with it (MariaDB lists every database's)
   */
  XaLedger(Ledger.Names names, DataSource dataSource, Faults faults, String gidPrefix) {
    this.names = Objects.requireNonNull(names, "names");
    this.dataSource = Objects.requireNonNull(dataSource, "dataSource");
    this.faults = Objects.requireNonNull(faults, "faults");
    this.gidPrefix = Objects.requireNonNull(gidPrefix, "gidPrefix");
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS shop_balance (item VARCHAR(64) PRIMARY KEY,"
              + " amount BIGINT NOT NULL CHECK (amount >= 0))");
      s.execute(
          "CREATE TABLE IF NOT EXISTS shop_opening (item VARCHAR(64) PRIMARY KEY,"
              + " amount BIGINT NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS shop_entry (gid VARCHAR(128) NOT NULL, branch VARCHAR(64)"
              + " NOT NULL, order_id VARCHAR(64) NOT NULL, item VARCHAR(64) NOT NULL, amount"
              + " BIGINT NOT NULL, state VARCHAR(32) NOT NULL, PRIMARY KEY (gid, branch))");
    } catch (SQLException e) {
      throw new ShopException(
          "the " + names.service() + " database cannot be set up: " + e.getMessage(), e);
    }
    branches = XaBranches.create(dataSource, Clock.systemUTC(), LOCK_TIMEOUT);
    participant = XaParticipant.create(branches);
    http = new ServiceHttp(names.service());
    http.route("POST", "/xa/prepare", request -> handle(request, "prepare"));
    http.route("POST", "/xa/commit", request -> handle(request, "commit"));
    http.route("POST", "/xa/rollback", request -> handle(request, "rollback"));
    http.start();
  }

  /** The SDK's branches on this database (its prepared transactions, its incidents). */
  XaBranches branches() {
    return branches;
  }

  private ServiceHttp.Response handle(ServiceHttp.Request request, String op) {
    Faults.Kind fault = faults.draw(op.equals("prepare"));
    switch (fault) {
      case FAIL_BEFORE -> {
        return ServiceHttp.Response.json(503, Json.error("injected", "503 before the work"));
      }
      case SLOW -> {
        try {
          Thread.sleep(faults.rates().slowDelay());
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return ServiceHttp.Response.json(503, Json.error("interrupted", "shutting down"));
        }
      }
      case NONE, REFUSE, FAIL_AFTER -> {}
    }
    byte[] body = request.bodyText().getBytes(StandardCharsets.UTF_8);
    Answer answer =
        switch (op) {
          case "prepare" ->
              participant.answerPrepare(
                  request.headers(),
                  body,
                  (c, call) -> {
                    if (fault == Faults.Kind.REFUSE) {
                      throw new BusinessRefusal("refused (injected)");
                    }
                    take(c, call);
                  });
          case "commit" -> participant.answerCommit(request.headers(), body);
          default -> participant.answerRollback(request.headers(), body);
        };
    count(op, answer);
    LOG.debug("{} xa {} -> {}", names.service(), op, answer.status());
    if (fault == Faults.Kind.FAIL_AFTER) {
      return ServiceHttp.Response.json(500, Json.error("injected", "500 after the work"));
    }
    return ServiceHttp.Response.json(answer.status(), answer.body());
  }

  private void count(String op, Answer answer) {
    String kind;
    if (answer.status() == 409) {
      kind = "refused";
    } else if (answer.status() == 200) {
      kind = Json.read(answer.body()).path("outcome").asText();
    } else {
      return;
    }
    counts.computeIfAbsent(op + "/" + kind, k -> new AtomicLong()).incrementAndGet();
  }

  /** The branch's work: the amount off the key's balance, and the entry, both on its connection. */
  private void take(Connection c, ParticipantRequest call) throws SQLException {
    String orderId = Json.text(call.payload(), "orderId");
    String key = Json.text(call.payload(), names.keyField());
    long amount = Json.positive(call.payload(), names.amountField(), names.maxAmount());
    long available;
    try (PreparedStatement select =
        c.prepareStatement("SELECT amount FROM shop_balance WHERE item = ? FOR UPDATE")) {
      select.setString(1, key);
      try (ResultSet rows = select.executeQuery()) {
        available = rows.next() ? rows.getLong(1) : 0;
      }
    }
    if (available < amount) {
      throw new BusinessRefusal(
          names.refusal() + ": " + key + ": " + amount + " wanted, " + available + " available");
    }
    Db.update(c, "UPDATE shop_balance SET amount = amount - ? WHERE item = ?", amount, key);
    Db.update(
        c,
        "INSERT INTO shop_entry (gid, branch, order_id, item, amount, state)"
            + " VALUES (?, ?, ?, ?, ?, ?)",
        call.gid(),
        call.branch(),
        orderId,
        key,
        amount,
        names.committed());
  }

  @Override
  public String baseUrl() {
    return http.baseUrl();
  }

  @Override
  public int inFlight() {
    return http.inFlight();
  }

  @Override
  public void open(Map<String, Long> opening) {
    inTransaction(c -> {
      for (Map.Entry<String, Long> key : opening.entrySet()) {
        if (key.getValue() < 0) {
          throw new IllegalArgumentException(
              names.service() + " opening of " + key.getKey() + " must be >= 0");
        }
        boolean present;
        try (ResultSet rows =
            Db.query(c, "SELECT 1 FROM shop_opening WHERE item = ?", key.getKey())) {
          present = rows.next();
        }
        if (!present) {
          Db.update(
              c,
              "INSERT INTO shop_opening (item, amount) VALUES (?, ?)",
              key.getKey(),
              key.getValue());
          Db.update(
              c,
              "INSERT INTO shop_balance (item, amount) VALUES (?, ?)",
              key.getKey(),
              key.getValue());
        }
      }
      return null;
    });
  }

  @Override
  public Map<String, Long> opening() {
    return pairs("SELECT item, amount FROM shop_opening");
  }

  @Override
  public Map<String, Long> onHand() {
    return pairs("SELECT item, amount FROM shop_balance");
  }

  @Override
  public Map<String, Long> inState(String state) {
    return pairs("SELECT item, SUM(amount) FROM shop_entry WHERE state = ? GROUP BY item", state);
  }

  @Override
  public Map<String, List<String>> statesByOrder() {
    return inTransaction(c -> {
      Map<String, List<String>> out = new TreeMap<>();
      try (ResultSet rows = Db.query(c, "SELECT order_id, state FROM shop_entry ORDER BY gid")) {
        while (rows.next()) {
          out.computeIfAbsent(rows.getString(1), k -> new ArrayList<>()).add(rows.getString(2));
        }
      }
      return out;
    });
  }

  @Override
  public String state(String gid, String branch) {
    return inTransaction(c -> {
      try (ResultSet rows =
          Db.query(c, "SELECT state FROM shop_entry WHERE gid = ? AND branch = ?", gid, branch)) {
        return rows.next() ? rows.getString(1) : null;
      }
    });
  }

  @Override
  public Map<String, Long> barrierStats() {
    Map<String, Long> out = new TreeMap<>();
    long repeats = 0;
    for (Map.Entry<String, AtomicLong> count : counts.entrySet()) {
      if (count.getKey().contains("/already_")) {
        repeats += count.getValue().get();
      } else {
        out.put(count.getKey(), count.getValue().get());
      }
    }
    out.put("repeats", repeats);
    return out;
  }

  /**
   * The heuristic outcomes the SDK recorded: a branch that ended otherwise than the decision (the
   * audit lists the branches left prepared on its own, {@link #leftPrepared}).
   */
  @Override
  public List<String> barrierProblems() {
    List<String> out = new ArrayList<>();
    try {
      for (XaIncident incident : branches.incidents(1_000)) {
        out.add(
            "xa incident "
                + incident.kind().code()
                + " "
                + incident.gid()
                + "/"
                + incident.branch()
                + ": "
                + incident.detail());
      }
    } catch (SQLException e) {
      out.add("the xa records cannot be read: " + e.getMessage());
    }
    return out;
  }

  /** This run's branches still prepared in the database (holding their locks), as text. */
  List<String> leftPrepared() throws SQLException {
    List<String> out = new ArrayList<>();
    for (XaBranches.PreparedBranch branch : branches.prepared(10_000)) {
      if (branch.gid() != null && branch.gid().startsWith(gidPrefix)) {
        out.add("still prepared: " + branch.gid() + "/" + branch.branch());
      }
    }
    return out;
  }

  private Map<String, Long> pairs(String sql, Object... args) {
    return inTransaction(c -> {
      Map<String, Long> out = new TreeMap<>();
      try (ResultSet rows = Db.query(c, sql, args)) {
        while (rows.next()) {
          out.put(rows.getString(1), rows.getLong(2));
        }
      }
      return out;
    });
  }

  private <T> T inTransaction(Db.Work<T> work) {
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      try {
        T result = work.run(c);
        c.commit();
        return result;
      } catch (SQLException | RuntimeException e) {
        try {
          c.rollback();
        } catch (SQLException rollback) {
          e.addSuppressed(rollback);
        }
        throw e;
      }
    } catch (SQLException e) {
      throw new ShopException(names.service() + ": " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    http.close();
  }
}
