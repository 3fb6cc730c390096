package dev.pledge.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Engine;
import dev.pledge.server.auth.Tokens;
import dev.pledge.server.http.HttpApiServer;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.HttpEffects;
import dev.pledge.server.runtime.ServerRuntime;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.server.runtime.TestRuntimes;
import dev.pledge.store.jdbc.JdbcLogConfig;
import dev.pledge.store.jdbc.JdbcTransactionLog;
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
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Dead letters through the real server: HTTP with tokens, the coordinator on the SQLite log,
 * deliveries over HTTP to a subscriber that refuses until it is fixed. A delivery past its bound is
 * dead (kept, listed, not retried), the listing pages and filters, a re-drive's dry run sends
 * nothing, the re-drive sends each once at a bounded rate and is audited, and clients are refused.
 */
class DeadLetterApiTest {
  private static final String OPERATOR = "operator-token-0123456789";
  private static final String CLIENT = "client-token-0123456789ab";
  private static final int BOUND = 3;
  private static final RetryPolicy FAST =
      new RetryPolicy(
          Duration.ofMillis(10), Duration.ofMillis(50), 2.0, 0.2, Duration.ofSeconds(2), BOUND);

  @TempDir Path data;

  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient client = HttpClient.newHttpClient();
  private final AtomicBoolean billingFixed = new AtomicBoolean();
  private final List<String> billingGot = new CopyOnWriteArrayList<>();
  private final List<String> shippingGot = new CopyOnWriteArrayList<>();
  private JdbcTransactionLog log;
  private ServerRuntime runtime;
  private HttpApiServer server;
  private HttpServer subscriber;
  private String base;

