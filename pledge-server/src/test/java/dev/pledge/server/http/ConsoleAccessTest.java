package dev.pledge.server.http;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.Gid;
import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Engine;
import dev.pledge.server.api.Api;
import dev.pledge.server.auth.Tokens;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.HttpEffects;
import dev.pledge.server.runtime.ServerRuntime;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.server.runtime.TestRuntimes;
import dev.pledge.testkit.InMemoryAuditLog;
import dev.pledge.testkit.InMemorySubscriptionStore;
import dev.pledge.testkit.InMemoryTransactionLog;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Every call the console makes, over real HTTP to a coordinator with a tokens file: {@code 401}
 * without a valid token, {@code 403} for a client's token where the action is an operator's, and
 * allowed with an operator's; a refused call changes nothing and writes no audit entry. The list of
 * calls is checked against the console's script, so a call added to the console without a row here
 * fails this test.
 */
class ConsoleAccessTest {
  private static final String OPERATOR = "console-operator-token-0123456789";
  private static final String CLIENT = "console-client-token-0123456789ab";
  private static final String CONSOLE_JS = "/dev/pledge/server/console/static/console.js";

  /**
   * A call of the console: method, path (with its query), body, and whether a client may make it.
   */
  private record Call(String method, String path, String body, boolean client) {
    @Override
    public String toString() {
      return method + " " + path;
    }
  }

  /** What the console calls, as console.js spells each call's method and the start of its path. */
  private static final Set<String> CONSOLE_CALLS =
      Set.of(
          "GET /api/v1/counts",
          "GET /api/v1/transactions?",
          "GET /api/v1/transactions/",
          "POST /api/v1/transactions/",
          "GET /api/v1/audit?",
          "GET /api/v1/audit?limit=50",
          "GET /api/v1/deliveries?",
          "POST /api/v1/deliveries/redrive");

  private static final List<Call> CALLS =
      List.of(
          new Call("GET", "/api/v1/counts", null, false),
          new Call("GET", "/api/v1/transactions?status=begun&limit=50", null, false),
          new Call("GET", "/api/v1/transactions/held-1", null, true),
          new Call("GET", "/api/v1/transactions/held-1/history", null, true),
          new Call("GET", "/api/v1/audit?limit=50&gid=held-1", null, false),
          new Call("POST", "/api/v1/transactions/held-1/retry", "{}", false),
          new Call(
              "POST",
              "/api/v1/transactions/held-1/force",
              "{\"action\":\"abort\",\"reason\":\"OPS-1\",\"dryRun\":true}",
              false),
          new Call(
              "POST",
              "/api/v1/transactions/held-1/force",
              "{\"action\":\"abort\",\"reason\":\"OPS-1\",\"dryRun\":false}",
              false),
          new Call("GET", "/api/v1/deliveries?status=dead&limit=50", null, false),
          new Call(
              "POST",
              "/api/v1/deliveries/redrive",
              "{\"filter\":{},\"maxPerSecond\":10,\"dryRun\":true,\"reason\":\"OPS-2\"}",
              false),
          new Call(
              "POST",
              "/api/v1/deliveries/redrive",
              "{\"ids\":[\"held-1#1->inbox\"],\"maxPerSecond\":10,\"dryRun\":false,"
                  + "\"reason\":\"OPS-2\"}",
              false));

  private final HttpClient client = HttpClient.newHttpClient();
  private final InMemoryTransactionLog log = new InMemoryTransactionLog();
  private final InMemoryAuditLog audit = new InMemoryAuditLog();
  private ServerRuntime coordinator;
  private HttpApiServer server;
  private String base;

