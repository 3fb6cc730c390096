package dev.pledge.server.console;

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
import dev.pledge.server.auth.Tokens;
import dev.pledge.server.http.HttpApiServer;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.HttpEffects;
import dev.pledge.server.runtime.ServerRuntime;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.server.runtime.TestRuntimes;
import dev.pledge.store.jdbc.JdbcLogConfig;
import dev.pledge.store.jdbc.JdbcTransactionLog;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The console in a real browser against a real coordinator: the coordinator runs in this JVM on the
 * embedded SQLite log, with its real HTTP server and HTTP participants; {@code node} runs {@code
 * src/test/console/console.test.mjs}, which drives Debian's headless Chromium through Playwright
 * ({@code playwright-core}) and prints {@code ok <name>} or {@code FAIL <name>} per scenario. This
 * test fails when node, the Playwright package or Chromium is missing ({@code scripts/services.sh}
 * installs them): it never skips.
 *
 * <p>The dead letters are real: the browser test subscribes to a subscriber here that answers 503
 * until the test fixes it, commits three messages whose deliveries fail past the retry bound, and
 * re-drives them through the console (dry run, reason, re-drive: one, then the two others at once);
 * this test then checks, from the coordinator and the subscriber, that each was delivered once and
 * each re-drive audited, once per transaction. The same coordinator is also served behind a second
 * HTTP server with a tokens file, where the console is driven without a token, with a client's and
 * with an operator's ({@code 401} and {@code 403} shown).
 *
 * <p>The scenarios take screenshots into {@code target/console-screenshots}; every run that passes
 * copies them to {@code docs/console/}, where {@code docs/console.md} shows them (the list, a
 * timeline, a force's dry run, a forced abort in the timeline, the dead letters), so the pictures
 * stay true to the page.
 */
class ConsoleBrowserTest {
  private static final Path SCRIPTS = Path.of("src/test/console");
  private static final Duration RUN_LIMIT = Duration.ofMinutes(4);
  private static final RetryPolicy FAST =
      new RetryPolicy(
          Duration.ofMillis(20), Duration.ofMillis(300), 2.0, 0.2, Duration.ofSeconds(2), 3);

  /** The scenarios the script must report as passed, by name. */
  private static final List<String> SCENARIOS =
      List.of(
          "list",
          "filters",
          "paging",
          "timeline",
          "retry",
          "force-dry-run",
          "dead-letters",
          "audit",
          "roles",
          "token",
          "force-skip-op",
          "rates");

  private static final List<String> SCREENSHOTS =
      List.of("list.png", "timeline.png", "force.png", "forced.png", "dead-letters.png");
  private static final String OPERATOR_TOKEN = "console-operator-token-0123456789";
  private static final String CLIENT_TOKEN = "console-client-token-0123456789ab";

  @TempDir Path data;

  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final AtomicInteger participantCalls = new AtomicInteger();
  private final AtomicBoolean inboxFixed = new AtomicBoolean();
  private final List<String> inboxGot = new CopyOnWriteArrayList<>();
  private final List<String> output = new CopyOnWriteArrayList<>();
  private HttpServer participants;
  private JdbcTransactionLog log;
  private ServerRuntime coordinator;
  private HttpApiServer server;
  private HttpApiServer securedServer;
  private String base;
  private String securedBase;
  private String services;

  @BeforeEach
  void start() throws IOException {
    participants = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    participants.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    participants.createContext("/ok", exchange -> answer(exchange, 200));
    participants.createContext("/no", exchange -> answer(exchange, 409));
    participants.createContext("/down", exchange -> answer(exchange, 503));
    // A subscriber that refuses every delivery until the browser test fixes it: its deliveries go
    // past the retry bound and are dead letters, which the console then re-drives.
    participants.createContext(
        "/inbox",
        exchange -> {
          if (inboxFixed.get()) {
            inboxGot.add(exchange.getRequestHeaders().getFirst("Pledge-Message-Id"));
          }
          answer(exchange, inboxFixed.get() ? 200 : 503);
        });
    participants.createContext(
        "/inbox-fix",
        exchange -> {
          inboxFixed.set(true);
          answer(exchange, 200);
        });
    participants.start();
    services = "http://127.0.0.1:" + participants.getAddress().getPort();

    log = JdbcTransactionLog.open(JdbcLogConfig.forUrl("jdbc:sqlite:" + data.resolve("pledge.db")));
    Subscriptions subscriptions = new Subscriptions(log);
    AllowList allowList = AllowList.loopbackOnly();
    coordinator =
        TestRuntimes.start(
            new Engine(Limits.DEFAULT, FAST),
            log,
            new HttpEffects(FAST.callTimeout(), allowList),
            subscriptions,
            Duration.ofMillis(50));
    AtomicInteger generated = new AtomicInteger();
    Api api =
        new Api(
            coordinator,
            log,
            Limits.DEFAULT,
            subscriptions,
            allowList,
            log,
            () -> "generated-" + generated.incrementAndGet());
    server = HttpApiServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), api);
    base = "http://127.0.0.1:" + server.port();
    // The same coordinator behind a server that asks for tokens, for the roles scenario.
    securedServer =
        HttpApiServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            api,
            HttpApiServer.MAX_CONCURRENT_REQUESTS,
            Tokens.parse(
                List.of("operator " + OPERATOR_TOKEN, "client " + CLIENT_TOKEN), "test tokens"));
    securedBase = "http://127.0.0.1:" + securedServer.port();
  }

  @AfterEach
  void stop() {
    if (securedServer != null) {
      securedServer.close();
    }
    if (server != null) {
      server.close();
    }
    if (coordinator != null) {
      coordinator.close();
    }
    if (log != null) {
      log.close();
    }
    if (participants != null) {
      participants.stop(0);
    }
  }

  private void answer(HttpExchange exchange, int status) throws IOException {
    participantCalls.incrementAndGet();
    try (exchange) {
      exchange.getRequestBody().readAllBytes();
      byte[] body = "{}".getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(status, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  @Test
  void theConsole_listsFiltersShowsATimelineForcesWithADryRunAndRedrives() throws Exception {
    seed();
    Path shots = Path.of("target/console-screenshots");
    Files.createDirectories(shots);

    int exit = runBrowser(shots);

    assertThat(output).as("the browser test's output").isNotEmpty();
    for (String scenario : SCENARIOS) {
      assertThat(output)
          .as("scenario %s in:%n%s", scenario, String.join("\n", output))
          .contains("ok " + scenario);
    }
    assertThat(output).noneMatch(line -> line.startsWith("FAIL"));
    assertThat(exit).as("node's exit status; output:%n%s", String.join("\n", output)).isZero();
    for (String picture : SCREENSHOTS) {
      assertThat(shots.resolve(picture)).as("screenshot").isNotEmptyFile();
    }
    // What the browser did, seen from the coordinator and the subscriber: both dead letters were
    // re-driven by the console and delivered, each once, and each re-drive is audited.
    assertThat(get("/api/v1/deliveries?status=dead").path("items")).isEmpty();
    assertThat(inboxGot)
        .containsExactlyInAnyOrder("inbox-order-1#1", "inbox-order-2#1", "inbox-order-3#1");
    for (String gid : List.of("inbox-order-1", "inbox-order-2", "inbox-order-3")) {
      JsonNode delivery = get("/api/v1/transactions/" + gid).path("messages").get(0);
      assertThat(delivery.path("deliveries").get(0).path("status").asText())
          .as("%s delivered", gid)
          .isEqualTo("succeeded");
    }
    List<String> redrives = new ArrayList<>();
    for (JsonNode entry : get("/api/v1/audit?limit=50").path("items")) {
      if (entry.path("action").asText().equals("redrive")) {
        redrives.add(entry.path("reason").asText() + " | " + entry.path("result").asText());
      }
    }
    // One audit entry per transaction re-driven: the second re-drive touched two.
    assertThat(redrives)
        .containsExactlyInAnyOrder(
            "OPS-44: the rest | re-drove 1 of 1 dead deliveries at most 10/s:"
                + " inbox-order-2#1->console-inbox (one of 2 transactions in this re-drive,"
                + " 2 of 2 deliveries in all)",
            "OPS-44: the rest | re-drove 1 of 1 dead deliveries at most 10/s:"
                + " inbox-order-3#1->console-inbox (one of 2 transactions in this re-drive,"
                + " 2 of 2 deliveries in all)",
            "OPS-43: the inbox is back (checked) | re-drove 1 of 1 dead deliveries at most 5/s:"
                + " inbox-order-1#1->console-inbox");
    assertThat(redrives.get(2)).startsWith("OPS-43");
    // Every run that passes refreshes the pictures docs/console.md shows, so they stay true.
    Path docs = Path.of("../docs/console");
    Files.createDirectories(docs);
    for (String picture : SCREENSHOTS) {
      Files.copy(
          shots.resolve(picture), docs.resolve(picture), StandardCopyOption.REPLACE_EXISTING);
    }
  }

  /**
   * What the console shows: 54 committed sagas (more than a page of 50), one aborted by a refusal,
   * one stuck undoing (its compensation's service is down, so it is flagged), and one tcc holding a
   * reservation with no decision yet. Waits until each has reached that state.
   */
  private void seed() throws Exception {
    for (int i = 1; i <= 54; i++) {
      create(saga("shop-order-" + i, "/ok", "/ok", "/ok"));
    }
    create(saga("shop-refund-1", "/ok", "/no", "/ok"));
    create(
        "{\"gid\":\"stuck-payment-1\",\"mode\":\"saga\",\"branches\":["
            + branch("reserve", "/ok", "/down")
            + ","
            + branch("charge", "/no", "/ok")
            + "]}");
    create("{\"gid\":\"tcc-hold-1\",\"mode\":\"tcc\",\"timeoutSeconds\":3600}");
    HttpResponse<String> registered =
        post(
            "/api/v1/transactions/tcc-hold-1/branches",
            "{\"branchId\":\"stock\",\"try\":\""
                + services
                + "/ok\",\"confirm\":\""
                + services
                + "/ok\",\"cancel\":\""
                + services
                + "/ok\"}");
    assertThat(registered.statusCode()).as(registered.body()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(60))
        .untilAsserted(() -> {
          assertThat(status("shop-order-54")).isEqualTo("committed");
          assertThat(status("shop-order-1")).isEqualTo("committed");
          assertThat(status("shop-refund-1")).isEqualTo("aborted");
          JsonNode stuck = get("/api/v1/transactions/stuck-payment-1");
          assertThat(stuck.get("status").asText()).isEqualTo("aborting");
          assertThat(stuck.has("flag")).as("flagged: %s", stuck).isTrue();
        });
  }

  private String saga(String gid, String first, String second, String compensate) {
    return "{\"gid\":\""
        + gid
        + "\",\"mode\":\"saga\",\"branches\":["
        + branch("reserve", first, compensate)
        + ","
        + branch("charge", second, compensate)
        + "]}";
  }

  private String branch(String id, String action, String compensate) {
    return "{\"branchId\":\""
        + id
        + "\",\"action\":\""
        + services
        + action
        + "\",\"compensate\":\""
        + services
        + compensate
        + "\",\"payload\":{\"order\":\""
        + id
        + "\"}}";
  }

  private void create(String body) throws Exception {
    HttpResponse<String> response = post("/api/v1/transactions", body);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(201);
  }

  private String status(String gid) throws Exception {
    return get("/api/v1/transactions/" + gid).get("status").asText();
  }

  private JsonNode get(String path) throws Exception {
    HttpResponse<String> response =
        client.send(
            HttpRequest.newBuilder(URI.create(base + path)).timeout(Duration.ofSeconds(10)).build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return json.readTree(response.body());
  }

  private HttpResponse<String> post(String path, String body) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Runs the Playwright script against the coordinator; answers its exit status. */
  private int runBrowser(Path shots) throws Exception {
    assertThat(SCRIPTS.resolve("node_modules/playwright-core/package.json"))
        .as("playwright-core in %s: run scripts/services.sh (npm ci there)", SCRIPTS)
        .isRegularFile();
    Path chromium = Path.of(System.getenv().getOrDefault("PLEDGE_CHROMIUM", "/usr/bin/chromium"));
    assertThat(chromium)
        .as("Chromium at %s (PLEDGE_CHROMIUM): run scripts/services.sh", chromium)
        .isExecutable();
    ProcessBuilder builder =
        new ProcessBuilder(
                "node",
                "console.test.mjs",
                base,
                shots.toAbsolutePath().toString(),
                services,
                securedBase)
            .directory(SCRIPTS.toFile())
            .redirectErrorStream(true);
    builder.environment().put("PLEDGE_CHROMIUM", chromium.toString());
    builder.environment().put("PLEDGE_CLIENT_TOKEN", CLIENT_TOKEN);
    builder.environment().put("PLEDGE_OPERATOR_TOKEN", OPERATOR_TOKEN);
    Process node;
    try {
      node = builder.start();
    } catch (IOException e) {
      throw new AssertionError("cannot run node (run scripts/services.sh): " + e.getMessage(), e);
    }
    Thread reader =
        Thread.ofVirtual()
            .start(() -> {
              try (BufferedReader lines =
                  new BufferedReader(
                      new InputStreamReader(node.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = lines.readLine()) != null) {
                  output.add(line);
                  System.out.println("[console test] " + line);
                }
              } catch (IOException e) {
                output.add("FAIL reading node's output: " + e);
              }
            });
    if (!node.waitFor(RUN_LIMIT.toSeconds(), TimeUnit.SECONDS)) {
      node.descendants().forEach(ProcessHandle::destroyForcibly);
      node.destroyForcibly();
      throw new AssertionError(
          "the browser test ran longer than " + RUN_LIMIT + ":\n" + String.join("\n", output));
    }
    reader.join(Duration.ofSeconds(10));
    return node.exitValue();
  }
}
