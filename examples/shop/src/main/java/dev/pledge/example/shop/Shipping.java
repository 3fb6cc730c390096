package dev.pledge.example.shop;

import com.fasterxml.jackson.databind.JsonNode;
import java.nio.file.Path;
import java.sql.ResultSet;
import java.util.Map;
import java.util.TreeMap;

/**
 * The shipping service: the subscription target of {@code order-placed}. {@code POST /inbox}
 * receives a delivery (headers {@code Pledge-Message-Id}, {@code Pledge-Topic}, {@code Pledge-Key},
 * {@code Pledge-Gid}; the message's payload as body) and, in one local transaction, inserts the
 * message id into its inbox and, if it was new, creates the order's shipment. Delivery is at least
 * once; through the inbox a redelivered message is acknowledged and does nothing.
 */
public final class Shipping implements AutoCloseable {
  private final Db db;
  private final ServiceHttp http = new ServiceHttp("shipping");
  private final Faults faults;

  public Shipping(Path file, Faults faults) {
    this.faults = faults;
    db =
        new Db(
            file,
            """
            CREATE TABLE IF NOT EXISTS inbox (
              message_id TEXT PRIMARY KEY, gid TEXT NOT NULL, repeats INTEGER NOT NULL DEFAULT 0)
            """,
            """
            CREATE TABLE IF NOT EXISTS shipment (
              id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL,
              message_id TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL)
            """);
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
    String messageId = request.header("Pledge-Message-Id");
    String gid = request.header("Pledge-Gid");
    if (messageId == null || messageId.isBlank() || gid == null) {
      throw new ServiceHttp.BadRequest("headers Pledge-Message-Id and Pledge-Gid are required");
    }
    JsonNode payload = Json.read(request.bodyText());
    String orderId = Json.text(payload, "orderId");
    String sku = Json.text(payload, "sku");
    long qty = Json.positive(payload, "qty", 1_000);
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
    boolean fresh =
        db.inTransaction(c -> {
          if (Db.update(
                  c, "INSERT OR IGNORE INTO inbox (message_id, gid) VALUES (?, ?)", messageId, gid)
              == 0) {
            Db.update(c, "UPDATE inbox SET repeats = repeats + 1 WHERE message_id = ?", messageId);
            return false;
          }
          Db.update(
              c,
              "INSERT INTO shipment (order_id, message_id, sku, qty) VALUES (?, ?, ?, ?)",
              orderId,
              messageId,
              sku,
              qty);
          return true;
        });
    if (fault == Faults.Kind.FAIL_AFTER) {
      return ServiceHttp.Response.json(500, Json.error("injected", "500 after the work"));
    }
    return ServiceHttp.Response.json(200, fresh ? "{\"shipped\":true}" : "{\"duplicate\":true}");
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
    return db.scalar("SELECT COALESCE(SUM(repeats), 0) FROM inbox");
  }

  @Override
  public void close() {
    http.close();
    db.close();
  }
}
