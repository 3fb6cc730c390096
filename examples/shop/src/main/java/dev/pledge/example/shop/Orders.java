package dev.pledge.example.shop;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeException;
import dev.pledge.client.SagaBuilder;
import dev.pledge.client.Submitted;
import dev.pledge.client.TransactionView;
import dev.pledge.client.TwoPhaseBuilder;
import dev.pledge.client.barrier.Barrier;
import dev.pledge.client.barrier.MessageRolledBackException;
import dev.pledge.client.outbox.Outbox;
import dev.pledge.client.participant.Answer;
import dev.pledge.client.participant.Participant;
import dev.pledge.client.sql.Dialect;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The order service, the initiator. {@code POST /orders} places an order as one global transaction
 * with two branches (inventory, payment), as a saga or as a 2pc, waits for its outcome, and then,
 * if it committed, confirms the order and publishes {@code order-placed} as a two-phase message:
 *
 * <ol>
 *   <li>create a {@code msg} transaction: the message is stored by the coordinator, invisible;
 *   <li>one local transaction writes the order as confirmed and a producer barrier row {@code
 *       committed} for the message's gid;
 *   <li>commit the {@code msg} transaction: the coordinator delivers the message to shipping.
 * </ol>
 *
 * <p>If the order service dies between 2 and 3, or the commit gets no answer, the coordinator asks
 * {@code GET /check?gid=…} after the message's timeout. The check answers from the producer barrier
 * and, if it finds no row, inserts {@code rolled_back} first: a local transaction that comes later
 * then fails to insert its row, so the answer given can never turn out wrong. The order then
 * publishes again under the next gid.
 */
