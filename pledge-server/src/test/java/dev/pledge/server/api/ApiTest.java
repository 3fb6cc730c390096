package dev.pledge.server.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pledge.core.Limits;
import dev.pledge.core.Outcome;
import dev.pledge.core.RetryPolicy;
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
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/** The API as any HTTP client sees it, without the HTTP server: statuses, bodies, errors. */
class ApiTest {
  private final ObjectMapper json = new ObjectMapper();
  private final InMemoryTransactionLog log = new InMemoryTransactionLog();
  private final List<String> calls = new CopyOnWriteArrayList<>();
  private final AtomicInteger generated = new AtomicInteger();
  private final Transport succeed =
      new Transport() {
        @Override
        public CompletableFuture<Outcome> call(Effect.CallOp call) {
          calls.add(call.branchId() + "/" + call.op().label());
          return CompletableFuture.completedFuture(Outcome.SUCCEEDED);
        }

        @Override
        public CompletableFuture<Outcome> checkBack(Effect.CheckBack check) {
          return CompletableFuture.completedFuture(new Outcome.Failed("rolled_back"));
        }

        @Override
        public CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target) {
          calls.add("deliver " + delivery.messageId() + " -> " + target);
          return CompletableFuture.completedFuture(Outcome.SUCCEEDED);
        }
      };
  private final ServerRuntime runtime =
      TestRuntimes.start(
          new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT),
          log,
          succeed,
          new Subscriptions(new InMemorySubscriptionStore()),
          Duration.ofMillis(50));
  private final Api api =
      new Api(
          runtime,
          log,
          Limits.DEFAULT,
          new Subscriptions(new InMemorySubscriptionStore()),
          AllowList.loopbackOnly(),
          new InMemoryAuditLog(),
          () -> "generated-" + generated.incrementAndGet());

  @AfterEach
  void stop() {
    runtime.close();
  }

  private record Reply(int status, JsonNode body) {}

  private Reply call(String method, String path, String body) {
    return call(method, path, Map.of(), body);
  }

  private Reply call(String method, String path, Map<String, String> query, String body) {
    ApiResponse response = api.handle(method, path, query, body.getBytes(StandardCharsets.UTF_8));
    try {
      return new Reply(
          response.status(),
          response.contentType().startsWith("application/json")
              ? json.readTree(response.body())
              : null);
    } catch (java.io.IOException e) {
      throw new AssertionError("not JSON: " + response.body(), e);
    }
  }

  private static String saga(String gid, String compensate) {
    return """
    {"gid": "%s", "mode": "saga", "timeoutSeconds": 30, "branches": [
      {"action": "http://127.0.0.1:9/a1", "compensate": "%s", "payload": {"sku": "x", "n": 2}},
      {"action": "http://127.0.0.1:9/a2", "compensate": "http://127.0.0.1:9/c2"}]}
    """
        .formatted(gid, compensate);
  }

  @Test
  void healthAndMetrics_answerGetOnly() {
    assertThat(call("GET", "/health", "").status()).isEqualTo(200);
    assertThat(call("POST", "/health", "").status()).isEqualTo(405);
    assertThat(call("DELETE", "/metrics", "").status()).isEqualTo(405);
  }

  @Test
  void messageHeaders_thatHttpOrTheCoordinatorOwn_areRefusedByName_andNothingIsCreated() {
    Reply reply =
        call(
            "POST",
            "/api/v1/transactions",
            """
            {"gid": "headers", "mode": "msg", "checkUrl": "http://127.0.0.1:9/check",
             "messages": [{"topic": "t", "payload": {}, "headers":
               {"X-Trace": "ok", "Host": "evil", "pledge-gid": "other", "Content-Length": "1"}}]}
            """);

    assertThat(reply.status()).isEqualTo(400);
    assertThat(reply.body().path("fields").findValuesAsText("field"))
        .containsExactlyInAnyOrder(
            "messages[0].headers.Host",
            "messages[0].headers.pledge-gid",
            "messages[0].headers.Content-Length");
    assertThat(call("GET", "/api/v1/transactions/headers", "").status()).isEqualTo(404);
  }

  @Test
  void create_answers201_andTheSameRequestAgainAnswersTheSame() {
    Reply first = call("POST", "/api/v1/transactions", saga("order-1", "http://127.0.0.1:9/c1"));
    Reply again = call("POST", "/api/v1/transactions", saga("order-1", "http://127.0.0.1:9/c1"));

    assertThat(first.status()).isEqualTo(201);
    assertThat(first.body().get("gid").asText()).isEqualTo("order-1");
    assertThat(again.status()).isEqualTo(201);
    assertThat(again.body().get("gid").asText()).isEqualTo("order-1");
    assertThat(log.size()).isEqualTo(1);
  }

  @Test
  void create_withTheSameGidAndAnotherBody_answers409() {
    call("POST", "/api/v1/transactions", saga("order-2", "http://127.0.0.1:9/c1"));

    Reply other = call("POST", "/api/v1/transactions", saga("order-2", "http://127.0.0.1:9/other"));

    assertThat(other.status()).isEqualTo(409);
    assertThat(other.body().get("error").asText()).isEqualTo("conflict");
  }

  @Test
  void create_withoutGid_generatesOne() {
    Reply created =
        call(
            "POST",
            "/api/v1/transactions",
            saga("x", "http://127.0.0.1:9/c1").replace("\"gid\": \"x\", ", ""));

    assertThat(created.status()).isEqualTo(201);
    assertThat(created.body().get("gid").asText()).isEqualTo("generated-1");
  }

  @Test
  void badInput_answers400NamingEveryField_andAcceptsNothing() {
    Reply bad =
        call(
            "POST",
            "/api/v1/transactions",
            """
            {"gid": "bad gid!", "mode": "saga", "timeoutSeconds": 0, "colour": "red",
             "branches": [{"action": "http://127.0.0.1:9/a"}, {"action": "http://10.1.2.3/a", "compensate": "http://127.0.0.1:9/c", "extra": 1}]}
            """);

    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.body().get("error").asText()).isEqualTo("invalid_request");
    assertThat(bad.body().get("fields").findValuesAsText("field"))
        .containsExactlyInAnyOrder("gid", "timeoutSeconds", "colour", "branches[1].extra");
    assertThat(log.size()).isZero();

    Reply secondRound =
        call(
            "POST",
            "/api/v1/transactions",
            """
            {"mode": "saga", "branches": [{"action": "http://127.0.0.1:9/a"}, {"action": "http://10.1.2.3/a", "compensate": "http://127.0.0.1:9/c"}]}
            """);
    assertThat(secondRound.status()).isEqualTo(400);
    assertThat(secondRound.body().get("fields").findValuesAsText("field"))
        .containsExactlyInAnyOrder("branches[0].compensate", "branches[1].action");
    assertThat(log.size()).isZero();
  }

  @Test
  void threePcAndXa_areAccepted_andTheirBranchesCheckedForTheirOwnOps() {
    Reply bad =
        call(
            "POST",
            "/api/v1/transactions",
            """
            {"gid": "three-bad", "mode": "3pc", "branches": [
              {"can-commit": "http://127.0.0.1:9/cc", "pre-commit": "http://127.0.0.1:9/pc",
               "abort": "http://127.0.0.1:9/ab", "prepare": "http://127.0.0.1:9/p"}]}
            """);
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.body().get("fields").findValuesAsText("field"))
        .containsExactly("branches[0].prepare");
    Reply missing =
        call(
            "POST",
            "/api/v1/transactions",
            """
            {"gid": "three-bad", "mode": "3pc", "branches": [
              {"can-commit": "http://127.0.0.1:9/cc", "pre-commit": "http://127.0.0.1:9/pc",
               "abort": "http://127.0.0.1:9/ab"}]}
            """);
    assertThat(missing.status()).isEqualTo(400);
    assertThat(missing.body().get("fields").findValuesAsText("field"))
        .containsExactly("branches[0].do-commit");
    assertThat(log.size()).isZero();

    Reply threePc =
        call(
            "POST",
            "/api/v1/transactions",
            """
            {"gid": "three-ok", "mode": "3pc", "branches": [
              {"can-commit": "http://127.0.0.1:9/cc", "pre-commit": "http://127.0.0.1:9/pc",
               "do-commit": "http://127.0.0.1:9/dc", "abort": "http://127.0.0.1:9/ab"}]}
            """);
    assertThat(threePc.status()).isEqualTo(201);
    assertThat(threePc.body().get("status").asText()).isEqualTo("begun");
    Reply xa =
        call(
            "POST",
            "/api/v1/transactions",
            """
            {"gid": "xa-ok", "mode": "xa", "branches": [
              {"prepare": "http://127.0.0.1:9/p", "commit": "http://127.0.0.1:9/c",
               "rollback": "http://127.0.0.1:9/r"}]}
            """);
    assertThat(xa.status()).isEqualTo(201);
    assertThat(log.size()).isEqualTo(2);
    JsonNode view = call("GET", "/api/v1/transactions/three-ok", "").body();
    assertThat(view.get("mode").asText()).isEqualTo("3pc");
    assertThat(call("POST", "/api/v1/transactions/xa-ok/commit", "").status()).isEqualTo(409);
  }

  @Test
  void notJson_missingMode_andUnknownMode_areRefused() {
    assertThat(call("POST", "/api/v1/transactions", "{not json").status()).isEqualTo(400);
    assertThat(
            call("POST", "/api/v1/transactions", "{}")
                .body()
                .get("fields")
                .findValuesAsText("field"))
        .containsExactly("mode");
    assertThat(
            call("POST", "/api/v1/transactions", "{\"mode\":\"4pc\"}")
                .body()
                .get("fields")
                .get(0)
                .get("reason")
                .asText())
        .contains("4pc");
    assertThat(log.size()).isZero();
  }

  @Test
  void tccOverTheApi_registersCommits_andRefusesAbortAfterCommit() {
    assertThat(call("POST", "/api/v1/transactions", "{\"gid\":\"t-1\",\"mode\":\"tcc\"}").status())
        .isEqualTo(201);
    Reply registered =
        call(
            "POST",
            "/api/v1/transactions/t-1/branches",
            """
            {"try": "http://127.0.0.1:9/t", "confirm": "http://127.0.0.1:9/c", "cancel": "http://127.0.0.1:9/x", "payload": {"amount": 5}}
            """);
    assertThat(registered.status()).isEqualTo(200);
    assertThat(registered.body().get("branchId").asText()).isEqualTo("1");

    assertThat(call("POST", "/api/v1/transactions/t-1/commit", "").status()).isEqualTo(200);
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> call("GET", "/api/v1/transactions/t-1", "").body().get("final").asBoolean());

    Reply abort = call("POST", "/api/v1/transactions/t-1/abort", "");
    assertThat(abort.status()).isEqualTo(409);
    assertThat(abort.body().get("message").asText()).contains("committed");
    assertThat(calls).containsExactly("1/confirm");
  }

  @Test
  void longPoll_answersAsSoonAsTheTransactionIsFinal() throws Exception {
    assertThat(call("POST", "/api/v1/transactions", "{\"gid\":\"lp-1\",\"mode\":\"tcc\"}").status())
        .isEqualTo(201);
    CompletableFuture<Reply> poll =
        CompletableFuture.supplyAsync(
            () -> call("GET", "/api/v1/transactions/lp-1", Map.of("waitSeconds", "30"), ""));
    await().atMost(Duration.ofSeconds(10)).until(() -> runtime.longPolls().waiting() == 1);
    assertThat(poll).isNotDone();

    assertThat(call("POST", "/api/v1/transactions/lp-1/commit", "").status()).isEqualTo(200);

    // Answered by the write that made it final, long before the 30 s wait could end.
    await().atMost(Duration.ofSeconds(10)).until(poll::isDone);
    Reply reply = poll.get();
    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.body().get("status").asText()).isEqualTo("committed");
    assertThat(reply.body().get("final").asBoolean()).isTrue();
    assertThat(runtime.longPolls().waiting()).isZero();
  }

  @Test
  void longPoll_whenTheWaitEndsFirst_answersTheCurrentState() {
    assertThat(call("POST", "/api/v1/transactions", "{\"gid\":\"lp-2\",\"mode\":\"tcc\"}").status())
        .isEqualTo(201);

    Reply reply = call("GET", "/api/v1/transactions/lp-2", Map.of("waitSeconds", "1"), "");

    assertThat(reply.status()).isEqualTo(200);
    assertThat(reply.body().get("status").asText()).isEqualTo("begun");
    assertThat(reply.body().get("final").asBoolean()).isFalse();
    assertThat(call("GET", "/api/v1/transactions/none", Map.of("waitSeconds", "1"), "").status())
        .isEqualTo(404);
  }

  @Test
  void createWithWait_answersTheFinalTransaction_inTheSameExchange() {
    Reply reply =
        call(
            "POST",
            "/api/v1/transactions",
            Map.of("waitSeconds", "10"),
            saga("cw-1", "http://127.0.0.1:9/c1"));

    assertThat(reply.status()).isEqualTo(201);
    assertThat(reply.body().get("status").asText()).isEqualTo("committed");
    assertThat(reply.body().get("final").asBoolean()).isTrue();
    assertThat(reply.body().path("branches").findValuesAsText("branchId"))
        .containsExactly("1", "2");
    assertThat(calls).containsExactly("1/action", "2/action");
    assertThat(runtime.longPolls().waiting()).isZero();
    // The same request again answers the same, and creates nothing.
    Reply again =
        call(
            "POST",
            "/api/v1/transactions",
            Map.of("waitSeconds", "10"),
            saga("cw-1", "http://127.0.0.1:9/c1"));
    assertThat(again.status()).isEqualTo(201);
    assertThat(again.body().get("status").asText()).isEqualTo("committed");
    assertThat(calls).hasSize(2);
  }

  @Test
  void createWithWait_whenTheWaitEndsFirst_answersTheCurrentState() {
    Reply reply =
        call(
            "POST",
            "/api/v1/transactions",
            Map.of("waitSeconds", "1"),
            "{\"gid\":\"cw-2\",\"mode\":\"tcc\"}");

    assertThat(reply.status()).isEqualTo(201);
    assertThat(reply.body().get("status").asText()).isEqualTo("begun");
    assertThat(reply.body().get("final").asBoolean()).isFalse();
    assertThat(runtime.longPolls().waiting()).isZero();
  }

  @Test
  void createWithWait_refusesAWaitOutside0To30_namingTheField_andCreatesNothing() {
    for (String bad : List.of("31", "-1", "1.5", "soon", "")) {
      Reply reply =
          call(
              "POST",
              "/api/v1/transactions",
              Map.of("waitSeconds", bad),
              saga("cw-3", "http://127.0.0.1:9/c1"));
      assertThat(reply.status()).as(bad).isEqualTo(400);
      assertThat(reply.body().path("fields").findValuesAsText("field"))
          .containsExactly("waitSeconds");
    }
    assertThat(call("GET", "/api/v1/transactions/cw-3", "").status()).isEqualTo(404);
    assertThat(calls).isEmpty();
  }

  @Test
  void createWithWait_ofABadBody_answers400_andLeavesNoWaiter() {
    Reply reply =
        call("POST", "/api/v1/transactions", Map.of("waitSeconds", "5"), "{\"mode\":\"nope\"}");

    assertThat(reply.status()).isEqualTo(400);
    assertThat(runtime.longPolls().waiting()).isZero();
  }

  @Test
  void longPoll_refusesAWaitOutside0To30_namingTheField() {
    call("POST", "/api/v1/transactions", "{\"gid\":\"lp-3\",\"mode\":\"tcc\"}");
    for (String bad : List.of("31", "-1", "1.5", "soon", "")) {
      Reply reply = call("GET", "/api/v1/transactions/lp-3", Map.of("waitSeconds", bad), "");
      assertThat(reply.status()).as(bad).isEqualTo(400);
      assertThat(reply.body().path("fields").findValuesAsText("field"))
          .containsExactly("waitSeconds");
    }
    assertThat(call("GET", "/api/v1/transactions/lp-3", Map.of("waitSeconds", "0"), "").status())
        .isEqualTo(200);
  }

  @Test
  void history_showsEveryStateChangeCallAndAnswer_inOrder() {
    call("POST", "/api/v1/transactions", saga("h-1", "http://127.0.0.1:9/c1"));
    Reply done = call("GET", "/api/v1/transactions/h-1", Map.of("waitSeconds", "10"), "");
    assertThat(done.body().get("status").asText()).isEqualTo("committed");

    Reply history = call("GET", "/api/v1/transactions/h-1/history", "");

    assertThat(history.status()).isEqualTo(200);
    List<String> lines = new java.util.ArrayList<>();
    for (JsonNode entry : history.body().get("entries")) {
      lines.add(
          entry.get("version").asText()
              + " "
              + entry.get("kind").asText()
              + " "
              + entry.path("subject").asText("-")
              + " "
              + entry.path("op").asText("-")
              + " "
              + entry.path("from").asText("-")
              + ">"
              + entry.path("to").asText("-")
              + " "
              + entry.path("outcome").asText("-")
              + " #"
              + entry.path("attempt").asText("0"));
      assertThat(entry.get("at").asText()).isNotEmpty();
      if (entry.get("kind").asText().equals("answer")) {
        assertThat(entry.get("latencyMicros").asLong()).isNotNegative();
      }
    }
    assertThat(lines)
        .containsExactly(
            "1 state - - ->begun - #0",
            "1 call 1 action ->- - #1",
            "2 answer 1 action ->- succeeded #1",
            "2 call 2 action ->- - #1",
            "3 answer 2 action ->- succeeded #1",
            "3 state - - begun>committed - #0");
    assertThat(call("GET", "/api/v1/transactions/nope/history", "").status()).isEqualTo(404);
    assertThat(call("POST", "/api/v1/transactions/h-1/history", "").status()).isEqualTo(405);
  }

  @Test
  void get_showsEveryBranchOp_andUnknownGidIs404() {
    call("POST", "/api/v1/transactions", saga("order-3", "http://127.0.0.1:9/c1"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(
            () -> call("GET", "/api/v1/transactions/order-3", "").body().get("final").asBoolean());

    JsonNode view = call("GET", "/api/v1/transactions/order-3", "").body();
    assertThat(view.get("mode").asText()).isEqualTo("saga");
    assertThat(view.get("status").asText()).isEqualTo("committed");
    assertThat(view.get("branches").get(0).get("ops").findValuesAsText("op"))
        .containsExactly("action", "compensate");
    assertThat(view.get("branches").get(0).get("ops").findValuesAsText("status"))
        .containsExactly("succeeded", "idle");
    assertThat(call("GET", "/api/v1/transactions/nope", "").status()).isEqualTo(404);
  }

  @Test
  void list_pagesNewestFirst_andValidatesItsQuery() {
    for (int i = 1; i <= 3; i++) {
      call("POST", "/api/v1/transactions", "{\"gid\":\"t-" + i + "\",\"mode\":\"tcc\"}");
    }
    Map<String, String> query = new HashMap<>(Map.of("mode", "tcc", "limit", "2"));
    JsonNode page = call("GET", "/api/v1/transactions", query, "").body();
    assertThat(page.get("items").findValuesAsText("gid")).containsExactly("t-3", "t-2");
    query.put("cursor", page.get("nextCursor").asText());
    JsonNode next = call("GET", "/api/v1/transactions", query, "").body();
    assertThat(next.get("items").findValuesAsText("gid")).containsExactly("t-1");
    assertThat(next.has("nextCursor")).isFalse();

    Reply bad = call("GET", "/api/v1/transactions", Map.of("limit", "0", "status", "done"), "");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.body().get("fields").findValuesAsText("field"))
        .containsExactlyInAnyOrder("limit", "status");
  }

  @Test
  void list_filtersByTextInTheGidAndCreationTime() {
    Instant before = Instant.now().minusSeconds(1);
    for (String gid : List.of("order-1", "order-2", "refund-1")) {
      call("POST", "/api/v1/transactions", "{\"gid\":\"" + gid + "\",\"mode\":\"tcc\"}");
    }
    Instant after = Instant.now().plusSeconds(1);

    assertThat(gids(Map.of("gid", "order"))).containsExactly("order-2", "order-1");
    assertThat(gids(Map.of("gid", "-1", "mode", "tcc"))).containsExactly("refund-1", "order-1");
    assertThat(gids(Map.of("gid", "ORDER"))).isEmpty();
    assertThat(gids(Map.of("createdBefore", before.toString()))).isEmpty();
    assertThat(gids(Map.of("createdAfter", before.toString(), "createdBefore", after.toString())))
        .containsExactly("refund-1", "order-2", "order-1");
    assertThat(gids(Map.of("createdAfter", after.toString()))).isEmpty();

    Reply bad =
        call(
            "GET",
            "/api/v1/transactions",
            Map.of("gid", "a b", "createdAfter", "yesterday", "createdBefore", "1700000000"),
            "");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.body().get("fields").findValuesAsText("field"))
        .containsExactlyInAnyOrder("gid", "createdAfter", "createdBefore");
  }

  private List<String> gids(Map<String, String> query) {
    Reply reply = call("GET", "/api/v1/transactions", query, "");
    assertThat(reply.status()).as("%s", reply.body()).isEqualTo(200);
    return reply.body().get("items").findValuesAsText("gid");
  }

  @Test
  void counts_sayHowManyTransactionsByModeAndStatus() {
    assertThat(call("GET", "/api/v1/counts", "").body().get("counts")).isEmpty();
    call("POST", "/api/v1/transactions", "{\"gid\":\"t-1\",\"mode\":\"tcc\"}");
    call("POST", "/api/v1/transactions", "{\"gid\":\"t-2\",\"mode\":\"tcc\"}");
    call("POST", "/api/v1/transactions", "{\"gid\":\"t-3\",\"mode\":\"tcc\"}");
    call("POST", "/api/v1/transactions/t-3/abort", "");
    await()
        .atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> {
          JsonNode counts = call("GET", "/api/v1/counts", "").body().get("counts");
          List<String> rows = new ArrayList<>();
          counts.forEach(c ->
              rows.add(
                  c.get("mode").asText()
                      + " "
                      + c.get("status").asText()
                      + " "
                      + c.get("transactions").asLong()));
          assertThat(rows).containsExactlyInAnyOrder("tcc begun 2", "tcc aborted 1");
        });
    assertThat(call("POST", "/api/v1/counts", "").status()).isEqualTo(405);
  }

  @Test
  void subscriptions_areValidated() {
    assertThat(
            call(
                    "PUT",
                    "/api/v1/subscriptions/shipping",
                    "{\"topic\":\"orders\",\"target\":\"http://127.0.0.1:9/inbox\"}")
                .status())
        .isEqualTo(200);
    Reply bad =
        call(
            "PUT",
            "/api/v1/subscriptions/shipping",
            "{\"topic\":\"orders\",\"target\":\"http://203.0.113.9/inbox\"}");
    assertThat(bad.status()).isEqualTo(400);
    assertThat(bad.body().get("fields").findValuesAsText("field")).containsExactly("target");
  }

  @Test
  void unknownRoutes_wrongMethods_andHugeBodies_areRefused() {
    assertThat(call("GET", "/api/v2/things", "").status()).isEqualTo(404);
    assertThat(call("DELETE", "/api/v1/transactions", "").status()).isEqualTo(405);
    byte[] huge = new byte[Api.MAX_BODY_BYTES + 1];
    assertThat(api.handle("POST", "/api/v1/transactions", Map.of(), huge).status()).isEqualTo(413);
  }

  @Test
  void healthAndMetrics_answer() {
    call("POST", "/api/v1/transactions", "{}");
    assertThat(call("GET", "/health", "").body().get("status").asText()).isEqualTo("ok");
    String metrics = api.handle("GET", "/metrics", Map.of(), new byte[0]).body();
    assertThat(metrics)
        .contains(
            "pledge_api_responses_total{method=\"POST\",route=\"/api/v1/transactions\",status=\"400\"} 1");
  }
}
