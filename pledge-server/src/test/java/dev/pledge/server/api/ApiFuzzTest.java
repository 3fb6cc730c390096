package dev.pledge.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.util.stream.Collectors;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.Tuple;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Bad input, generated: random methods, paths near the real routes, query strings and bodies
 * (JSON-ish fragments, mutated valid requests, raw bytes) sent to the API. Every answer is a 2xx
 * for what happens to be valid or a 4xx, never a 5xx; and the transactions accepted before the
 * fuzzing are still there afterwards, unchanged, whatever was sent about them. One of them holds a
 * real dead letter (its subscriber never takes a message), so the dead-letter listing and re-drives
 * (dry or not, by id or filter) act on something; it may be re-driven, never lost.
 */
class ApiFuzzTest {
  private static final Set<Integer> EXPECTED = Set.of(200, 201, 400, 404, 405, 409, 413);

  private static InMemoryTransactionLog log;
  private static ServerRuntime runtime;
  private static Api api;
  private static Transaction committed;
  private static Transaction held;
  private static Transaction dead;

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
            // The subscriber under /dead never takes a message: its deliveries are dead letters.
            return CompletableFuture.completedFuture(
                target.endsWith("/dead") ? new Outcome.Unknown("HTTP 503") : Outcome.SUCCEEDED);
          }
        };
    Subscriptions subscriptions = new Subscriptions(new InMemorySubscriptionStore());
    runtime =
        TestRuntimes.start(
            new Engine(
                Limits.DEFAULT,
                new RetryPolicy(
                    Duration.ofMillis(5),
                    Duration.ofMillis(20),
                    2.0,
                    0.2,
                    Duration.ofSeconds(2),
                    2)),
            log,
            succeed,
            subscriptions,
            Duration.ofMillis(20));
    api =
        new Api(
            runtime,
            log,
            Limits.DEFAULT,
            subscriptions,
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
    // A dead letter, so that re-drives and their dry runs act on something real.
    assertThat(
            send(
                "PUT",
                "/api/v1/subscriptions/fuzz-dead",
                Map.of(),
                "{\"topic\":\"fuzz\",\"target\":\"http://127.0.0.1:9/dead\"}"))
        .isEqualTo(200);
    assertThat(
            send(
                "POST",
                "/api/v1/transactions",
                Map.of(),
                "{\"gid\":\"kept-3\",\"mode\":\"msg\",\"checkUrl\":\"http://127.0.0.1:9/c\","
                    + "\"messages\":[{\"topic\":\"fuzz\",\"payload\":{}}]}"))
        .isEqualTo(201);
    assertThat(send("POST", "/api/v1/transactions/kept-3/commit", Map.of(), "")).isEqualTo(200);
    org.awaitility.Awaitility.await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> !log.load(Gid.of("kept-3")).orElseThrow().deadSubscriptions().isEmpty());
    dead = log.load(Gid.of("kept-3")).orElseThrow();
  }

  @AfterContainer
  static void stop() {
    // Nothing accepted before was lost: the committed one is exactly as it was; the held tcc may
    // have been committed or aborted by a generated request (a client may ask either), never lost.
    assertThat(log.load(committed.gid())).contains(committed);
    Transaction now = log.load(held.gid()).orElseThrow();
    assertThat(now.gid()).isEqualTo(held.gid());
    assertThat(now.createdAt()).isEqualTo(held.createdAt());
    // The dead letter may have been re-driven (and died again), never lost: its message and its
    // delivery are still there, and its transaction still committed.
    Transaction letter = log.load(dead.gid()).orElseThrow();
    assertThat(letter.status()).isEqualTo(dead.status());
    assertThat(letter.message("kept-3#1")).isNotNull();
    assertThat(letter.message("kept-3#1").delivery("fuzz-dead")).isNotNull();
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

  @Property(tries = 300)
  void redriveRequests_answer200or400_neverAnythingElse(@ForAll("redrives") String body) {
    ApiResponse response =
        api.handle(
            "POST",
            "/api/v1/deliveries/redrive",
            Map.of(),
            body.getBytes(StandardCharsets.UTF_8),
            "fuzz");

    assertThat(response.status()).as("%s -> %s", body, response.body()).isIn(200, 400);
    assertThat(response.contentType()).startsWith("application/json");
  }

  /**
   * Re-drive requests near the valid ones: each field absent, of the right type with a value in or
   * out of its range, or of a wrong type; now and then an unknown field.
   */
  @Provide
  Arbitrary<String> redrives() {
    Arbitrary<String> text = Arbitraries.strings().ofMaxLength(40).map(ApiFuzzTest::quoted);
    Arbitrary<String> wrong = Arbitraries.of("null", "true", "1.5", "-1", "[]", "{}", "\"x\"");
    Arbitrary<String> id =
        Arbitraries.oneOf(
            Arbitraries.of(
                    "kept-3#1->fuzz-dead",
                    "kept-3#2->fuzz-dead",
                    "kept-1#1->s",
                    "missing#1->s",
                    "kept-3#1->",
                    "#1->s",
                    "kept-3#0->fuzz-dead",
                    "kept-3#1->fuzz-dead->x")
                .map(ApiFuzzTest::quoted),
            text,
            wrong);
    Arbitrary<String> ids =
        Arbitraries.oneOf(
            id.list().ofMaxSize(3).map(list -> "[" + String.join(",", list) + "]"), wrong);
    Arbitrary<String> filter =
        Arbitraries.oneOf(
            Arbitraries.of("{}", "{\"subscription\":\"fuzz-dead\"}", "{\"x\":1}"),
            text.map(t -> "{\"subscription\":" + t + "}"),
            wrong);
    Arbitrary<String> number =
        Arbitraries.oneOf(Arbitraries.integers().between(-5, 1005).map(String::valueOf), wrong);
    Arbitrary<String> flag = Arbitraries.oneOf(Arbitraries.of("true", "false"), wrong);
    Arbitrary<String> reason =
        Arbitraries.oneOf(Arbitraries.strings().ofMaxLength(1100).map(ApiFuzzTest::quoted), wrong);
    return Combinators.combine(
            field("ids", ids),
            field("filter", filter),
            field("maxPerSecond", number),
            field("dryRun", flag),
            field("reason", reason),
            field("limit", number),
            Arbitraries.frequencyOf(
                Tuple.of(1, wrong.map(v -> "\"extra\":" + v)), Tuple.of(9, Arbitraries.just(""))))
        .as((a, b, c, d, e, f, g) ->
            Stream.of(a, b, c, d, e, f, g)
                .filter(part -> !part.isEmpty())
                .collect(Collectors.joining(",", "{", "}")));
  }

  /** {@code "name":value} four times in five, else nothing (the field is absent). */
  private static Arbitrary<String> field(String name, Arbitrary<String> value) {
    return Arbitraries.frequencyOf(
        Tuple.of(4, value.map(v -> quoted(name) + ":" + v)), Tuple.of(1, Arbitraries.just("")));
  }

  private static String quoted(String text) {
    try {
      return JSON.writeValueAsString(text);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException(e);
    }
  }

  private static final ObjectMapper JSON = new ObjectMapper();

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
            Arbitraries.of("kept-1", "kept-2", "kept-3", "missing", "", "a b", "%00", "../x"),
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
                "{\"ids\":[],\"filter\":null,\"maxPerSecond\":-1,\"dryRun\":null}",
                "{\"ids\":[\"kept-3#1->fuzz-dead\"],\"maxPerSecond\":1000,\"dryRun\":false}",
                "{\"ids\":[\"kept-3#1->fuzz-dead\"],\"maxPerSecond\":1,\"dryRun\":true}"),
            Arbitraries.strings().ofMaxLength(300));
    Arbitrary<byte[]> body =
        Arbitraries.oneOf(
            json.map(text -> text.getBytes(StandardCharsets.UTF_8)),
            Arbitraries.bytes().array(byte[].class).ofMaxSize(300));
    return Combinators.combine(method, path, query, body).as(Request::new);
  }
}
