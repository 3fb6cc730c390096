package dev.pledge.example.shop;

import com.fasterxml.jackson.databind.JsonNode;
import dev.pledge.client.inbox.Inbox;
import dev.pledge.client.inbox.InboxOutcome;
import dev.pledge.client.participant.Answer;
import dev.pledge.client.participant.Participant;
import dev.pledge.client.sql.Dialect;
import dev.pledge.core.TransactionalMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The shipping service: the subscription target of {@code order-placed}. {@code POST /inbox}
 * receives a delivery (headers {@code Pledge-Message-Id}, {@code Pledge-Topic}, {@code Pledge-Key},
 * {@code Pledge-Gid}; the message's payload as body), read by the SDK's {@link Participant}, and
 * hands it to the SDK's {@link Inbox}: in one local transaction the message id is recorded and, if
 * it was new, the order's shipment created. Delivery is at least once; through the inbox a
 * redelivered message is acknowledged and does nothing.
 */
public final class Shipping implements AutoCloseable {
  private final Db db;
  private final ServiceHttp http = new ServiceHttp("shipping");
  private final Faults faults;
  private final Inbox inbox;
  private final AtomicLong duplicates = new AtomicLong();

  public Shipping(Path file, Faults faults) {
    this.faults = faults;
    db =
        new Db(
            file,
            """
            CREATE TABLE IF NOT EXISTS shipment (
              id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL,
              message_id TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL)
            """);
    db.inTransaction(c -> {
      Inbox.migrate(c, Dialect.SQLITE);
      return null;
    });
    inbox = Inbox.create(Dialect.SQLITE);
    http.route("POST", "/inbox", this::receive);
    http.start();
  }

  public String baseUrl() {
    return http.baseUrl();
  }

  /** The subscription target for {@code order-placed}. */
  public String inboxUrl() {
    return http.baseUrl() + "/inbox";
  }

  int inFlight() {
    return http.inFlight();
  }

  private ServiceHttp.Response receive(ServiceHttp.Request request) {
    Faults.Kind fault = faults.draw(false);
    if (fault == Faults.Kind.FAIL_BEFORE) {
      return ServiceHttp.Response.json(503, Json.error("injected", "503 before the work"));
    }
    if (fault == Faults.Kind.SLOW) {
      try {
        Thread.sleep(faults.rates().slowDelay());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return ServiceHttp.Response.json(503, Json.error("interrupted", "shutting down"));
      }
    }
    Answer answer =
        Participant.answerDelivery(
            request.headers(), request.bodyText().getBytes(StandardCharsets.UTF_8), this::ship);
    if (fault == Faults.Kind.FAIL_AFTER) {
      return ServiceHttp.Response.json(500, Json.error("injected", "500 after the work"));
    }
    return ServiceHttp.Response.json(answer.status(), answer.body());
  }

  /** One delivery through the SDK's inbox: a new message ships its order, a duplicate nothing. */
  private void ship(TransactionalMessage message) {
    JsonNode payload = Json.read(message.payload());
    String orderId = Json.text(payload, "orderId");
    String sku = Json.text(payload, "sku");
    long qty = Json.positive(payload, "qty", 1_000);
    InboxOutcome outcome =
        db.inTransaction(c ->
            inbox.handle(
                c,
                message,
                conn ->
                    Db.update(
                        conn,
                        "INSERT INTO shipment (order_id, message_id, sku, qty)"
                            + " VALUES (?, ?, ?, ?)",
                        orderId,
                        message.id(),
                        sku,
                        qty)));
    if (outcome == InboxOutcome.DUPLICATE) {
      duplicates.incrementAndGet();
    }
  }

  // ---- reading, for the audit and the tests ----

  /** Shipments per order id. */
  public Map<String, Long> shipmentsByOrder() {
    return db.inTransaction(c -> {
      Map<String, Long> out = new TreeMap<>();
      try (ResultSet rows =
          Db.query(c, "SELECT order_id, COUNT(*) FROM shipment GROUP BY order_id")) {
        while (rows.next()) {
          out.put(rows.getString(1), rows.getLong(2));
        }
      }
      return out;
    });
  }

  /** Deliveries the inbox recognised as seen before and dropped. */
  public long duplicatesDropped() {
    return duplicates.get();
  }

  @Override
  public void close() {
    http.close();
    db.close();
  }
}
