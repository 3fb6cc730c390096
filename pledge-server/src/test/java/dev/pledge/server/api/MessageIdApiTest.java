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
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * {@code messages[].id}: a producer's own message id, validated with the field named, carried to
 * the deliveries, kept by a retried create, and named positionally in dead letters.
 */
class MessageIdApiTest {
  private final ObjectMapper json = new ObjectMapper();
  private final InMemoryTransactionLog log = new InMemoryTransactionLog();
  private final List<String> delivered = new CopyOnWriteArrayList<>();
  private final Subscriptions subscriptions = new Subscriptions(new InMemorySubscriptionStore());
  private final Transport transport =
      new Transport() {
        @Override
        public CompletableFuture<Outcome> call(Effect.CallOp call) {
          return CompletableFuture.completedFuture(Outcome.SUCCEEDED);
        }

        @Override
        public CompletableFuture<Outcome> checkBack(Effect.CheckBack check) {
          return CompletableFuture.completedFuture(new Outcome.Failed("rolled_back"));
        }

        @Override
        public CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target) {
          delivered.add(delivery.messageId() + " -> " + target);
          return CompletableFuture.completedFuture(Outcome.SUCCEEDED);
        }
      };
  private final ServerRuntime runtime =
      TestRuntimes.start(
          new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT),
          log,
          transport,
          subscriptions,
          Duration.ofMillis(50));
  private final Api api =
      new Api(
          runtime,
          log,
          Limits.DEFAULT,
          subscriptions,
          AllowList.loopbackOnly(),
          new InMemoryAuditLog(),
          () -> "generated");

  @AfterEach
  void stop() {
    runtime.close();
  }

  private record Reply(int status, JsonNode body) {}

  private Reply call(String method, String path, String body) {
    ApiResponse response =
        api.handle(method, path, Map.of(), body.getBytes(StandardCharsets.UTF_8));
    try {
      return new Reply(response.status(), json.readTree(response.body()));
    } catch (IOException e) {
      throw new AssertionError("not JSON: " + response.body(), e);
    }
  }

  private static String msg(String gid, String firstId, String secondId) {
    return """
    {"gid": "%s", "mode": "msg", "checkUrl": "http://127.0.0.1:9/check", "messages": [
      {"id": %s, "topic": "orders", "key": "o-1", "payload": {"n": 1}},
      {"id": %s, "topic": "orders", "payload": {"n": 2}}]}
    """
        .formatted(gid, firstId, secondId);
  }

  @Test
  void producersIds_areTheMessageIds_carriedToEveryDelivery() {
    assertThat(
            call(
                    "PUT",
                    "/api/v1/subscriptions/shipping",
                    "{\"topic\":\"orders\",\"target\":\"http://127.0.0.1:9/inbox\"}")
                .status())
        .isEqualTo(200);
    assertThat(call("POST", "/api/v1/transactions", msg("m-1", "\"row-7\"", "null")).status())
        .isEqualTo(201);

    assertThat(call("POST", "/api/v1/transactions/m-1/commit", "").status()).isEqualTo(200);

    await()
        .atMost(Duration.ofSeconds(20))
        .untilAsserted(() ->
            assertThat(delivered)
                .containsExactlyInAnyOrder(
                    "row-7 -> http://127.0.0.1:9/inbox", "m-1#2 -> http://127.0.0.1:9/inbox"));
    JsonNode view = call("GET", "/api/v1/transactions/m-1", "").body();
    assertThat(view.path("messages").findValuesAsText("messageId"))
        .containsExactly("row-7", "m-1#2");
  }

  @Test
  void aRetriedCreate_withTheSameIds_isTheSameTransaction_withOtherIds_409() {
    assertThat(call("POST", "/api/v1/transactions", msg("m-2", "\"a\"", "\"b\"")).status())
        .isEqualTo(201);
    call("POST", "/api/v1/transactions/m-2/commit", "");

    assertThat(call("POST", "/api/v1/transactions", msg("m-2", "\"a\"", "\"b\"")).status())
        .isEqualTo(201);
    assertThat(call("POST", "/api/v1/transactions", msg("m-2", "\"a\"", "\"c\"")).status())
        .isEqualTo(409);
    assertThat(call("POST", "/api/v1/transactions", msg("m-2", "\"a\"", "null")).status())
        .isEqualTo(409);
    assertThat(log.size()).isEqualTo(1);
  }

  @Test
  void badIds_answer400NamingTheField_andNothingIsCreated() {
    Reply badCharacters = call("POST", "/api/v1/transactions", msg("m-3", "\"a b\"", "\"ok\""));
    Reply tooLong =
        call("POST", "/api/v1/transactions", msg("m-3", "\"" + "x".repeat(201) + "\"", "null"));
    Reply notText = call("POST", "/api/v1/transactions", msg("m-3", "7", "null"));
    Reply twice = call("POST", "/api/v1/transactions", msg("m-3", "\"same\"", "\"same\""));
    Reply empty = call("POST", "/api/v1/transactions", msg("m-3", "\"\"", "null"));

    for (Reply reply : List.of(badCharacters, tooLong, notText, twice, empty)) {
      assertThat(reply.status()).isEqualTo(400);
    }
    assertThat(badCharacters.body().path("fields").findValuesAsText("field"))
        .containsExactly("messages[0].id");
    assertThat(badCharacters.body().path("fields").findValuesAsText("reason"))
        .containsExactly("must match [A-Za-z0-9._:#-]{1,200}");
    assertThat(tooLong.body().path("fields").findValuesAsText("field"))
        .containsExactly("messages[0].id");
    assertThat(notText.body().path("fields").findValuesAsText("field"))
        .containsExactly("messages[0].id");
    assertThat(empty.body().path("fields").findValuesAsText("field"))
        .containsExactly("messages[0].id");
    assertThat(twice.body().path("fields").findValuesAsText("field"))
        .containsExactly("messages[1].id");
    assertThat(twice.body().path("fields").findValuesAsText("reason"))
        .containsExactly("the same as messages[0].id");
    assertThat(log.size()).isZero();
  }
}
