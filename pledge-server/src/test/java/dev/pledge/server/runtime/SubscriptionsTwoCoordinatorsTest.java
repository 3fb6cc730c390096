package dev.pledge.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pledge.testkit.process.ChildProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two real coordinator processes on one PostgreSQL database, both started before any subscription
 * exists: a subscription created through A is seen by B within a bound (B commits until a first
 * message reaches it; without a reload none ever does), after which it receives every message of
 * the msg transactions committed through B; once it is deleted from the log (and a later
 * subscription, created after the deletion, has been seen by B) none of B's messages reach it any
 * more.
 */
class SubscriptionsTwoCoordinatorsTest {
  private static final String POSTGRES = "jdbc:postgresql://127.0.0.1:5432/";
  private static final int MESSAGES = 10;

  @TempDir Path dataDir;
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();

  /** Message ids acknowledged, by the subscriber's path. */
  private final Map<String, Set<String>> received = new ConcurrentHashMap<>();

  private HttpServer subscriber;
  private final ChildProcess[] servers = new ChildProcess[2];
  private final int[] ports = new int[2];
  private String database;
  private int sequence;

  @AfterEach
  void stop() throws Exception {
    for (ChildProcess server : servers) {
      if (server != null) {
        server.close();
      }
    }
    if (subscriber != null) {
      subscriber.stop(0);
    }
    if (database != null) {
      try (var connection = DriverManager.getConnection(POSTGRES + "postgres", "postgres", "");
          var statement = connection.createStatement()) {
        statement.execute("DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
      }
    }
  }

  private void deliver(HttpExchange exchange) throws IOException {
    String id = exchange.getRequestHeaders().getFirst("Pledge-Message-Id");
    exchange.getRequestBody().readAllBytes();
    received
        .computeIfAbsent(exchange.getRequestURI().getPath(), k -> ConcurrentHashMap.newKeySet())
        .add(id);
    exchange.sendResponseHeaders(200, -1);
    exchange.close();
  }

  private Set<String> at(String path) {
    return received.computeIfAbsent(path, k -> ConcurrentHashMap.newKeySet());
  }

  @Test
  void subscriptionMadeAtOneCoordinator_isDeliveredToByTheOther_untilDeleted() throws Exception {
    database = "pledge_subs_" + Long.toString(System.nanoTime() & 0xffffffffL, 36);
    try (var connection = DriverManager.getConnection(POSTGRES + "postgres", "postgres", "");
        var statement = connection.createStatement()) {
      statement.execute("CREATE DATABASE " + database);
    }
    subscriber = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    subscriber.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    subscriber.createContext("/", this::deliver);
    subscriber.start();
    ports[0] = freePort();
    ports[1] = freePort();
    startServer(0);
    startServer(1); // both running before the subscription exists
    subscribe("shipping", "/shipping");
    // B reads the subscriptions again within a bound: commit through B until one message arrives
    // (without the fix none ever does), then every later message of B must arrive.
    awaitFirstDelivery("/shipping");

    List<String> ids = new ArrayList<>();
    for (int i = 0; i < MESSAGES; i++) {
      ids.add(commitThroughB());
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(
            () -> assertThat(at("/shipping")).as("messages committed through B").containsAll(ids));

    // Deleted from the log (there is no API route for it), then a probe subscribed through A: once
    // a message of B reaches the probe, B has read the subscriptions after the deletion.
    try (var connection = DriverManager.getConnection(POSTGRES + database, "postgres", "");
        var statement = connection.createStatement()) {
      assertThat(
              statement.executeUpdate("DELETE FROM pledge_subscriptions WHERE name = 'shipping'"))
          .isEqualTo(1);
    }
    subscribe("probe", "/probe");
    awaitFirstDelivery("/probe");
    List<String> later = new ArrayList<>();
    for (int i = 0; i < MESSAGES; i++) {
      later.add(commitThroughB());
    }
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> assertThat(at("/probe")).containsAll(later));
    assertThat(at("/shipping"))
        .as("nothing the probe got reached the deleted subscription")
        .doesNotContainAnyElementsOf(at("/probe"));
  }

  /** Commits msg transactions through B until one of them reaches {@code path}. */
  private void awaitFirstDelivery(String path) {
    await()
        .atMost(Duration.ofSeconds(60))
        .pollInterval(Duration.ofMillis(200))
        .until(() -> {
          commitThroughB();
          return !at(path).isEmpty();
        });
  }

  private void subscribe(String name, String path) throws Exception {
    String target = "http://127.0.0.1:" + subscriber.getAddress().getPort() + path;
    HttpResponse<String> response =
        send(
            0,
            "PUT",
            "/api/v1/subscriptions/" + name,
            "{\"topic\":\"orders\",\"target\":\"" + target + "\"}");
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
  }

  /** Commits one msg transaction through coordinator B; answers its message id. */
  private String commitThroughB() throws Exception {
    String gid = "tx-" + sequence++;
    String body =
        "{\"gid\":\""
            + gid
            + "\",\"mode\":\"msg\",\"timeoutSeconds\":600,\"checkUrl\":\"http://127.0.0.1:1/check\","
            + "\"messages\":[{\"topic\":\"orders\",\"payload\":{\"g\":\""
            + gid
            + "\"}}]}";
    HttpResponse<String> created = send(1, "POST", "/api/v1/transactions", body);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    HttpResponse<String> committed = send(1, "POST", "/api/v1/transactions/" + gid + "/commit", "");
    assertThat(committed.statusCode()).as(committed.body()).isEqualTo(200);
    return gid + "#1";
  }

  private void startServer(int index) {
    servers[index] =
        ChildProcess.startJava(
            "coordinator-" + index,
            ChildProcess.testClasspath(),
            List.of(),
            "dev.pledge.server.Main",
            List.of(
                "server",
                "--port",
                Integer.toString(ports[index]),
                "--data-dir",
                dataDir.resolve("coordinator-" + index).toString(),
                "--poll-millis",
                "100",
                "--db",
                POSTGRES + database,
                "--db-user",
                "postgres"),
            dataDir.resolve("server-" + index + ".log"));
    servers[index].awaitLine(line -> line.contains("listening on"), Duration.ofSeconds(60));
  }

  private static int freePort() throws IOException {
    try (ServerSocket free = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return free.getLocalPort();
    }
  }

  private HttpResponse<String> send(int coordinator, String method, String path, String body)
      throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports[coordinator] + path))
            .timeout(Duration.ofSeconds(5))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }
}
