package dev.pledge.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Engine;
import dev.pledge.server.api.Api;
import dev.pledge.server.http.HttpApiServer;
import dev.pledge.store.jdbc.JdbcLogConfig;
import dev.pledge.store.jdbc.JdbcTransactionLog;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Order per key across transactions through the real server: the HTTP API, the coordinator on the
 * SQLite log, deliveries over HTTP to a subscriber in this JVM that records every request it gets,
 * in arrival order, and checks that no two messages of one key are ever in its hands at once.
 */
class KeyOrderTest {
  @TempDir Path data;

  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient client = HttpClient.newHttpClient();

  /** Every request the subscriber got: "messageId key status", in arrival order. */
  private final List<String> received = new CopyOnWriteArrayList<>();

  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> inHand = new ConcurrentHashMap<>();

  /** Message ids the subscriber refuses (503) for now. */
  private final Map<String, Boolean> refused = new ConcurrentHashMap<>();

  private final Map<String, AtomicInteger> refusals = new ConcurrentHashMap<>();
  private JdbcTransactionLog log;
  private ServerRuntime runtime;
  private HttpApiServer server;
  private HttpServer subscriber;
  private String base;

  private void start(int retryBound) throws Exception {
    subscriber = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    subscriber.createContext("/orders", this::deliver);
    subscriber.start();
    log = JdbcTransactionLog.open(JdbcLogConfig.forUrl("jdbc:sqlite:" + data.resolve("p.db")));
    Subscriptions subscriptions = new Subscriptions(log);
    RetryPolicy fast =
        new RetryPolicy(
            Duration.ofMillis(10),
            Duration.ofMillis(50),
            2.0,
            0.2,
            Duration.ofSeconds(2),
            retryBound);
    runtime =
        TestRuntimes.start(
            new Engine(Limits.DEFAULT, fast),
            log,
            new HttpEffects(Duration.ofSeconds(2), AllowList.loopbackOnly()),
            subscriptions,
            Duration.ofMillis(20));
    Api api =
        new Api(
            runtime, log, Limits.DEFAULT, subscriptions, AllowList.loopbackOnly(), log, () -> "g");
    server = HttpApiServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), api);
    base = "http://127.0.0.1:" + server.port();
    String target = "http://127.0.0.1:" + subscriber.getAddress().getPort() + "/orders";
    HttpResponse<String> subscribed =
        send(
            "PUT",
            "/api/v1/subscriptions/shipping",
            "{\"topic\":\"orders\",\"target\":\"" + target + "\"}");
    assertThat(subscribed.statusCode()).as(subscribed.body()).isEqualTo(200);
  }

  @AfterEach
  void stop() {
    if (server != null) {
      server.close();
    }
    if (runtime != null) {
      runtime.close();
    }
    if (log != null) {
      log.close();
    }
    if (subscriber != null) {
      subscriber.stop(0);
    }
  }

  private void deliver(HttpExchange exchange) throws IOException {
    String id = exchange.getRequestHeaders().getFirst("Pledge-Message-Id");
    String key = exchange.getRequestHeaders().getFirst("Pledge-Key");
    exchange.getRequestBody().readAllBytes();
    AtomicInteger holding = inHand.computeIfAbsent(String.valueOf(key), k -> new AtomicInteger());
    if (key != null && holding.incrementAndGet() > 1) {
      violations.add("two messages of key " + key + " at once, " + id + " among them");
    }
    try {
      Thread.sleep(5); // long enough for a second request of the key to overlap, were one sent
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    int status = refused.getOrDefault(id, false) ? 503 : 200;
    if (status == 503) {
      refusals.computeIfAbsent(id, k -> new AtomicInteger()).incrementAndGet();
    }
    received.add(id + " " + key + " " + status);
    if (key != null) {
      holding.decrementAndGet();
    }
    exchange.sendResponseHeaders(status, -1);
    exchange.close();
  }

  @Test
  void twoTransactionsSharingAKey_reachTheSubscriberInCommitOrder_whileTheFirstFailsSeveralTimes()
      throws Exception {
    start(1_000);
    refused.put("first#1", true);
    commit("first", "order-1", "order-1");
    commit("second", "order-1", "order-1");
    commit("other", "order-2");

    // The first keeps failing; another key is not held back by it, the second transaction is.
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() ->
            refusals.containsKey("first#1")
                && refusals.get("first#1").get() >= 3
                && received.contains("other#1 order-2 200"));
    assertThat(received).noneMatch(r -> r.startsWith("second#") || r.startsWith("first#2"));

    refused.remove("first#1");
    await().atMost(Duration.ofSeconds(20)).until(() -> received.contains("second#2 order-1 200"));
    assertThat(acknowledgedOf("order-1"))
        .containsExactly("first#1", "first#2", "second#1", "second#2");
    assertThat(firstIndexOf("second#1"))
        .as("every request for first#1 and first#2 came before second#1: " + received)
        .isGreaterThan(lastIndexOf("first#2"))
        .isGreaterThan(lastIndexOf("first#1"));
    assertThat(violations).isEmpty();
    awaitSettled("first", "second", "other");
  }

  @Test
  void aDeadHead_releasesItsKey_isListed_andReDrivenComesAfterTheOthers() throws Exception {
    start(3);
    refused.put("poison#1", true);
    commit("poison", "order-9");
    commit("after", "order-9");

    // Three refusals make a dead letter; the next of its key goes, and the letter is listed.
    await().atMost(Duration.ofSeconds(20)).until(() -> received.contains("after#1 order-9 200"));
    assertThat(refusals.get("poison#1").get()).isEqualTo(3);
    JsonNode dead = get("/api/v1/deliveries?status=dead").path("items");
    assertThat(dead).hasSize(1);
    assertThat(dead.get(0).path("id").asText()).isEqualTo("poison#1->shipping");
    assertThat(dead.get(0).path("key").asText()).isEqualTo("order-9");

    // Re-driven, it joins the tail of its queue: after "after", and before what comes next.
    refused.remove("poison#1");
    HttpResponse<String> redrive =
        send(
            "POST",
            "/api/v1/deliveries/redrive",
            "{\"ids\":[\"poison#1->shipping\"],\"maxPerSecond\":5,\"dryRun\":false}");
    assertThat(redrive.statusCode()).as(redrive.body()).isEqualTo(200);
    await().atMost(Duration.ofSeconds(20)).until(() -> received.contains("poison#1 order-9 200"));
    commit("later", "order-9");
    await().atMost(Duration.ofSeconds(20)).until(() -> received.contains("later#1 order-9 200"));
    assertThat(acknowledgedOf("order-9")).containsExactly("after#1", "poison#1", "later#1");
    assertThat(get("/api/v1/deliveries?status=dead").path("items")).isEmpty();
    assertThat(violations).isEmpty();
    awaitSettled("poison", "after", "later");
  }

  /** Creates a msg transaction with one message per key given, commits it, waits for committed. */
  private void commit(String gid, String... keys) throws Exception {
    List<String> messages = new ArrayList<>();
    for (String key : keys) {
      messages.add(
          "{\"topic\":\"orders\",\"key\":\"" + key + "\",\"payload\":{\"gid\":\"" + gid + "\"}}");
    }
    HttpResponse<String> created =
        send(
            "POST",
            "/api/v1/transactions",
            "{\"gid\":\""
                + gid
                + "\",\"mode\":\"msg\",\"checkUrl\":\"http://127.0.0.1:1/check\",\"messages\":["
                + String.join(",", messages)
                + "]}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    HttpResponse<String> committed = send("POST", "/api/v1/transactions/" + gid + "/commit", "");
    assertThat(committed.statusCode()).as(committed.body()).isEqualTo(200);
    // Committed (subscriptions resolved, queued) before the next one commits: commit order.
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> get("/api/v1/transactions/" + gid).path("status").asText().equals("committed"));
  }

  private void awaitSettled(String... gids) {
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> {
          for (String gid : gids) {
            if (!log.load(dev.pledge.core.Gid.of(gid)).orElseThrow().isSettled()) {
              return false;
            }
          }
          return true;
        });
  }

  /** The message ids of {@code key} acknowledged (200), in the order they were. */
  private List<String> acknowledgedOf(String key) {
    List<String> ids = new ArrayList<>();
    for (String r : received) {
      String[] parts = r.split(" ", -1);
      if (parts[1].equals(key) && parts[2].equals("200") && !ids.contains(parts[0])) {
        ids.add(parts[0]);
      }
    }
    return ids;
  }

  private int firstIndexOf(String messageId) {
    for (int i = 0; i < received.size(); i++) {
      if (received.get(i).startsWith(messageId + " ")) {
        return i;
      }
    }
    return -1;
  }

  private int lastIndexOf(String messageId) {
    int last = -1;
    for (int i = 0; i < received.size(); i++) {
      if (received.get(i).startsWith(messageId + " ")) {
        last = i;
      }
    }
    return last;
  }

  private JsonNode get(String path) throws Exception {
    HttpResponse<String> response = send("GET", path, null);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return json.readTree(response.body());
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10));
    request.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
