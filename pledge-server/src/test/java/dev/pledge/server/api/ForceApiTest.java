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
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Force and the audit log through the API, on a real coordinator whose participants answer as each
 * test says: the dry run changes nothing, each rule refuses what would break a guarantee, what is
 * allowed happens, and every applied or refused force is in the audit log with who and why.
 */
class ForceApiTest {
  private static final RetryPolicy FAST =
      new RetryPolicy(
          Duration.ofMillis(10), Duration.ofMillis(100), 2.0, 0.2, Duration.ofSeconds(2), 3);

  private final ObjectMapper json = new ObjectMapper();
  private final InMemoryTransactionLog log = new InMemoryTransactionLog();
  private final InMemoryAuditLog audit = new InMemoryAuditLog();

  /** How each "branch/op" answers; absent: succeeded. */
  private final Map<String, Outcome> answers = new ConcurrentHashMap<>();

  private final Transport effects =
      new Transport() {
        @Override
        public CompletableFuture<Outcome> call(Effect.CallOp call) {
          return CompletableFuture.completedFuture(
              answers.getOrDefault(call.branchId() + "/" + call.op().label(), Outcome.SUCCEEDED));
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

  private final ServerRuntime runtime =
      TestRuntimes.start(
          new Engine(Limits.DEFAULT, FAST),
          log,
          effects,
          new Subscriptions(new InMemorySubscriptionStore()),
          Duration.ofMillis(20));
  private final Api api =
      new Api(
          runtime,
          log,
          Limits.DEFAULT,
          new Subscriptions(new InMemorySubscriptionStore()),
          AllowList.loopbackOnly(),
          audit,
          () -> "generated");

  @AfterEach
  void stop() {
    runtime.close();
  }

  private record Reply(int status, JsonNode body) {}

  private Reply call(String method, String path, Map<String, String> query, String body) {
    ApiResponse response =
        api.handle(method, path, query, body.getBytes(StandardCharsets.UTF_8), "operator@7");
    try {
      return new Reply(response.status(), json.readTree(response.body()));
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + response.body(), e);
    }
  }

  private Reply force(String gid, String action, boolean dryRun, String extra) {
    return call(
        "POST",
        "/api/v1/transactions/" + gid + "/force",
        Map.of(),
        "{\"action\":\""
            + action
            + "\",\"reason\":\"OPS-9: checked by hand\",\"dryRun\":"
            + dryRun
            + extra
            + "}");
  }

  private String status(String gid) {
    return call("GET", "/api/v1/transactions/" + gid, Map.of(), "").body().get("status").asText();
  }

  private void awaitStatus(String gid, String status) {
    await().atMost(Duration.ofSeconds(10)).until(() -> status(gid).equals(status));
  }

  /**
   * The operator entries of a transaction's timeline, each as {@code op|subject|outcome|attempt|
   * detail} (absent fields empty), oldest first.
   */
  private List<String> operatorEntries(String gid) {
    List<String> out = new java.util.ArrayList<>();
    for (JsonNode e : history(gid)) {
      if (e.path("kind").asText().equals("operator")) {
        out.add(
            String.join(
                "|",
                e.path("op").asText(),
                e.path("subject").asText(),
                e.path("outcome").asText(),
                e.path("attempt").asText(),
                e.path("detail").asText()));
      }
    }
    return out;
  }

  /** The answers the timeline records for {@code branch/op}, as their outcomes. */
  private List<String> answersOf(String gid, String branch, String op) {
    List<String> out = new java.util.ArrayList<>();
    for (JsonNode e : history(gid)) {
      if (e.path("kind").asText().equals("answer")
          && e.path("subject").asText().equals(branch)
          && e.path("op").asText().equals(op)) {
        out.add(e.path("outcome").asText());
      }
    }
    return out;
  }

  private JsonNode history(String gid) {
    Reply history = call("GET", "/api/v1/transactions/" + gid + "/history", Map.of(), "");
    assertThat(history.status()).isEqualTo(200);
    return history.body().get("entries");
  }

  private void create(String body) {
    assertThat(call("POST", "/api/v1/transactions", Map.of(), body).status()).isEqualTo(201);
  }

  private static String saga(String gid) {
    return """
    {"gid": "%s", "mode": "saga", "branches": [
      {"branchId": "reserve", "action": "http://127.0.0.1:9/a", "compensate": "http://127.0.0.1:9/c"},
      {"branchId": "charge", "action": "http://127.0.0.1:9/a", "compensate": "http://127.0.0.1:9/c"}]}
    """
        .formatted(gid);
  }

  private void tccWithOneBranch(String gid) {
    create("{\"gid\":\"" + gid + "\",\"mode\":\"tcc\",\"timeoutSeconds\":3600}");
    assertThat(
            call(
                    "POST",
                    "/api/v1/transactions/" + gid + "/branches",
                    Map.of(),
                    "{\"branchId\":\"stock\",\"try\":\"http://127.0.0.1:9/t\","
                        + "\"confirm\":\"http://127.0.0.1:9/c\",\"cancel\":\"http://127.0.0.1:9/x\"}")
                .status())
        .isEqualTo(200);
  }

  @Test
  void abortOfAnUndecidedTcc_dryRunChangesNothing_thenApplyAbortsAndIsAudited() {
    tccWithOneBranch("tcc-1");

    Reply dry = force("tcc-1", "abort", true, "");

    assertThat(dry.status()).isEqualTo(200);
    assertThat(dry.body().get("allowed").asBoolean()).isTrue();
    assertThat(dry.body().get("rule").asText()).isEqualTo("no-decision");
    assertThat(dry.body().get("changes").toString()).contains("begun → aborting");
    assertThat(status("tcc-1")).isEqualTo("begun");
    assertThat(audit.recent(null, 10)).isEmpty();

    Reply applied = force("tcc-1", "abort", false, "");

    assertThat(applied.status()).isEqualTo(200);
    assertThat(applied.body().get("audit").get("actor").asText()).isEqualTo("operator@7");
    awaitStatus("tcc-1", "aborted");
    Reply entries = call("GET", "/api/v1/audit", Map.of("gid", "tcc-1"), "");
    assertThat(entries.body().get("items")).hasSize(1);
    JsonNode entry = entries.body().get("items").get(0);
    assertThat(entry.get("action").asText()).isEqualTo("force abort");
    assertThat(entry.get("reason").asText()).isEqualTo("OPS-9: checked by hand");
    assertThat(entry.get("result").asText()).contains("begun → aborting");
    // The timeline names the operator's forced abort, not a request of the caller's.
    assertThat(operatorEntries("tcc-1"))
        .containsExactly("force abort||||reason: OPS-9: checked by hand");
    assertThat(history("tcc-1").findValuesAsText("op"))
        .contains("register")
        .doesNotContain("abort");
  }

  @Test
  void aStuckCompensation_cannotBeAborted_butSkippedByHand_andThenTheSagaIsAborted() {
    answers.put("charge/action", new Outcome.Failed("out of stock"));
    answers.put("reserve/compensate", new Outcome.Unknown("HTTP 503"));
    create(saga("saga-1"));
    awaitStatus("saga-1", "aborting");

    Reply abort = force("saga-1", "abort", true, "");
    assertThat(abort.body().get("allowed").asBoolean()).isFalse();
    assertThat(abort.body().get("rule").asText()).isEqualTo("already-aborting");
    Reply action = force("saga-1", "skip-op", true, ",\"branchId\":\"reserve\",\"op\":\"action\"");
    assertThat(action.body().get("rule").asText()).isEqualTo("not-this-phase");
    Reply refused = force("saga-1", "abort", false, "");
    assertThat(refused.status()).isEqualTo(409);
    assertThat(refused.body().get("error").asText()).isEqualTo("force_refused");

    Reply skip =
        force("saga-1", "skip-op", false, ",\"branchId\":\"reserve\",\"op\":\"compensate\"");

    assertThat(skip.status()).as("%s", skip.body()).isEqualTo(200);
    awaitStatus("saga-1", "aborted");
    List<String> actions =
        call("GET", "/api/v1/audit", Map.of(), "").body().findValuesAsText("action");
    assertThat(actions).containsExactly("force skip-op reserve/compensate", "force abort");
    // The timeline shows the skip as the operator's, and no answer of the service's as done.
    assertThat(operatorEntries("saga-1"))
        .singleElement()
        .asString()
        .startsWith("force skip-op|reserve|succeeded|")
        .endsWith("|compensate recorded as done by hand; reason: OPS-9: checked by hand");
    assertThat(answersOf("saga-1", "reserve", "compensate")).isNotEmpty().containsOnly("unknown");
  }

  @Test
  void abortOfARunningSaga_refusesTheStepUnderWay_soEveryCalledStepIsCompensated() {
    answers.put("reserve/action", new Outcome.Pending());
    create(saga("saga-2"));
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> force("saga-2", "abort", true, "").body().get("allowed").asBoolean());

    assertThat(force("saga-2", "abort", false, "").status()).isEqualTo(200);

    awaitStatus("saga-2", "aborted");
    JsonNode tx = call("GET", "/api/v1/transactions/saga-2", Map.of(), "").body();
    assertThat(tx.get("branches").get(0).get("ops").get(0).get("lastError").asText())
        .contains("forced abort by an operator: OPS-9");
    // The refusal is the operator's in the timeline; the service only ever answered "pending".
    assertThat(operatorEntries("saga-2"))
        .singleElement()
        .asString()
        .startsWith("force abort|reserve|failed|")
        .endsWith("|action recorded as refused; reason: OPS-9: checked by hand");
    assertThat(answersOf("saga-2", "reserve", "action")).isNotEmpty().containsOnly("pending");
  }