  @BeforeEach
  void start() throws Exception {
    Subscriptions subscriptions = new Subscriptions(new InMemorySubscriptionStore());
    coordinator =
        TestRuntimes.start(
            new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT),
            log,
            new HttpEffects(Duration.ofSeconds(1), AllowList.loopbackOnly()),
            subscriptions,
            Duration.ofMillis(50));
    Api api =
        new Api(
            coordinator,
            log,
            Limits.DEFAULT,
            subscriptions,
            AllowList.loopbackOnly(),
            audit,
            () -> "g");
    server =
        HttpApiServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            api,
            HttpApiServer.MAX_CONCURRENT_REQUESTS,
            Tokens.parse(List.of("operator " + OPERATOR, "client " + CLIENT), "test tokens"));
    base = "http://127.0.0.1:" + server.port();
    HttpResponse<String> created =
        send(
            "POST",
            "/api/v1/transactions",
            "{\"gid\":\"held-1\",\"mode\":\"tcc\",\"timeoutSeconds\":3600}",
            CLIENT);
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
  }

  @AfterEach
  void stop() {
    server.close();
    coordinator.close();
  }

  @Test
  void theCallsHere_areEveryCallTheConsoleMakes() throws IOException {
    String script;
    try (InputStream in = ConsoleAccessTest.class.getResourceAsStream(CONSOLE_JS)) {
      assertThat(in).as(CONSOLE_JS).isNotNull();
      script = new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
    Matcher call = Pattern.compile("api\\(\"([A-Z]+)\", \"([^\"]+)\"").matcher(script);
    Set<String> found = new TreeSet<>();
    while (call.find()) {
      found.add(call.group(1) + " " + call.group(2));
    }
    assertThat(found).containsExactlyInAnyOrderElementsOf(CONSOLE_CALLS);
    for (String spelled : CONSOLE_CALLS) {
      String[] parts = spelled.split(" ");
      assertThat(CALLS)
          .as("a row for %s", spelled)
          .anyMatch(c -> c.method().equals(parts[0]) && c.path().startsWith(parts[1]));
    }
  }

  @Test
  void withoutAValidToken_everyConsoleCallIs401_andChangesNothing() throws Exception {
    Transaction before = log.load(Gid.of("held-1")).orElseThrow();
    for (Call call : CALLS) {
      for (String token : new String[] {null, "", "not-a-token-0123456789"}) {
        HttpResponse<String> answer = send(call.method(), call.path(), call.body(), token);
        assertThat(answer.statusCode()).as("%s with token %s", call, token).isEqualTo(401);
        assertThat(answer.headers().firstValue("WWW-Authenticate"))
            .hasValue("Bearer realm=\"pledge\"");
        assertThat(answer.body()).contains("\"error\":\"unauthorized\"");
      }
      HttpResponse<String> basic =
          sendWithHeader(call, "Authorization", "Basic " + OPERATOR.substring(0, 16));
      assertThat(basic.statusCode()).as("%s with Basic", call).isEqualTo(401);
      HttpResponse<String> prefix =
          sendWithHeader(call, "Authorization", "Bearer " + OPERATOR.substring(1));
      assertThat(prefix.statusCode()).as("%s with part of a token", call).isEqualTo(401);
    }
    assertThat(log.load(Gid.of("held-1"))).contains(before);
    assertThat(audit.recent(null, 100)).isEmpty();
  }

  @Test
  void aClientsToken_is403ForEveryOperatorsCall_andChangesNothing() throws Exception {
    Transaction before = log.load(Gid.of("held-1")).orElseThrow();
    for (Call call : CALLS) {
      HttpResponse<String> answer = send(call.method(), call.path(), call.body(), CLIENT);
      if (call.client()) {
        assertThat(answer.statusCode()).as("%s: %s", call, answer.body()).isEqualTo(200);
      } else {
        assertThat(answer.statusCode()).as("%s: %s", call, answer.body()).isEqualTo(403);
        assertThat(answer.body())
            .contains("\"error\":\"forbidden\"")
            .doesNotContain(CLIENT)
            .doesNotContain(OPERATOR);
      }
    }
    assertThat(log.load(Gid.of("held-1"))).contains(before);
    assertThat(audit.recent(null, 100)).isEmpty();
  }

  @Test
  void anOperatorsToken_mayMakeEveryConsoleCall_andIsAuditedByItsLineNotItsToken()
      throws Exception {
    for (Call call : CALLS) {
      HttpResponse<String> answer = send(call.method(), call.path(), call.body(), OPERATOR);
      assertThat(answer.statusCode()).as("%s: %s", call, answer.body()).isEqualTo(200);
    }
    assertThat(log.load(Gid.of("held-1")).orElseThrow().status().label())
        .isIn("aborting", "aborted");
    List<dev.pledge.core.spi.AuditLog.AuditEntry> entries = audit.recent(null, 100);
    assertThat(entries).extracting(e -> e.action()).contains("retry", "force abort", "redrive");
    assertThat(entries)
        .allSatisfy(e -> {
          assertThat(e.actor()).isEqualTo("operator@1");
          assertThat(e.toString()).doesNotContain(OPERATOR);
        });
  }

  private HttpResponse<String> sendWithHeader(Call call, String name, String value)
      throws Exception {
    return client.send(
        request(call.method(), call.path(), call.body()).header(name, value).build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private HttpResponse<String> send(String method, String path, String body, String token)
      throws Exception {
    HttpRequest.Builder request = request(method, path, body);
    if (token != null) {
      request.header("Authorization", "Bearer " + token);
    }
    return client.send(request.build(), HttpResponse.BodyHandlers.ofString());
  }

  private HttpRequest.Builder request(String method, String path, String body) {
    return HttpRequest.newBuilder(URI.create(base + path))
        .timeout(Duration.ofSeconds(10))
        .header("Content-Type", "application/json")
        .method(
            method,
            body == null
                ? HttpRequest.BodyPublishers.noBody()
                : HttpRequest.BodyPublishers.ofString(body));
  }
}
