package dev.pledge.example.shop;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.PledgeUnavailableException;
import dev.pledge.client.TransactionView;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The order service against a scripted coordinator on loopback: the order's outcome, the two-phase
 * {@code order-placed} message, the producer barrier behind the check-back, and calls retried while
 * the coordinator is down.
 */
class OrdersTest {
  @TempDir Path folder;
  private HttpServer fake;
  private Orders orders;
  private final List<String> calls = new CopyOnWriteArrayList<>();
  private final Map<String, String> outcomes = new ConcurrentHashMap<>();
  private final Set<String> checkBackFirst = ConcurrentHashMap.newKeySet();
  private final Map<String, String> checkAnswers = new ConcurrentHashMap<>();

  @BeforeEach
  void start() throws IOException {
    fake = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    fake.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    fake.createContext("/", this::coordinator);
    fake.start();
    orders =
        new Orders(
            folder.resolve("order.db"),
            Faults.none(),
            PledgeClient.create(
                PledgeClientConfig.of("http://127.0.0.1:" + fake.getAddress().getPort())),
            "http://127.0.0.1:1",
            "http://127.0.0.1:2",
            Duration.ofSeconds(8),
            Duration.ofSeconds(5),
            Duration.ofSeconds(10));
  }

  @AfterEach
  void stop() {
    orders.close();
    fake.stop(0);
  }

  /** Answers like the coordinator; a msg gid in {@link #checkBackFirst} is checked before 201. */
  private void coordinator(HttpExchange exchange) throws IOException {
    String method = exchange.getRequestMethod();
    String path = exchange.getRequestURI().getPath();
    String body = new String(exchange.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    calls.add(method + " " + path);
    if (method.equals("POST") && path.equals("/api/v1/transactions")) {
      JsonNode tx = Json.read(body);
      String gid = tx.path("gid").asText();
      if (checkBackFirst.contains(gid)) {
        Protocol.Answer check = Protocol.get(tx.path("checkUrl").asText() + "?gid=" + gid);
        checkAnswers.put(gid, Json.read(check.body()).path("status").asText());
      }
      answer(exchange, 201, "{\"gid\":\"" + gid + "\",\"status\":\"begun\"}");
    } else if (method.equals("GET") && path.startsWith("/api/v1/transactions/")) {
      String gid = path.substring("/api/v1/transactions/".length());
      String status = outcomes.getOrDefault(gid, "committed");
      answer(
          exchange, 200, "{\"gid\":\"" + gid + "\",\"status\":\"" + status + "\",\"final\":true}");
    } else if (method.equals("POST") && path.endsWith("/commit")) {
      answer(exchange, 200, "{\"status\":\"committing\"}");
    } else {
      answer(exchange, 404, "{\"error\":\"not_found\"}");
    }
  }

  private static void answer(HttpExchange exchange, int status, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.sendResponseHeaders(status, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  private static Orders.Request request(String orderId, String mode) {
    return new Orders.Request(orderId, mode, "sku-1", 2, "acct-01", 1_000);
  }

  @Test
  void aCommittedOrder_isConfirmed_andPublishesOrderPlacedWithItsBarrierRow() {
    Orders.Order order = orders.place(request("o-1", "saga"));

    assertThat(order.status()).isEqualTo("confirmed");
    assertThat(order.msgGid()).isEqualTo("placed-o-1");
    assertThat(orders.producerBarrier()).containsExactly(Map.entry("placed-o-1", "committed"));
    assertThat(calls)
        .containsExactly(
            "POST /api/v1/transactions",
            "GET /api/v1/transactions/order-o-1",
            "POST /api/v1/transactions",
            "POST /api/v1/transactions/placed-o-1/commit");
    assertThat(Protocol.get(orders.checkUrl() + "?gid=placed-o-1").body())
        .isEqualTo("{\"status\":\"committed\"}");
  }

  @Test
  void anAbortedOrder_isAborted_andPublishesNothing() {
    outcomes.put("order-o-2", "aborted");

    Orders.Order order = orders.place(request("o-2", "2pc"));

    assertThat(order.status()).isEqualTo("aborted");
    assertThat(order.msgGid()).isNull();
    assertThat(orders.producerBarrier()).isEmpty();
    assertThat(calls)
        .containsExactly("POST /api/v1/transactions", "GET /api/v1/transactions/order-o-2");
  }

  @Test
  void aCheckBackBeforeTheLocalCommit_answersRolledBack_blocksIt_andTheOrderPublishesAgain() {
    checkBackFirst.add("placed-o-3");

    Orders.Order order = orders.place(request("o-3", "saga"));

    assertThat(checkAnswers).containsExactly(Map.entry("placed-o-3", "rolled_back"));
    assertThat(order.status()).isEqualTo("confirmed");
    assertThat(order.msgGid()).isEqualTo("placed-o-3.2");
    assertThat(orders.producerBarrier())
        .containsExactlyInAnyOrderEntriesOf(
            Map.of("placed-o-3", "rolled_back", "placed-o-3.2", "committed"));
    assertThat(calls).contains("POST /api/v1/transactions/placed-o-3.2/commit");
    assertThat(calls).doesNotContain("POST /api/v1/transactions/placed-o-3/commit");
  }

  @Test
  void aCheckBackOfAnUnknownGid_writesRolledBack_andAnswersItAgain() {
    assertThat(Protocol.get(orders.checkUrl() + "?gid=placed-none").body())
        .isEqualTo("{\"status\":\"rolled_back\"}");
    assertThat(Protocol.get(orders.checkUrl() + "?gid=placed-none").body())
        .isEqualTo("{\"status\":\"rolled_back\"}");
    assertThat(orders.producerBarrier()).containsExactly(Map.entry("placed-none", "rolled_back"));
  }

  @Test
  void placingAgain_returnsTheOrderAsItIs_withoutAskingTheCoordinator() {
    orders.place(request("o-4", "saga"));
    int before = calls.size();

    assertThat(orders.place(request("o-4", "saga")).status()).isEqualTo("confirmed");
    assertThat(calls).hasSize(before);
  }

  @Test
  void aCoordinatorThatIsDown_isRetriedUntilItAnswers() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    PledgeClient client =
        PledgeClient.create(
            PledgeClientConfig.of("http://127.0.0.1:" + port)
                .withMaxAttempts(100)
                .withBackoff(Duration.ofMillis(50), Duration.ofMillis(300)));
    CompletableFuture<TransactionView> answer =
        CompletableFuture.supplyAsync(() -> client.get("order-o-5"));
    // Connection refused until the coordinator is there: wait for a refused attempt to be retried.
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> client.retriesSent() >= 2);
    HttpServer late =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 0);
    late.createContext("/", this::coordinator);
    late.start();
    try {
      assertThat(answer.get(20, TimeUnit.SECONDS).status()).isEqualTo("committed");
    } finally {
      late.stop(0);
    }
  }

  @Test
  void aCoordinatorThatStaysDown_failsTheCallAfterTheBound() throws Exception {
    int port;
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      port = socket.getLocalPort();
    }
    PledgeClient client =
        PledgeClient.create(
            PledgeClientConfig.of("http://127.0.0.1:" + port)
                .withMaxAttempts(3)
                .withBackoff(Duration.ofMillis(10), Duration.ofMillis(20)));

    assertThatThrownBy(() -> client.get("order-o-6"))
        .isInstanceOfSatisfying(
            PledgeUnavailableException.class, e -> assertThat(e.outcomeKnown()).isFalse())
        .hasMessageContaining("no definite answer after 3 attempt(s)");
    assertThat(client.retriesSent()).isEqualTo(2);
  }
}
