package dev.pledge.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
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
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Bearer tokens over real HTTP: 401 without a valid token, 403 beyond its role, loopback alone
 * without.
 */
class AuthenticationTest {
  private static final String OPERATOR = "operator-token-0123456789";
  private static final String CLIENT = "client-token-0123456789ab";

  private final HttpClient client = HttpClient.newHttpClient();
  private final InMemoryTransactionLog log = new InMemoryTransactionLog();
  private ServerRuntime coordinator;
  private Api api;
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
    api =
        new Api(
            coordinator,
            log,
            Limits.DEFAULT,
            subscriptions,
            AllowList.loopbackOnly(),
            new InMemoryAuditLog(),
            () -> "g");
    Tokens tokens =
        Tokens.parse(List.of("operator " + OPERATOR, "client " + CLIENT), "test tokens");
    server =
        HttpApiServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            api,
            HttpApiServer.MAX_CONCURRENT_REQUESTS,
            tokens);
    base = "http://127.0.0.1:" + server.port();
  }

  @AfterEach
  void stop() {
    server.close();
    coordinator.close();
  }

  @Test
  void withoutAValidToken_everyApiCallIs401_andNothingIsRecorded() throws Exception {
    for (String token : new String[] {null, "", "wrong-token-0123456789", OPERATOR + "x"}) {
      HttpResponse<String> created =
          send("POST", "/api/v1/transactions", "{\"gid\":\"t-1\",\"mode\":\"tcc\"}", token);
      assertThat(created.statusCode()).as("token %s", token).isEqualTo(401);
      assertThat(created.headers().firstValue("WWW-Authenticate"))
          .hasValue("Bearer realm=\"pledge\"");
      assertThat(created.body()).contains("\"error\":\"unauthorized\"").doesNotContain(OPERATOR);
      assertThat(send("GET", "/api/v1/transactions", null, token).statusCode()).isEqualTo(401);
      assertThat(send("GET", "/metrics", null, token).statusCode()).isEqualTo(401);
    }
    assertThat(log.load(dev.pledge.core.Gid.of("t-1"))).isEmpty();
  }

  @Test
  void healthAndTheConsolesFiles_needNoToken() throws Exception {
    assertThat(send("GET", "/health", null, null).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/console/", null, null).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/console/console.js", null, null).statusCode()).isEqualTo(200);
  }

  @Test
  void aClient_drivesAndReadsItsTransaction_butIs403ForOperatorsWork() throws Exception {
    assertThat(
            send("POST", "/api/v1/transactions", "{\"gid\":\"t-1\",\"mode\":\"tcc\"}", CLIENT)
                .statusCode())
        .isEqualTo(201);
    assertThat(send("GET", "/api/v1/transactions/t-1", null, CLIENT).statusCode()).isEqualTo(200);
    assertThat(send("POST", "/api/v1/transactions/t-1/abort", "", CLIENT).statusCode())
        .isEqualTo(200);

    for (String[] call :
        new String[][] {
          {"GET", "/api/v1/transactions"},
          {"GET", "/api/v1/counts"},
          {"GET", "/metrics"},
          {"POST", "/api/v1/transactions/t-1/retry"},
          {"PUT", "/api/v1/subscriptions/s"},
        }) {
      HttpResponse<String> refused = send(call[0], call[1], "{}", CLIENT);
      assertThat(refused.statusCode()).as("%s %s", call[0], call[1]).isEqualTo(403);
      assertThat(refused.body()).contains("\"error\":\"forbidden\"");
    }
  }

  @Test
  void anOperator_mayDoEverything() throws Exception {
    assertThat(
            send("POST", "/api/v1/transactions", "{\"gid\":\"t-1\",\"mode\":\"tcc\"}", OPERATOR)
                .statusCode())
        .isEqualTo(201);
    assertThat(send("GET", "/api/v1/transactions", null, OPERATOR).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/api/v1/counts", null, OPERATOR).statusCode()).isEqualTo(200);
    assertThat(send("GET", "/metrics", null, OPERATOR).statusCode()).isEqualTo(200);
    assertThat(send("POST", "/api/v1/transactions/t-1/retry", "", OPERATOR).statusCode())
        .isEqualTo(200);
  }

  @Test
  void withoutTokens_theServerRefusesToListenBeyondLoopback() {
    assertThatThrownBy(() -> HttpApiServer.start(new InetSocketAddress("0.0.0.0", 0), api))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("loopback only")
        .hasMessageContaining("--tokens-file");
  }

  private HttpResponse<String> send(String method, String path, String body, String token)
      throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(base + path))
            .timeout(Duration.ofSeconds(10))
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