  @BeforeEach
  void start() throws Exception {
    subscriber = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    subscriber.createContext(
        "/billing",
        exchange -> {
          String id = exchange.getRequestHeaders().getFirst("Pledge-Message-Id");
          exchange.getRequestBody().readAllBytes();
          int status = billingFixed.get() ? 200 : 503;
          if (status == 200) {
            billingGot.add(id);
          }
          exchange.sendResponseHeaders(status, -1);
          exchange.close();
        });
    subscriber.createContext(
        "/shipping",
        exchange -> {
          shippingGot.add(exchange.getRequestHeaders().getFirst("Pledge-Message-Id"));
          exchange.getRequestBody().readAllBytes();
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    subscriber.start();
    String hooks = "http://127.0.0.1:" + subscriber.getAddress().getPort();

    log = JdbcTransactionLog.open(JdbcLogConfig.forUrl("jdbc:sqlite:" + data.resolve("p.db")));
    Subscriptions subscriptions = new Subscriptions(log);
    runtime =
        TestRuntimes.start(
            new Engine(Limits.DEFAULT, FAST),
            log,
            new HttpEffects(Duration.ofSeconds(2), AllowList.loopbackOnly()),
            subscriptions,
            Duration.ofMillis(20));
    Api api =
        new Api(
            runtime, log, Limits.DEFAULT, subscriptions, AllowList.loopbackOnly(), log, () -> "g");
    server =
        HttpApiServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            api,
            HttpApiServer.MAX_CONCURRENT_REQUESTS,
            Tokens.parse(List.of("operator " + OPERATOR, "client " + CLIENT), "test tokens"));
    base = "http://127.0.0.1:" + server.port();
    assertThat(subscribe("billing", "orders", hooks + "/billing").statusCode()).isEqualTo(200);
    assertThat(subscribe("shipping", "orders", hooks + "/shipping").statusCode()).isEqualTo(200);
  }

  @AfterEach
  void stop() {
    server.close();
    runtime.close();
    log.close();
    subscriber.stop(0);
  }

  @Test
  void deliveryPastItsBound_isDead_listed_andRedrivenOnce() throws Exception {
    List<String> gids = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      String gid = "dead-" + i;
      gids.add(gid);
      commitMessage(gid, "order-" + i);
    }
    await().atMost(Duration.ofSeconds(20)).until(() -> dead(null, 50).path("items").size() == 3);
    assertThat(shippingGot).containsExactlyInAnyOrder("dead-1#1", "dead-2#1", "dead-3#1");

    JsonNode listed = dead(null, 50);
    JsonNode first = listed.path("items").get(0);
    assertThat(first.path("id").asText()).isEqualTo("dead-3#1->billing");
    assertThat(first.path("gid").asText()).isEqualTo("dead-3");
    assertThat(first.path("subscription").asText()).isEqualTo("billing");
    assertThat(first.path("topic").asText()).isEqualTo("orders");
    assertThat(first.path("key").asText()).isEqualTo("order-3");
    assertThat(first.path("attempts").asInt()).isEqualTo(BOUND);
    assertThat(first.path("lastError").asText()).isEqualTo("unknown: HTTP 503");
    assertThat(dead("shipping", 50).path("items")).isEmpty();
    JsonNode tx = get("/api/v1/transactions/dead-1", OPERATOR);
    assertThat(tx.path("status").asText()).isEqualTo("committed");

    // Paged: one transaction a page, newest first.
    JsonNode page1 = dead(null, 1);
    JsonNode page2 =
        json.readTree(
            send(
                    "GET",
                    "/api/v1/deliveries?status=dead&limit=1&cursor="
                        + page1.path("nextCursor").asText(),
                    null,
                    OPERATOR)
                .body());
    assertThat(page1.path("items").get(0).path("gid").asText()).isEqualTo("dead-3");
    assertThat(page2.path("items").get(0).path("gid").asText()).isEqualTo("dead-2");

    // Dead means not retried: nothing more reaches billing while nobody re-drives.
    int attemptsBefore = attemptsOf("dead-1");
    billingFixed.set(true);
    await()
        .during(Duration.ofMillis(600))
        .atMost(Duration.ofSeconds(2))
        .until(() -> billingGot.isEmpty() && attemptsOf("dead-1") == attemptsBefore);

    // The dry run names what would go, and sends nothing.
    HttpResponse<String> dry =
        send(
            "POST",
            "/api/v1/deliveries/redrive",
            "{\"filter\":{\"subscription\":\"billing\"},\"maxPerSecond\":20,\"dryRun\":true}",
            OPERATOR);
    assertThat(dry.statusCode()).isEqualTo(200);
    assertThat(json.readTree(dry.body()).path("matched")).hasSize(3);
    assertThat(json.readTree(dry.body()).path("redriven").asInt()).isZero();
    assertThat(dead(null, 50).path("items")).hasSize(3);

    // By id: one; then the rest by filter, at 20 a second.
    HttpResponse<String> one =
        send(
            "POST",
            "/api/v1/deliveries/redrive",
            "{\"ids\":[\"dead-1#1->billing\",\"dead-1#1->shipping\"],\"maxPerSecond\":5,"
                + "\"dryRun\":false,\"reason\":\"OPS-12: billing is back\"}",
            OPERATOR);
    assertThat(one.statusCode()).isEqualTo(200);
    JsonNode oneBody = json.readTree(one.body());
    assertThat(oneBody.path("redriven").asInt()).isEqualTo(1);
    assertThat(oneBody.path("refused").get(0).path("id").asText()).isEqualTo("dead-1#1->shipping");
    await().atMost(Duration.ofSeconds(10)).until(() -> billingGot.contains("dead-1#1"));

    long startNanos = System.nanoTime();
    HttpResponse<String> rest =
        send(
            "POST",
            "/api/v1/deliveries/redrive",
            "{\"filter\":{},\"maxPerSecond\":20,\"dryRun\":false}",
            OPERATOR);
    long tookMillis = (System.nanoTime() - startNanos) / 1_000_000;
    assertThat(json.readTree(rest.body()).path("redriven").asInt()).isEqualTo(2);
    assertThat(tookMillis).as("two re-drives at 20/s are 50 ms apart").isGreaterThanOrEqualTo(45);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> billingGot.size() == 3 && dead(null, 50).path("items").isEmpty());
    assertThat(billingGot).containsExactlyInAnyOrder("dead-1#1", "dead-2#1", "dead-3#1");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() ->
            log
                .page(new dev.pledge.core.spi.TransactionLog.Query(null, null, 10, null))
                .items()
                .stream()
                .allMatch(t -> t.isSettled() && t.deadSubscriptions().isEmpty()));

    // One audit entry per transaction re-driven, each named in the answer by its gid and time.
    JsonNode oneAudited = oneBody.path("audited");
    assertThat(oneAudited).hasSize(1);
    assertThat(oneAudited.get(0).path("gid").asText()).isEqualTo("dead-1");
    JsonNode oneEntry = auditOf("dead-1");
    assertThat(oneEntry.path("at").asText())
        .as("the answer's audited[].at names the entry the audit log lists")
        .isEqualTo(oneAudited.get(0).path("at").asText());
    assertThat(oneEntry.path("action").asText()).isEqualTo("redrive");
    assertThat(oneEntry.path("actor").asText()).startsWith("operator@");
    assertThat(oneEntry.path("reason").asText()).isEqualTo("OPS-12: billing is back");
    assertThat(oneEntry.path("result").asText())
        .isEqualTo("re-drove 1 of 1 dead deliveries at most 5/s: dead-1#1->billing");

    JsonNode restAudited = json.readTree(rest.body()).path("audited");
    assertThat(restAudited.findValuesAsText("gid")).containsExactly("dead-3", "dead-2");
    for (JsonNode audited : restAudited) {
      String gid = audited.path("gid").asText();
      JsonNode entry = auditOf(gid);
      assertThat(entry.path("at").asText()).as(gid).isEqualTo(audited.path("at").asText());
      assertThat(entry.path("action").asText()).isEqualTo("redrive");
      assertThat(entry.path("result").asText())
          .isEqualTo(
              "re-drove 1 of 1 dead deliveries at most 20/s: "
                  + gid
                  + "#1->billing (one of 2 transactions in this re-drive, 2 of 2 deliveries in"
                  + " all)");
    }
    assertThat(get("/api/v1/audit", OPERATOR).path("items").findValuesAsText("action"))
        .filteredOn("redrive"::equals)
        .hasSize(3);

    // A re-drive that matches nothing is still one audit entry, on no transaction.
    HttpResponse<String> none =
        send(
            "POST",
            "/api/v1/deliveries/redrive",
            "{\"filter\":{\"subscription\":\"nobody\"},\"limit\":1,\"maxPerSecond\":1,"
                + "\"dryRun\":false}",
            OPERATOR);
    assertThat(none.statusCode()).as(none.body()).isEqualTo(200);
    JsonNode noneAudited = json.readTree(none.body()).path("audited");
    assertThat(noneAudited).hasSize(1);
    assertThat(noneAudited.get(0).has("gid")).isFalse();
    JsonNode newest = get("/api/v1/audit", OPERATOR).path("items").get(0);
    assertThat(newest.path("at").asText()).isEqualTo(noneAudited.get(0).path("at").asText());
    assertThat(newest.has("gid")).isFalse();
    assertThat(newest.path("result").asText())
        .isEqualTo("re-drove 0 of 0 dead deliveries at most 1/s");
  }

  /** The one audit entry of transaction {@code gid}. */
  private JsonNode auditOf(String gid) throws Exception {
    JsonNode items = get("/api/v1/audit?gid=" + gid, OPERATOR).path("items");
    assertThat(items).as("audit entries of %s", gid).hasSize(1);
    return items.get(0);
  }

  @Test
  void clientsAreRefused_andBadRequestsNameTheField() throws Exception {
    assertThat(send("GET", "/api/v1/deliveries?status=dead", null, CLIENT).statusCode())
        .isEqualTo(403);
    assertThat(
            send(
                    "POST",
                    "/api/v1/deliveries/redrive",
                    "{\"filter\":{},\"maxPerSecond\":1,\"dryRun\":true}",
                    CLIENT)
                .statusCode())
        .isEqualTo(403);
    assertThat(send("GET", "/api/v1/deliveries?status=dead", null, null).statusCode())
        .isEqualTo(401);

    HttpResponse<String> noStatus = send("GET", "/api/v1/deliveries", null, OPERATOR);
    assertThat(noStatus.statusCode()).isEqualTo(400);
    assertThat(noStatus.body()).contains("\"field\":\"status\"");
    HttpResponse<String> badName =
        send("GET", "/api/v1/deliveries?status=dead&subscription=a,b&limit=0", null, OPERATOR);
    assertThat(badName.body()).contains("\"field\":\"subscription\"", "\"field\":\"limit\"");

    HttpResponse<String> both =
        send(
            "POST",
            "/api/v1/deliveries/redrive",
            "{\"ids\":[\"x#1->y\"],\"filter\":{},\"maxPerSecond\":0,\"extra\":1}",
            OPERATOR);
    assertThat(both.statusCode()).isEqualTo(400);
    assertThat(both.body())
        .contains(
            "\"field\":\"ids\"",
            "\"field\":\"maxPerSecond\"",
            "\"field\":\"dryRun\"",
            "\"field\":\"extra\"");
    HttpResponse<String> tooSlow =
        send(
            "POST",
            "/api/v1/deliveries/redrive",
            "{\"filter\":{},\"limit\":500,\"maxPerSecond\":1,\"dryRun\":false}",
            OPERATOR);
    assertThat(tooSlow.statusCode()).isEqualTo(400);
    assertThat(tooSlow.body()).contains("re-drives take more than 30 s");
    HttpResponse<String> badId =
        send(
            "POST",
            "/api/v1/deliveries/redrive",
            "{\"ids\":[\"no-arrow\"],\"maxPerSecond\":1,\"dryRun\":true}",
            OPERATOR);
    assertThat(badId.body()).contains("\"field\":\"ids[0]\"");
  }

  private void commitMessage(String gid, String key) throws Exception {
    HttpResponse<String> created =
        send(
            "POST",
            "/api/v1/transactions",
            "{\"gid\":\""
                + gid
                + "\",\"mode\":\"msg\",\"checkUrl\":\"http://127.0.0.1:1/check\","
                + "\"messages\":[{\"topic\":\"orders\",\"key\":\""
                + key
                + "\",\"payload\":{\"n\":1}}]}",
            CLIENT);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(send("POST", "/api/v1/transactions/" + gid + "/commit", "", CLIENT).statusCode())
        .isEqualTo(200);
  }

  private int attemptsOf(String gid) throws Exception {
    return get("/api/v1/transactions/" + gid, OPERATOR)
        .path("messages")
        .get(0)
        .path("deliveries")
        .findValues("attempts")
        .stream()
        .mapToInt(JsonNode::asInt)
        .sum();
  }

  private JsonNode dead(String subscription, int limit) throws Exception {
    return get(
        "/api/v1/deliveries?status=dead&limit="
            + limit
            + (subscription == null ? "" : "&subscription=" + subscription),
        OPERATOR);
  }

  private JsonNode get(String path, String token) throws Exception {
    HttpResponse<String> response = send("GET", path, null, token);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return json.readTree(response.body());
  }

  private HttpResponse<String> subscribe(String name, String topic, String target)
      throws Exception {
    return send(
        "PUT",
        "/api/v1/subscriptions/" + name,
        "{\"topic\":\"" + topic + "\",\"target\":\"" + target + "\"}",
        OPERATOR);
  }

  private HttpResponse<String> send(String method, String path, String body, String token)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body));
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }
}