public final class Orders implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Orders.class);
  static final String TOPIC = "order-placed";
  private static final int MAX_PUBLISH_ATTEMPTS = 3;

  /**
   * An order as a client places it: mode {@code saga}, {@code 2pc} or {@code xa} (inventory and
   * payment on PostgreSQL and MariaDB, {@link Shop.Xa}); amount in whole cents.
   */
  public record Request(
      String orderId, String mode, String sku, long qty, String account, long amount) {
    public Request {
      Objects.requireNonNull(orderId, "orderId");
      Objects.requireNonNull(sku, "sku");
      Objects.requireNonNull(account, "account");
      if (!orderId.matches("[A-Za-z0-9._-]{1,64}")) {
        throw new IllegalArgumentException(
            "orderId must match [A-Za-z0-9._-]{1,64}, got " + orderId);
      }
      if (!"saga".equals(mode) && !"2pc".equals(mode) && !"xa".equals(mode)) {
        throw new IllegalArgumentException("mode must be saga, 2pc or xa, got " + mode);
      }
      if (qty < 1 || amount < 1) {
        throw new IllegalArgumentException(
            "qty and amount must be >= 1, got " + qty + " and " + amount);
      }
    }
  }

  /**
   * An order as the order service holds it: status {@code placing}, {@code confirmed}, {@code
   * aborted}.
   */
  public record Order(
      String orderId,
      String mode,
      String sku,
      long qty,
      String account,
      long amount,
      String status,
      String gid,
      String msgGid) {}

  private final Db db;
  private final ServiceHttp http = new ServiceHttp("order");
  private final Faults faults;
  private final PledgeClient coordinator;
  private final Barrier barrier = Barrier.create(Dialect.SQLITE);
  private final Participant checkBack;
  private final String inventoryUrl;
  private final String paymentUrl;
  private final Duration transactionTimeout;
  private final Duration checkAfter;
  private final Duration outcomeBound;
  private final Outbox outbox;
  private volatile Runnable published = () -> {};
  private volatile String xaGidPrefix = "xa-order-";

  public Orders(
      Path file,
      Faults faults,
      PledgeClient coordinator,
      String inventoryUrl,
      String paymentUrl,
      Duration transactionTimeout,
      Duration checkAfter,
      Duration outcomeBound) {
    this(
        file,
        faults,
        coordinator,
        inventoryUrl,
        paymentUrl,
        transactionTimeout,
        checkAfter,
        outcomeBound,
        false);
  }

  /**
   * The order service; with {@code throughOutbox}, {@code order-placed} is written to the SDK's
   * outbox in the local transaction that confirms the order (for a relay to publish to a broker)
   * instead of being sent as a {@code msg} transaction of the coordinator.
   */
  public Orders(
      Path file,
      Faults faults,
      PledgeClient coordinator,
      String inventoryUrl,
      String paymentUrl,
      Duration transactionTimeout,
      Duration checkAfter,
      Duration outcomeBound,
      boolean throughOutbox) {
    this.faults = Objects.requireNonNull(faults, "faults");
    this.coordinator = Objects.requireNonNull(coordinator, "coordinator");
    this.inventoryUrl = Objects.requireNonNull(inventoryUrl, "inventoryUrl");
    this.paymentUrl = Objects.requireNonNull(paymentUrl, "paymentUrl");
    this.transactionTimeout = seconds("transactionTimeout", transactionTimeout);
    this.checkAfter = seconds("checkAfter", checkAfter);
    this.outcomeBound = Objects.requireNonNull(outcomeBound, "outcomeBound");
    db =
        new Db(
            file,
            """
            CREATE TABLE IF NOT EXISTS orders (
              order_id TEXT PRIMARY KEY, mode TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL,
              account TEXT NOT NULL, amount INTEGER NOT NULL, status TEXT NOT NULL,
              gid TEXT NOT NULL, msg_gid TEXT)
            """);
    db.inTransaction(c -> {
      Barrier.migrate(c, Dialect.SQLITE);
      if (throughOutbox) {
        Outbox.migrate(c, Dialect.SQLITE);
      }
      return null;
    });
    outbox = throughOutbox ? Outbox.create(Dialect.SQLITE) : null;
    checkBack = Participant.create(barrier, this::inTransaction);
    http.route("POST", "/orders", this::placeOverHttp);
    http.route("GET", "/check", this::check);
    http.start();
  }

  private static Duration seconds(String field, Duration value) {
    Objects.requireNonNull(value, field);
    if (value.toSeconds() < 1 || value.toNanosPart() != 0) {
      throw new IllegalArgumentException(
          field + " must be a whole number of seconds >= 1, got " + value);
    }
    return value;
  }

  public String baseUrl() {
    return http.baseUrl();
  }

  /** The order service's database file (the outbox relay opens it too). */
  public Path databaseFile() {
    return db.file();
  }

  /** Whether {@code order-placed} goes through the outbox rather than the coordinator. */
  public boolean throughOutbox() {
    return outbox != null;
  }

  /**
   * The prefix of xa orders' gids (default {@code xa-order-}): a prepared transaction's name is
   * unique in its whole database server, so a run that shares one sets a prefix of its own.
   */
  void xaGidPrefix(String prefix) {
    this.xaGidPrefix = Objects.requireNonNull(prefix, "prefix");
  }

  /** Called after each local transaction that wrote an outbox row (to wake the relay). */
  public void onPublished(Runnable callback) {
    this.published = Objects.requireNonNull(callback, "callback");
  }

  int inFlight() {
    return http.inFlight();
  }

  /** The check-back URL the coordinator calls for {@code order-placed} messages. */
  public String checkUrl() {
    return http.baseUrl() + "/check";
  }

  private ServiceHttp.Response placeOverHttp(ServiceHttp.Request request) {
    JsonNode body = Json.read(request.bodyText());
    Request order;
    try {
      order =
          new Request(
              Json.text(body, "orderId"),
              Json.text(body, "mode"),
              Json.text(body, "sku"),
              Json.positive(body, "qty", 1_000),
              Json.text(body, "account"),
              Json.positive(body, "amount", 1_000_000));
    } catch (IllegalArgumentException e) {
      throw new ServiceHttp.BadRequest(e.getMessage());
    }
    Order placed = place(order);
    ObjectNode out = Json.object();
    out.put("orderId", placed.orderId());
    out.put("status", placed.status());
    out.put("gid", placed.gid());
    if (placed.msgGid() != null) {
      out.put("msgGid", placed.msgGid());
    }
    return ServiceHttp.Response.json(200, Json.write(out));
  }

  /**
   * Places an order and returns it confirmed or aborted. Idempotent on the order id: placing it
   * again continues where the first attempt stopped.
   *
   * @throws ShopException when the coordinator cannot be reached within the bounds
   */
  public Order place(Request request) {
    String gid = (request.mode().equals("xa") ? xaGidPrefix : "order-") + request.orderId();
    db.inTransaction(c ->
        Db.update(
            c,
            "INSERT OR IGNORE INTO orders (order_id, mode, sku, qty, account, amount, status, gid)"
                + " VALUES (?, ?, ?, ?, ?, ?, 'placing', ?)",
            request.orderId(),
            request.mode(),
            request.sku(),
            request.qty(),
            request.account(),
            request.amount(),
            gid));
    Order order = order(request.orderId());
    if (!order.status().equals("placing")) {
      return order;
    }
    String outcome;
    try {
      // One request: the coordinator answers once the transaction is final (or the bound passed).
      outcome = transaction(gid, order).run(outcomeBound).status();
    } catch (PledgeException e) {
      throw new ShopException("running " + gid + ": " + e.getMessage(), e);
    }
    if (outcome.equals("aborted")) {
      db.inTransaction(c ->
          Db.update(
              c,
              "UPDATE orders SET status = 'aborted' WHERE order_id = ? AND status = 'placing'",
              order.orderId()));
      return order(order.orderId());
    }
    publishPlaced(order);
    return order(order.orderId());
  }

  private void inTransaction(Barrier.Effect work) {
    db.inTransaction(c -> {
      work.run(c);
      return null;
    });
  }

  /** The order's saga, 2pc or xa transaction, through the SDK's fluent client. */
  private Run transaction(String gid, Order order) {
    Map<String, Object> stock =
        Map.of("orderId", order.orderId(), "sku", order.sku(), "qty", order.qty());
    Map<String, Object> money =
        Map.of("orderId", order.orderId(), "account", order.account(), "amount", order.amount());
    if (order.mode().equals("saga")) {
      SagaBuilder saga =
          coordinator
              .saga(gid)
              .timeout(transactionTimeout)
              .step(
                  "inventory",
                  inventoryUrl + "/saga/reserve",
                  inventoryUrl + "/saga/release",
                  stock)
              .step("payment", paymentUrl + "/saga/charge", paymentUrl + "/saga/refund", money);
      return saga::run;
    }
    boolean xa = order.mode().equals("xa");
    String prefix = xa ? "/xa" : "/2pc";
    TwoPhaseBuilder twoPhase =
        (xa ? coordinator.xa(gid) : coordinator.twoPhase(gid)).timeout(transactionTimeout);
    for (var branch :
        List.of(
            Map.entry("inventory", Map.entry(inventoryUrl, stock)),
            Map.entry("payment", Map.entry(paymentUrl, money)))) {
      String url = branch.getValue().getKey();
      twoPhase.branch(
          branch.getKey(),
          url + prefix + "/prepare",
          url + prefix + "/commit",
          url + prefix + "/rollback",
          branch.getValue().getValue());
    }
    return twoPhase::run;
  }

  /** Creates the transaction and waits for its outcome, at most the given bound. */
  @FunctionalInterface
  private interface Run {
    TransactionView run(Duration wait);
  }

  /**
   * Publishes {@code order-placed} as a two-phase message: the SDK prepares it, runs the local
   * transaction (the order confirmed, with the barrier's row) and commits. If a check-back came
   * first and answered {@code rolled_back}, the barrier refuses the local transaction and the
   * message is published again under the next gid.
   */
  private void publishPlaced(Order order) {
    if (outbox != null) {
      publishThroughOutbox(order);
      return;
    }
    for (int attempt = 1; attempt <= MAX_PUBLISH_ATTEMPTS; attempt++) {
      String msgGid = "placed-" + order.orderId() + (attempt == 1 ? "" : "." + attempt);
      try {
        Submitted submitted =
            coordinator
                .msg(msgGid)
                .timeout(checkAfter)
                .checkUrl(checkUrl())
                .message(
                    TOPIC,
                    order.orderId(),
                    Map.of(
                        "orderId", order.orderId(),
                        "sku", order.sku(),
                        "qty", order.qty(),
                        "account", order.account(),
                        "amount", order.amount()))
                .commitWith(
                    this::inTransaction,
                    barrier,
                    c ->
                        Db.update(
                            c,
                            "UPDATE orders SET status = 'confirmed', msg_gid = ? WHERE order_id = ?",
                            msgGid,
                            order.orderId()));
        if (submitted.status().equals("prepared")) {
          LOG.warn("committing {} got no answer; the check-back will settle it", msgGid);
        }
        return;
      } catch (MessageRolledBackException e) {
        LOG.info(
            "{}: the check-back rolled {} back first; publishing again", order.orderId(), msgGid);
      } catch (PledgeException e) {
        throw new ShopException("publishing " + msgGid + ": " + e.getMessage(), e);
      } catch (SQLException e) {
        throw new ShopException("publishing " + msgGid + ": " + e.getMessage(), e);
      }
    }
    throw new ShopException(
        order.orderId() + ": order-placed was rolled back " + MAX_PUBLISH_ATTEMPTS + " times");
  }

  /**
   * Publishes {@code order-placed} through the SDK's outbox: one local transaction confirms the
   * order and writes the message's row; the relay publishes it after the commit, to the broker.
   */
  private void publishThroughOutbox(Order order) {
    db.inTransaction(c -> {
      if (Db.update(
              c,
              "UPDATE orders SET status = 'confirmed' WHERE order_id = ? AND status = 'placing'",
              order.orderId())
          == 1) {
        outbox.publish(c, TOPIC, order.orderId(), placedPayload(order), null);
      }
      return null;
    });
    published.run();
  }

  private static String placedPayload(Order order) {
    ObjectNode payload = Json.object();
    payload.put("orderId", order.orderId());
    payload.put("sku", order.sku());
    payload.put("qty", order.qty());
    payload.put("account", order.account());
    payload.put("amount", order.amount());
    return Json.write(payload);
  }

  /** One order-placed row of the outbox: published once the broker acknowledged it. */
  public record OutboxRow(String orderId, boolean published) {}

  /** The order-placed rows of the outbox (none when the coordinator carries the messages). */
  public List<OutboxRow> outboxRows() {
    if (outbox == null) {
      return List.of();
    }
    return db.inTransaction(c -> {
      List<OutboxRow> out = new ArrayList<>();
      try (ResultSet rows =
          Db.query(
              c,
              "SELECT msg_key, published_micros IS NOT NULL FROM pledge_outbox WHERE topic = ?"
                  + " ORDER BY seq",
              TOPIC)) {
        while (rows.next()) {
          out.add(new OutboxRow(rows.getString(1), rows.getBoolean(2)));
        }
      }
      return out;
    });
  }

  /**
   * The check-back, answered by the SDK from its barrier: {@code rolled_back} (and written so) when
   * the local transaction left no row.
   */
  private ServiceHttp.Response check(ServiceHttp.Request request) {
    String gid = request.query().get("gid");
    if (gid == null || gid.isEmpty()) {
      throw new ServiceHttp.BadRequest("query parameter gid is required");
    }
    Faults.Kind fault = faults.draw(false);
    if (fault == Faults.Kind.FAIL_BEFORE) {
      return ServiceHttp.Response.json(503, Json.error("injected", "503 before the work"));
    }
    if (fault == Faults.Kind.SLOW) {
      sleep(faults.rates().slowDelay().toMillis());
    }
    Answer answer = checkBack.answerCheckBack(request.query());
    if (fault == Faults.Kind.FAIL_AFTER) {
      return ServiceHttp.Response.json(500, Json.error("injected", "500 after the work"));
    }
    return ServiceHttp.Response.json(answer.status(), answer.body());
  }

  // ---- reading, for the audit and the tests ----

  /** The order, or null. */
  public Order order(String orderId) {
    List<Order> found = orders("WHERE order_id = ?", orderId);
    return found.isEmpty() ? null : found.getFirst();
  }

  public List<Order> orders() {
    return orders("");
  }

  /** Producer barrier rows: message gid to {@code committed} or {@code rolled_back}. */
  public Map<String, String> producerBarrier() {
    return db.inTransaction(c -> {
      Map<String, String> out = new TreeMap<>();
      try (ResultSet rows =
          Db.query(
              c,
              "SELECT gid, CASE reason WHEN 'msg' THEN 'committed' ELSE 'rolled_back' END"
                  + " FROM pledge_barrier WHERE branch = '00' AND op = 'msg'")) {
        while (rows.next()) {
          out.put(rows.getString(1), rows.getString(2));
        }
      }
      return out;
    });
  }

  private List<Order> orders(String where, Object... args) {
    return db.inTransaction(c -> {
      List<Order> out = new ArrayList<>();
      try (ResultSet rows =
          Db.query(
              c,
              "SELECT order_id, mode, sku, qty, account, amount, status, gid, msg_gid FROM orders "
                  + where
                  + " ORDER BY order_id",
              args)) {
        while (rows.next()) {
          out.add(
              new Order(
                  rows.getString(1),
                  rows.getString(2),
                  rows.getString(3),
                  rows.getLong(4),
                  rows.getString(5),
                  rows.getLong(6),
                  rows.getString(7),
                  rows.getString(8),
                  rows.getString(9)));
        }
      }
      return out;
    });
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ShopException("interrupted", e);
    }
  }

  @Override
  public void close() {
    http.close();
    db.close();
  }
}
