package dev.pledge.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.Gid;
import dev.pledge.core.Limits;
import dev.pledge.core.Outcome;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.runtime.Transport;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.ServerRuntime;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.server.runtime.TestRuntimes;
import dev.pledge.testkit.InMemoryAuditLog;
import dev.pledge.testkit.InMemorySubscriptionStore;
import dev.pledge.testkit.InMemoryTransactionLog;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Bad input, generated: random methods, paths near the real routes, query strings and bodies
 * (JSON-ish fragments, mutated valid requests, raw bytes) sent to the API. Every answer is a 2xx
 * for what happens to be valid or a 4xx, never a 5xx; and the transactions accepted before the
 * fuzzing are still there afterwards, unchanged, whatever was sent about them.
 */
class ApiFuzzTest {
  private static final Set<Integer> EXPECTED = Set.of(200, 201, 400, 404, 405, 409, 413);

  private static InMemoryTransactionLog log;
  private static ServerRuntime runtime;
  private static Api api;
  private static Transaction committed;
  private static Transaction held;

  @BeforeContainer
  static void start() {
    log = new InMemoryTransactionLog();
    Transport succeed =
        new Transport() {
          @Override
          public CompletableFuture<Outcome> call(Effect.CallOp call) {
            return CompletableFuture.completedFuture(Outcome.SUCCEEDED);
          }

          @Override
          public CompletableFuture<Outcome> checkBack(Effect.CheckBack check) {
            return CompletableFuture.completedFuture(new Outcome.Pending());
          }

          @Override
          public CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target) {
            return CompletableFuture.completedFuture(Outcome.SUCCEEDED);
          }
        };
    runtime =
        TestRuntimes.start(
            new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT),
            log,
            succeed,
            new Subscriptions(new InMemorySubscriptionStore()),
            Duration.ofMillis(50));
    api =
        new Api(
            runtime,
            log,
            Limits.DEFAULT,
            new Subscriptions(new InMemorySubscriptionStore()),
            AllowList.loopbackOnly(),
            new InMemoryAuditLog(),
            () -> "generated");
    assertThat(
            send("POST", "/api/v1/transactions", Map.of(), "{\"gid\":\"kept-1\",\"mode\":\"tcc\"}"))
        .isEqualTo(201);
    assertThat(send("POST", "/api/v1/transactions/kept-1/commit", Map.of(), "")).isEqualTo(200);
    assertThat(
            send(
                "POST",
                "/api/v1/transactions",
                Map.of(),
                "{\"gid\":\"kept-2\",\"mode\":\"tcc\",\"timeoutSeconds\":3600}"))
        .isEqualTo(201);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> log.load(Gid.of("kept-1")).orElseThrow().isFinal());
    committed = log.load(Gid.of("kept-1")).orElseThrow();
    held = log.load(Gid.of("kept-2")).orElseThrow();
  }

  @AfterContainer
  static void stop() {
    // Nothing accepted before was lost: the committed one is exactly as it was; the held tcc may
    // have been committed or aborted by a generated request (a client may ask either), never lost.
    assertThat(log.load(committed.gid())).contains(committed);
    Transaction now = log.load(held.gid()).orElseThrow();
    assertThat(now.gid()).isEqualTo(held.gid());
    assertThat(now.createdAt()).isEqualTo(held.createdAt());
    runtime.close();
  }

  private static int send(String method, String path, Map<String, String> query, String body) {
    return api.handle(method, path, query, body.getBytes(StandardCharsets.UTF_8), "fuzz").status();
  }

  @Property(tries = 400)
  void badRequests_answer4xx_neverA5xx(@ForAll("requests") Request request) {
    ApiResponse response =
        api.handle(request.method(), request.path(), request.query(), request.body(), "fuzz");

    assertThat(response.status()).as("%s -> %s", request, response.body()).isIn(EXPECTED);
    assertThat(response.contentType()).startsWith("application/json");
  }

  record Request(String method, String path, Map<String, String> query, byte[] body) {
    @Override
    public String toString() {
      return method + " " + path + " " + query + " " + new String(body, StandardCharsets.UTF_8);
    }
  }

  @Provide
  Arbitrary<Request> requests() {
    Arbitrary<String> method = Arbitraries.of("GET", "POST", "PUT", "DELETE", "PATCH", "HEAD");
    Arbitrary<String> gid =
        Arbitraries.oneOf(
            Arbitraries.of("kept-1", "kept-2", "missing", "", "a b", "%00", "../x"),
            Arbitraries.strings().ofMaxLength(200));
    Arbitrary<String> path =
        Combinators.combine(
                Arbitraries.of(
                    "/api/v1/transactions",
                    "/api/v1/transactions/%s",
                    "/api/v1/transactions/%s/history",
                    "/api/v1/transactions/%s/branches",
                    "/api/v1/transactions/%s/commit",
                    "/api/v1/transactions/%s/abort",
                    "/api/v1/transactions/%s/retry",
                    "/api/v1/transactions/%s/force",
                    "/api/v1/subscriptions/%s",
                    "/api/v1/counts",
                    "/api/v1/audit",
                    "/api/v1/deliveries",
                    "/api/v1/deliveries/redrive",
                    "/api/v1/deliveries/%s",
                    "/api/v2/%s",
                    "/%s"),
                gid)
            .as((template, g) -> template.formatted(g));
    Arbitrary<String> key =
        Arbitraries.of(
            "status",
            "mode",
            "gid",
            "limit",
            "cursor",
            "createdAfter",
            "createdBefore",
            "waitSeconds",
            "subscription",
            "x");
    Arbitrary<String> value =
        Arbitraries.oneOf(
            Arbitraries.of(
                "0",
                "-1",
                "31",
                "500",
                "501",
                "saga",
                "done",
                "dead",
                "a,b",
                "2020-01-01T00:00:00Z",
                ""),
            Arbitraries.strings().ofMaxLength(40));
    Arbitrary<Map<String, String>> query = Arbitraries.maps(key, value).ofMaxSize(4);
    Arbitrary<String> json =
        Arbitraries.oneOf(
            Arbitraries.of(
                "",
                "{}",
                "[]",
                "null",
                "{\"gid\":\"kept-1\",\"mode\":\"saga\"}",
                "{\"gid\":\"kept-2\",\"mode\":\"tcc\"}",
                "{\"mode\":\"tcc\",\"timeoutSeconds\":-5}",
                "{\"mode\":\"saga\",\"branches\":[{\"action\":\"http://203.0.113.9/a\"}]}",
                "{\"action\":\"abort\",\"reason\":\"r\",\"dryRun\":true}",
                "{\"action\":\"skip-op\",\"reason\":\"r\",\"dryRun\":false,\"op\":\"try\"}",
                "{\"topic\":\"t\",\"target\":\"file:///etc/passwd\"}",
                "{\"branchId\":\"b\",\"try\":\"http://127.0.0.1:9/t\"}",
                "{\"a\":" + "[".repeat(2000) + "]".repeat(2000) + "}",
                "{\"gid\":1e999}",
                "{\"filter\":{},\"maxPerSecond\":1000,\"dryRun\":false,\"reason\":\"r\"}",
                "{\"filter\":{\"subscription\":\"\"},\"maxPerSecond\":1,\"dryRun\":true}",
                "{\"filter\":[],\"limit\":1e9,\"maxPerSecond\":1.5,\"dryRun\":\"no\"}",
                "{\"ids\":[\"kept-1#1->s\",\"kept-1#0->s\",\"#1->\",1,null],"
                    + "\"maxPerSecond\":1000,\"dryRun\":false}",
                "{\"ids\":[],\"filter\":null,\"maxPerSecond\":-1,\"dryRun\":null}"),
            Arbitraries.strings().ofMaxLength(300));
    Arbitrary<byte[]> body =
        Arbitraries.oneOf(
            json.map(text -> text.getBytes(StandardCharsets.UTF_8)),
            Arbitraries.bytes().array(byte[].class).ofMaxSize(300));
    return Combinators.combine(method, path, query, body).as(Request::new);
  }
}
