package dev.pledge.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Engine;
import dev.pledge.server.api.Api;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.HttpEffects;
import dev.pledge.server.runtime.ServerRuntime;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.server.runtime.TestRuntimes;
import dev.pledge.testkit.InMemoryAuditLog;
import dev.pledge.testkit.InMemorySubscriptionStore;
import dev.pledge.testkit.InMemoryTransactionLog;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The API over real HTTP: a client, the coordinator's server, and participants, all on loopback.
 */
class HttpApiServerTest {
  private final HttpClient client = HttpClient.newHttpClient();
  private final List<String> participantCalls = new CopyOnWriteArrayList<>();
  private HttpServer participants;
  private ServerRuntime coordinator;
  private HttpApiServer server;
  private String api;
  private String services;

  @BeforeEach
  void start() throws IOException {
    participants = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    participants.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    participants.createContext(
        "/",
        exchange -> {
          participantCalls.add(
              exchange.getRequestHeaders().getFirst("Pledge-Op")
                  + " "
                  + exchange.getRequestURI().getPath());
          exchange.getRequestBody().readAllBytes();
          exchange.sendResponseHeaders(200, -1);
          exchange.close();
        });
    participants.start();
    services = "http://127.0.0.1:" + participants.getAddress().getPort();
    RetryPolicy policy = RetryPolicy.DEFAULT;
    InMemoryTransactionLog log = new InMemoryTransactionLog();
    Subscriptions subscriptions = new Subscriptions(new InMemorySubscriptionStore());
    coordinator =
        TestRuntimes.start(
            new Engine(Limits.DEFAULT, policy),
            log,
            new HttpEffects(policy.callTimeout(), AllowList.loopbackOnly()),
            subscriptions,
            Duration.ofMillis(100));
    server =
        HttpApiServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            new Api(
                coordinator,
                log,
                Limits.DEFAULT,
                subscriptions,
                AllowList.loopbackOnly(),
                new InMemoryAuditLog(),
                () -> "g1"));
    api = "http://127.0.0.1:" + server.port();
  }

  @AfterEach
  void stop() {
    server.close();
    coordinator.close();
    participants.stop(0);
  }

  @Test
  void pastTheBoundOfConcurrentRequests_anotherIsAnswered503Busy_atOnce() throws Exception {
    server.close();
    server =
        HttpApiServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            new Api(
                coordinator,
                new InMemoryTransactionLog(),
                Limits.DEFAULT,
                new Subscriptions(new InMemorySubscriptionStore()),
                AllowList.loopbackOnly(),
                new InMemoryAuditLog(),
                () -> "g1"),
            1);
    api = "http://127.0.0.1:" + server.port();
    // A client that announces a body and never sends it holds the only permit.
    try (java.net.Socket slow =
        new java.net.Socket(InetAddress.getLoopbackAddress(), server.port())) {
      slow.getOutputStream()
          .write(
              "POST /api/v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{"
                  .getBytes(StandardCharsets.UTF_8));
      slow.getOutputStream().flush();
      org.awaitility.Awaitility.await()
          .atMost(Duration.ofSeconds(10))
          .until(() -> send("GET", "/health", null).statusCode() == 503);

      HttpResponse<String> busy = send("GET", "/health", null);
      assertThat(busy.statusCode()).isEqualTo(503);
      assertThat(busy.body()).contains("\"error\":\"busy\"");
      assertThat(busy.headers().firstValue("Retry-After")).contains("1");
    }
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> send("GET", "/health", null).statusCode() == 200);
  }

  private HttpResponse<String> send(String method, String path, String body)
      throws IOException, InterruptedException {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(api + path)).header("Content-Type", "application/json");
    request.method(
        method,
        body == null
            ? HttpRequest.BodyPublishers.noBody()
            : HttpRequest.BodyPublishers.ofString(body));
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aSagaPostedOverHttp_runsAgainstHttpParticipants_andIsVisibleOverHttp() throws Exception {
    HttpResponse<String> created =
        send(
            "POST",
            "/api/v1/transactions",
            """
            {"gid": "http-saga", "mode": "saga", "branches": [
              {"action": "%1$s/reserve", "compensate": "%1$s/release", "payload": {"sku": "a"}},
              {"action": "%1$s/charge", "compensate": "%1$s/refund"}]}
            """
                .formatted(services));

    assertThat(created.statusCode()).isEqualTo(201);
    assertThat(created.headers().firstValue("Content-Type")).hasValue("application/json");
    assertThat(created.body()).contains("\"gid\":\"http-saga\"");
    await()
        .atMost(Duration.ofSeconds(20))
        .until(() ->
            send("GET", "/api/v1/transactions/http-saga", null)
                .body()
                .contains("\"status\":\"committed\""));
    assertThat(participantCalls).containsExactly("action /reserve", "action /charge");
  }

  @Test
  void badRequestsOverHttp_getTheirStatusAndFieldErrors() throws Exception {
    HttpResponse<String> bad =
        send(
            "POST",
            "/api/v1/transactions",
            "{\"mode\":\"2pc\",\"branches\":[{\"prepare\":\"ftp://x\"}]}");
    assertThat(bad.statusCode()).isEqualTo(400);
    assertThat(bad.body())
        .contains("branches[0].prepare", "branches[0].commit", "branches[0].rollback");

    assertThat(send("GET", "/api/v1/transactions?limit=abc", null).statusCode()).isEqualTo(400);
    assertThat(send("GET", "/api/v1/transactions/none", null).statusCode()).isEqualTo(404);
    assertThat(send("GET", "/health", null).body()).isEqualTo("{\"status\":\"ok\"}");
  }
}