  @Test
  void markCommitted_onlyOnceTheCommitIsLogged() {
    tccWithOneBranch("tcc-2");
    assertThat(force("tcc-2", "mark-committed", true, "").body().get("rule").asText())
        .isEqualTo("no-commit-decision");
    answers.put("stock/confirm", new Outcome.Unknown("HTTP 503"));
    assertThat(call("POST", "/api/v1/transactions/tcc-2/commit", Map.of(), "").status())
        .isEqualTo(200);
    awaitStatus("tcc-2", "committing");
    await()
        .atMost(Duration.ofSeconds(10))
        .until(() -> force("tcc-2", "mark-committed", true, "").body().get("allowed").asBoolean());
    assertThat(force("tcc-2", "abort", true, "").body().get("rule").asText())
        .isEqualTo("decision-logged");

    assertThat(force("tcc-2", "mark-committed", false, "").status()).isEqualTo(200);

    awaitStatus("tcc-2", "committed");
    assertThat(operatorEntries("tcc-2"))
        .singleElement()
        .asString()
        .startsWith("force mark-committed|stock|succeeded|")
        .endsWith("|confirm recorded as done by hand; reason: OPS-9: checked by hand");
    assertThat(answersOf("tcc-2", "stock", "confirm")).isNotEmpty().containsOnly("unknown");
    assertThat(force("tcc-2", "abort", true, "").body().get("rule").asText()).isEqualTo("final");
  }

