package dev.pledge.example.shop;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The audit finds what is inconsistent, and names it. A scripted coordinator says every transaction
 * committed but calls no participant; the test then plays the missing calls itself.
 */
class AuditTest {
  @TempDir Path folder;
  private HttpServer fake;
  private Shop shop;

  @BeforeEach
  void start() throws IOException {
    fake = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    fake.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    fake.createContext("/", AuditTest::coordinator);
    fake.start();
    shop =
        new Shop(
            new Shop.Config(
                folder,
                "http://127.0.0.1:" + fake.getAddress().getPort(),
                Faults.Rates.none(),
                1,
                Duration.ofSeconds(8),
                Duration.ofSeconds(5),
                Duration.ofSeconds(5)));
    shop.inventory().stock(Map.of("sku-1", 10L));
    shop.payment().open(Map.of("acct-01", 5_000L));
  }

  @AfterEach
  void stop() {
    shop.close();
    fake.stop(0);
  }

  /** Every transaction is committed and final; every message delivered; nothing is non-final. */
  private static void coordinator(HttpExchange exchange) throws IOException {
    String path = exchange.getRequestURI().getPath();
    exchange.getRequestBody().readAllBytes();
    String body;
    int status = 200;
    if (exchange.getRequestMethod().equals("POST") && path.equals("/api/v1/transactions")) {
      status = 201;
      body = "{\"status\":\"begun\"}";
    } else if (path.equals("/api/v1/transactions")) {
      body = "{\"items\":[]}";
    } else if (path.startsWith("/api/v1/transactions/placed-")) {
      body =
          "{\"status\":\"committed\",\"final\":true,\"messages\":[{\"deliveries\":"
              + "[{\"subscription\":\"shipping\",\"status\":\"succeeded\"}]}]}";
    } else {
      body = "{\"status\":\"committed\",\"final\":true,\"branches\":[]}";
    }
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static Audit.Check check(Audit.Report report, String name) {
    return report.checks().stream().filter(c -> c.name().equals(name)).findFirst().orElseThrow();
  }

  @Test
  void aConfirmedOrderWhoseEffectsAreMissingOrDoubled_failsTheAudit_namingTheOrder() {
    shop.orders().place(new Orders.Request("o-1", "saga", "sku-1", 2, "acct-01", 1_000));

    // Confirmed, but no stock taken, no money taken, nothing shipped.
    Audit.Report missing = Audit.run(shop);
    assertThat(missing.consistent()).isFalse();
    assertThat(check(missing, "stock conserved").problems())
        .contains("sku-1: opening 10 != on hand 10 + sold to committed orders 2")
        .anyMatch(p -> p.startsWith("o-1 (confirmed, saga)"));
    assertThat(check(missing, "money conserved").problems()).anyMatch(p -> p.startsWith("o-1"));
    assertThat(
            check(missing, "one shipment per committed order, none for an aborted one").problems())
        .containsExactly("o-1 (confirmed) has 0 shipments, not 1");
    assertThat(check(missing, "the coordinator agrees").ok()).isTrue();
    assertThat(check(missing, "every barrier consistent").ok()).isTrue();

    // The calls the coordinator should have made: now everything adds up.
    Protocol.op(
        shop.inventory().baseUrl() + "/saga/reserve",
        "order-o-1",
        "inventory",
        "action",
        "{\"orderId\":\"o-1\",\"sku\":\"sku-1\",\"qty\":2}");
    Protocol.op(
        shop.payment().baseUrl() + "/saga/charge",
        "order-o-1",
        "payment",
        "action",
        "{\"orderId\":\"o-1\",\"account\":\"acct-01\",\"amount\":1000}");
    String placed = "{\"orderId\":\"o-1\",\"sku\":\"sku-1\",\"qty\":2}";
    Protocol.deliver(shop.shipping().inboxUrl(), "placed-o-1#1", "placed-o-1", placed);
    Audit.Report complete = Audit.run(shop);
    assertThat(complete.checks()).allMatch(Audit.Check::ok);
    assertThat(complete.orders("committed")).isEqualTo(1);

    // A second message for the same order (not a redelivery: another id) ships it twice.
    Protocol.deliver(shop.shipping().inboxUrl(), "placed-o-1.2#1", "placed-o-1.2", placed);
    assertThat(
            check(Audit.run(shop), "one shipment per committed order, none for an aborted one")
                .problems())
        .containsExactly("o-1 (confirmed) has 2 shipments, not 1");
  }

  @Test
  void aReadModelOrStreamThatDrifts_failsTheAudit_namingTheSkuAndTheGap() throws SQLException {
    shop.orders().place(new Orders.Request("o-2", "saga", "sku-1", 3, "acct-01", 1_000));
    Protocol.op(
        shop.inventory().baseUrl() + "/saga/reserve",
        "order-o-2",
        "inventory",
        "action",
        "{\"orderId\":\"o-2\",\"sku\":\"sku-1\",\"qty\":3}");
    Audit.Report settled = Audit.run(shop);
    assertThat(check(settled, "read model matches the event streams").summary())
        .isEqualTo(
            "1 SKUs rebuilt from 2 events equal the live stock_level table and the stock on hand");
    assertThat(check(settled, "read model matches the event streams").ok()).isTrue();
    assertThat(check(settled, "stream versions have no gaps").ok()).isTrue();

    // The live read model drifts from the events: the audit's rebuild disagrees with it.
    execute("UPDATE stock_level SET available = available + 1 WHERE sku = 'sku-1'");
    assertThat(check(Audit.run(shop), "read model matches the event streams").problems())
        .containsExactly(
            "sku-1: rebuilt from the events Level[available=7, reserved=3, sold=0], live"
                + " Level[available=8, reserved=3, sold=0]");

    // An event goes missing from the middle of the log: both the position and the version jump.
    execute("DELETE FROM es_events WHERE stream_id = 'stock-sku-1' AND stream_version = 1");
    Audit.Report gap = Audit.run(shop);
    assertThat(check(gap, "stream versions have no gaps").problems())
        .containsExactly("position 2 follows 0", "stock-sku-1: version 2 where 1 was due");
    assertThat(gap.consistent()).isFalse();
  }

  private void execute(String sql) throws SQLException {
    try (Connection c = shop.inventory().events().dataSource().getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