  @Test
  void aMessageTransaction_isNeverForcedToAbort() {
    create(
        """
        {"gid": "msg-1", "mode": "msg", "checkUrl": "http://127.0.0.1:9/check",
         "messages": [{"topic": "orders", "payload": {}}]}
        """);

    Reply dry = force("msg-1", "abort", true, "");

    assertThat(dry.body().get("allowed").asBoolean()).isFalse();
    assertThat(dry.body().get("rule").asText()).isEqualTo("producer-decides");
    assertThat(force("msg-1", "mark-committed", true, "").body().get("rule").asText())
        .isEqualTo("deliveries-owed");
  }

  @Test
  void badForceRequests_areNamedFieldByField_andChangeNothing() {
    tccWithOneBranch("tcc-3");

    Reply empty = call("POST", "/api/v1/transactions/tcc-3/force", Map.of(), "{}");
    Reply skip =
        call(
            "POST",
            "/api/v1/transactions/tcc-3/force",
            Map.of(),
            "{\"action\":\"skip-op\",\"reason\":\" \",\"dryRun\":\"yes\",\"op\":\"nap\",\"x\":1}");
    Reply notJson = call("POST", "/api/v1/transactions/tcc-3/force", Map.of(), "abort");
    Reply missing = force("nope", "abort", true, "");

    assertThat(empty.status()).isEqualTo(400);
    assertThat(empty.body().findValuesAsText("field"))
        .containsExactlyInAnyOrder("action", "reason", "dryRun");
    assertThat(skip.body().findValuesAsText("field"))
        .containsExactlyInAnyOrder("reason", "dryRun", "branchId", "op", "x");
    assertThat(notJson.status()).isEqualTo(400);
    assertThat(missing.status()).isEqualTo(404);
    assertThat(status("tcc-3")).isEqualTo("begun");
    assertThat(audit.recent(null, 10)).isEmpty();
  }

  @Test
  void retry_isAuditedWithItsReason() {
    tccWithOneBranch("tcc-4");

    assertThat(
            call("POST", "/api/v1/transactions/tcc-4/retry", Map.of(), "{\"reason\":\"OPS-5\"}")
                .status())
        .isEqualTo(200);

    JsonNode entry = call("GET", "/api/v1/audit", Map.of(), "").body().get("items").get(0);
    assertThat(entry.get("action").asText()).isEqualTo("retry");
    assertThat(entry.get("actor").asText()).isEqualTo("operator@7");
    assertThat(entry.get("reason").asText()).isEqualTo("OPS-5");
    assertThat(call("GET", "/api/v1/audit", Map.of("limit", "0"), "").status()).isEqualTo(400);
  }
}
