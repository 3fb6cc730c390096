package dev.pledge.server.api;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.sun.net.httpserver.HttpServer;
import dev.pledge.core.Gid;
import dev.pledge.core.Limits;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.runtime.Transport;
import dev.pledge.server.http.HttpApiServer;
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
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Pattern;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code docs/openapi.json} and the server in step, by asking the real server rather than by
 * reading its code: a route added, removed or renamed on either side fails a test here.
 *
 * <ul>
 *   <li>Every documented (method, path) is routed: driven with a route-shaped request it answers
 *       neither "no route" nor 405; another method on a documented path answers 405; and a set of
 *       near-miss paths built from the document's own words answers 404 to every method.
 *   <li>Every request example is sent, in document order, to a fresh coordinator: the answer's
 *       status is one the document lists for the operation, equals the example's {@code
 *       x-expected-status}, and its body fits the documented schema.
 *   <li>The webhooks (the participant protocol) name exactly the {@code Pledge-*} headers the real
 *       {@link HttpEffects} sends, and each documented answer maps to the documented outcome.
 * </ul>
 */
class OpenApiDocumentTest {
  private static final List<String> METHODS = List.of("GET", "POST", "PUT", "DELETE", "PATCH");

  private static final String PROBE = "route-probe";

  private final ObjectMapper json = new ObjectMapper();
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();
  private final AtomicInteger generated = new AtomicInteger();
  private JsonNode document;
  private ServerRuntime coordinator;
  private HttpApiServer server;
  private String base;

  /** Participants that always say yes, so that the examples call no real service. */
  private static final class Succeed implements Transport {
    @Override
    public java.util.concurrent.CompletableFuture<Outcome> call(Effect.CallOp call) {
      return java.util.concurrent.CompletableFuture.completedFuture(Outcome.SUCCEEDED);
    }

    @Override
    public java.util.concurrent.CompletableFuture<Outcome> checkBack(Effect.CheckBack check) {
      return java.util.concurrent.CompletableFuture.completedFuture(Outcome.PENDING);
    }

    @Override
    public java.util.concurrent.CompletableFuture<Outcome> deliver(
        Effect.Deliver delivery, String target) {
      return java.util.concurrent.CompletableFuture.completedFuture(Outcome.SUCCEEDED);
    }
  }

  @BeforeEach
  void start() throws IOException {
    document = json.readTree(Files.readString(openApiFile()));
    InMemoryTransactionLog log = new InMemoryTransactionLog();
    Subscriptions subscriptions = new Subscriptions(new InMemorySubscriptionStore());
    coordinator =
        TestRuntimes.start(
            new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT),
            log,
            new Succeed(),
            subscriptions,
            Duration.ofMillis(50));
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
                () -> "generated-" + generated.incrementAndGet()));
    base = "http://127.0.0.1:" + server.port();
  }

  @AfterEach
  void stop() {
    server.close();
    coordinator.close();
  }

  /** docs/openapi.json, found from the module's folder (Surefire's working directory) upward. */
  private static Path openApiFile() {
    for (Path dir = Path.of("").toAbsolutePath(); dir != null; dir = dir.getParent()) {
      Path candidate = dir.resolve("docs").resolve("openapi.json");
      if (Files.isRegularFile(candidate)) {
        return candidate;
      }
    }
    throw new AssertionError("docs/openapi.json not found above " + Path.of("").toAbsolutePath());
  }

  private record Reply(int status, String contentType, String body) {}

  private Reply send(String method, String pathAndQuery, String body)
      throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create(base + pathAndQuery))
            .timeout(Duration.ofSeconds(10))
            .header("Content-Type", "application/json")
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build();
    HttpResponse<String> response = client.send(request, HttpResponse.BodyHandlers.ofString());
    return new Reply(
        response.statusCode(),
        response.headers().firstValue("Content-Type").orElse(""),
        response.body());
  }

  /** (method, path template) for every operation under {@code paths}. */
  private Set<String> documentedOperations() {
    Set<String> operations = new TreeSet<>();
    document
        .path("paths")
        .fields()
        .forEachRemaining(path ->
            path.getValue()
                .fieldNames()
                .forEachRemaining(method -> {
                  if (METHODS.contains(method.toUpperCase(Locale.ROOT))) {
                    operations.add(method.toUpperCase(Locale.ROOT) + " " + path.getKey());
                  }
                }));
    return operations;
  }

  private List<String> templates() {
    List<String> templates = new ArrayList<>();
    document.path("paths").fieldNames().forEachRemaining(templates::add);
    return templates;
  }

  private static Pattern templatePattern(String template) {
    return Pattern.compile(
        Pattern.quote(template).replaceAll("\\{[^}]+}", "\\\\E[^/]+\\\\Q").replace("\\Q\\E", ""));
  }

  private boolean isDocumentedPath(String path) {
    return templates().stream().anyMatch(t -> templatePattern(t).matcher(path).matches());
  }

  private static boolean isNoRoute(Reply reply) {
    return reply.status() == 404 && reply.body().contains("no route");
  }

  @Test
  void theDocumentedOperations_areExactlyTheOnesTheServerRoutes() throws Exception {
    Set<String> documented = documentedOperations();
    assertThat(documented)
        .as("the document lists the API of DESIGN.md")
        .contains(
            "POST /api/v1/transactions",
            "GET /api/v1/transactions",
            "GET /api/v1/transactions/{gid}",
            "POST /api/v1/transactions/{gid}/branches",
            "POST /api/v1/transactions/{gid}/commit",
            "POST /api/v1/transactions/{gid}/abort",
            "POST /api/v1/transactions/{gid}/retry",
            "PUT /api/v1/subscriptions/{name}",
            "GET /health",
            "GET /metrics");
    // A transaction for the {gid} routes to act on, so that a 404 can only mean "no route".
    assertThat(
            send("POST", "/api/v1/transactions", "{\"gid\":\"" + PROBE + "\",\"mode\":\"tcc\"}")
                .status())
        .isEqualTo(201);

    List<String> problems = new ArrayList<>();
    for (String template : templates()) {
      String path = template.replaceAll("\\{[^}]+}", PROBE);
      for (String method : METHODS) {
        Reply reply = send(method, path, "{}");
        boolean isDocumented = documented.contains(method + " " + template);
        if (isDocumented && (isNoRoute(reply) || reply.status() == 405)) {
          problems.add(
              "documented but not routed: " + method + " " + path + " -> " + reply.status());
        } else if (!isDocumented && reply.status() != 405) {
          problems.add(
              "routed but not documented: "
                  + method
                  + " "
                  + path
                  + " -> "
                  + reply.status()
                  + " (expected 405)");
        }
      }
    }

    // Near misses: every documented path with one of the document's words appended or put in
    // place of its last segment, and a few hand-picked shapes. Those that match no documented
    // template must be unknown to the server.
    Set<String> words = new LinkedHashSet<>();
    for (String template : templates()) {
      for (String segment : template.split("/", -1)) {
        if (!segment.isEmpty() && !segment.startsWith("{")) {
          words.add(segment);
        }
      }
    }
    // Verbs a coordinator might route that the document does not use, so that a route added to
    // the server alone is found even when its word appears nowhere in the document.
    words.addAll(
        List.of(
            "retry",
            "register",
            "flag",
            "confirm",
            "cancel",
            "rollback",
            "prepare",
            "check",
            "history",
            "messages",
            "deliveries",
            "status",
            "events",
            "x"));
    Set<String> candidates =
        new LinkedHashSet<>(
            List.of(
                "/",
                "/api",
                "/api/v1",
                "/api/v1/",
                "/api/v2/transactions",
                "/api/v1/transactions/",
                "/api/v1/subscriptions",
                "/api/v1/subscriptions/",
                "/healthz",
                "/health/",
                "/metrics/"));
    for (String template : templates()) {
      String path = template.replaceAll("\\{[^}]+}", PROBE);
      String parent = path.substring(0, path.lastIndexOf('/'));
      for (String word : words) {
        candidates.add(path + "/" + word);
        candidates.add(parent + "/" + word + "/" + PROBE);
        candidates.add(parent + "/" + PROBE + "/" + word);
      }
    }
    int probed = 0;
    for (String candidate : candidates) {
      if (isDocumentedPath(candidate)) {
        continue;
      }
      for (String method : METHODS) {
        Reply reply = send(method, candidate, "{}");
        probed++;
        if (reply.status() != 404) {
          problems.add(
              "routed but not documented: "
                  + method
                  + " "
                  + candidate
                  + " -> "
                  + reply.status()
                  + " "
                  + reply.body());
        }
      }
    }
    assertThat(probed).as("near-miss requests sent").isGreaterThan(200);
    assertThat(problems).isEmpty();
  }

  @Test
  void everyRequestExample_getsTheDocumentedStatus_andADocumentedBody() throws Exception {
    List<String> problems = new ArrayList<>();
    int sent = 0;
    for (Iterator<Map.Entry<String, JsonNode>> paths = document.path("paths").fields();
        paths.hasNext(); ) {
      Map.Entry<String, JsonNode> path = paths.next();
      for (Iterator<Map.Entry<String, JsonNode>> ops = path.getValue().fields(); ops.hasNext(); ) {
        Map.Entry<String, JsonNode> entry = ops.next();
        String method = entry.getKey().toUpperCase(Locale.ROOT);
        if (!METHODS.contains(method)) {
          continue;
        }
        JsonNode operation = entry.getValue();
        for (Example example : examples(operation)) {
          String target = resolve(path.getKey(), operation, example.name());
          Reply reply =
              send(
                  method,
                  target,
                  example.body() == null ? null : json.writeValueAsString(example.body()));
          sent++;
          String what = method + " " + target + " [" + example.name() + "] -> " + reply.status();
          JsonNode response = operation.path("responses").path(Integer.toString(reply.status()));
          if (response.isMissingNode()) {
            problems.add(what + ": status not listed in the document; body " + reply.body());
            continue;
          }
          if (example.expectedStatus() != null && example.expectedStatus() != reply.status()) {
            problems.add(
                what
                    + ": the document expects "
                    + example.expectedStatus()
                    + "; body "
                    + reply.body());
          }
          checkBody(what, response, reply, problems);
        }
      }
    }
    assertThat(sent).as("request examples sent").isGreaterThanOrEqualTo(30);
    assertThat(problems).isEmpty();
  }

  /** One request example: its name, its body (or null), and the status the document expects. */
  private record Example(String name, JsonNode body, Integer expectedStatus) {}

  /**
   * The request body examples of an operation, or its {@code x-examples} when it has no body, or
   * one nameless example when it has neither.
   */
  private static List<Example> examples(JsonNode operation) {
    List<Example> examples = new ArrayList<>();
    JsonNode bodies = operation.path("requestBody").path("content").path("application/json");
    if (bodies.has("examples")) {
      bodies
          .path("examples")
          .fields()
          .forEachRemaining(e ->
              examples.add(
                  new Example(e.getKey(), e.getValue().path("value"), expected(e.getValue()))));
    } else if (operation.has("x-examples")) {
      operation
          .path("x-examples")
          .fields()
          .forEachRemaining(
              e -> examples.add(new Example(e.getKey(), null, expected(e.getValue()))));
    } else {
      examples.add(new Example("", null, null));
    }
    return examples;
  }

  private static Integer expected(JsonNode example) {
    return example.has("x-expected-status") ? example.get("x-expected-status").asInt() : null;
  }

  /** The path with its parameters, and the query, of the example called {@code name}. */
  private static String resolve(String template, JsonNode operation, String name) {
    String path = template;
    StringBuilder query = new StringBuilder();
    for (JsonNode parameter : operation.path("parameters")) {
      JsonNode value = parameter.path("examples").path(name).path("value");
      if (value.isMissingNode()) {
        value = parameter.path("example");
      }
      String in = parameter.path("in").asText();
      if (in.equals("path")) {
        assertThat(value.isMissingNode())
            .as(
                "example '%s' of %s names path parameter %s",
                name, template, parameter.path("name"))
            .isFalse();
        path =
            path.replace(
                "{" + parameter.path("name").asText() + "}",
                URLEncoder.encode(value.asText(), StandardCharsets.UTF_8).replace("+", "%20"));
      } else if (in.equals("query") && !value.isMissingNode()) {
        query
            .append(query.isEmpty() ? "?" : "&")
            .append(parameter.path("name").asText())
            .append('=')
            .append(URLEncoder.encode(value.asText(), StandardCharsets.UTF_8));
      }
    }
    return path + query;
  }

  private void checkBody(String what, JsonNode response, Reply reply, List<String> problems)
      throws IOException {
    JsonNode content = response.path("content");
    if (content.isMissingNode() || content.isEmpty()) {
      return;
    }
    String mediaType = content.fieldNames().next();
    if (!reply.contentType().equals(mediaType)) {
      problems.add(what + ": Content-Type " + reply.contentType() + ", documented " + mediaType);
      return;
    }
    JsonNode schema = content.path(mediaType).path("schema");
    if (!mediaType.equals("application/json") || schema.isMissingNode()) {
      return;
    }
    validate(json.readTree(reply.body()), schema, "$", what, problems);
  }

  /**
   * A small JSON Schema check, enough for the document's own schemas: $ref, type, required,
   * properties, additionalProperties false, items, enum and const. Keywords it does not know are
   * not checked.
   */
  private void validate(
      JsonNode value, JsonNode schema, String at, String what, List<String> problems) {
    if (schema.has("$ref")) {
      String name = schema.get("$ref").asText().replace("#/components/schemas/", "");
      JsonNode target = document.path("components").path("schemas").path(name);
      assertThat(target.isMissingNode()).as("$ref %s resolves", name).isFalse();
      validate(value, target, at, what, problems);
      return;
    }
    if (schema.has("enum")) {
      boolean found = false;
      for (JsonNode allowed : schema.get("enum")) {
        found |= allowed.equals(value);
      }
      if (!found) {
        problems.add(what + ": " + at + " = " + value + " is not one of " + schema.get("enum"));
      }
    }
    if (schema.has("const") && !schema.get("const").equals(value)) {
      problems.add(what + ": " + at + " = " + value + ", documented " + schema.get("const"));
    }
    String type = schema.path("type").asText("");
    switch (type) {
      case "object" -> {
        if (!value.isObject()) {
          problems.add(what + ": " + at + " is not an object: " + value);
          return;
        }
        for (JsonNode required : schema.path("required")) {
          if (!value.has(required.asText())) {
            problems.add(what + ": " + at + " lacks required " + required.asText());
          }
        }
        JsonNode properties = schema.path("properties");
        for (Iterator<Map.Entry<String, JsonNode>> it = value.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> field = it.next();
          if (properties.has(field.getKey())) {
            validate(
                field.getValue(),
                properties.get(field.getKey()),
                at + "." + field.getKey(),
                what,
                problems);
          } else if (schema.path("additionalProperties").isBoolean()
              && !schema.path("additionalProperties").asBoolean()) {
            problems.add(what + ": " + at + " has undocumented field " + field.getKey());
          }
        }
      }
      case "array" -> {
        if (!value.isArray()) {
          problems.add(what + ": " + at + " is not an array: " + value);
          return;
        }
        for (int i = 0; i < value.size(); i++) {
          validate(value.get(i), schema.path("items"), at + "[" + i + "]", what, problems);
        }
      }
      case "string" -> {
        if (!value.isTextual()) {
          problems.add(what + ": " + at + " is not a string: " + value);
        }
      }
      case "integer" -> {
        if (!value.isIntegralNumber()) {
          problems.add(what + ": " + at + " is not an integer: " + value);
        }
      }
      case "boolean" -> {
        if (!value.isBoolean()) {
          problems.add(what + ": " + at + " is not a boolean: " + value);
        }
      }
      default -> {}
    }
  }

  @Test
  void theDocument_isOpenApi31_withEveryReferenceResolving() {
    assertThat(document.path("openapi").asText()).isEqualTo("3.1.0");
    List<String> refs = new ArrayList<>();
    collectRefs(document, refs);
    assertThat(refs).isNotEmpty();
    for (String ref : refs) {
      assertThat(ref).startsWith("#/components/schemas/");
      assertThat(
              document
                  .path("components")
                  .path("schemas")
                  .has(ref.substring("#/components/schemas/".length())))
          .as("%s resolves", ref)
          .isTrue();
    }
    assertThat(document.path("webhooks").fieldNames())
        .toIterable()
        .containsExactlyInAnyOrder("participantOp", "checkBack", "delivery");
  }

  private static void collectRefs(JsonNode node, List<String> refs) {
    if (node.isObject()) {
      node.fields()
          .forEachRemaining(field -> {
            if (field.getKey().equals("$ref")) {
              refs.add(field.getValue().asText());
            } else {
              collectRefs(field.getValue(), refs);
            }
          });
    } else if (node.isArray()) {
      node.forEach(child -> collectRefs(child, refs));
    }
  }

  // ---- The webhooks against the real participant transport ----

  /** What a fake participant saw of one request, and what it answers next. */
  private static final class Participant implements AutoCloseable {
    final HttpServer http;
    final AtomicReference<Map<String, String>> headers = new AtomicReference<>();
    final AtomicReference<String> methodAndQuery = new AtomicReference<>();
    volatile int status = 200;
    volatile String body = "";

    Participant() throws IOException {
      http = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      http.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
      http.createContext(
          "/",
          exchange -> {
            Map<String, String> seen = new LinkedHashMap<>();
            exchange
                .getRequestHeaders()
                .forEach((name, values) -> seen.put(name.toLowerCase(Locale.ROOT), values.get(0)));
            headers.set(seen);
            methodAndQuery.set(
                exchange.getRequestMethod() + " " + exchange.getRequestURI().getRawQuery());
            exchange.getRequestBody().readAllBytes();
            byte[] answer = body.getBytes(StandardCharsets.UTF_8);
            exchange.sendResponseHeaders(status, answer.length == 0 ? -1 : answer.length);
            if (answer.length > 0) {
              exchange.getResponseBody().write(answer);
            }
            exchange.close();
          });
      http.start();
    }

    String url(String path) {
      return "http://127.0.0.1:" + http.getAddress().getPort() + path;
    }

    /** The Pledge-* headers of the last request, lower-cased. */
    Set<String> pledgeHeaders() {
      Set<String> names = new TreeSet<>();
      headers.get().keySet().stream().filter(h -> h.startsWith("pledge-")).forEach(names::add);
      return names;
    }

    @Override
    public void close() {
      http.stop(0);
    }
  }

  /** The header parameters a webhook documents, lower-cased; required ones only if asked. */
  private Set<String> documentedHeaders(String webhook, String method, boolean requiredOnly) {
    Set<String> names = new TreeSet<>();
    for (JsonNode parameter :
        document.path("webhooks").path(webhook).path(method).path("parameters")) {
      if (parameter.path("in").asText().equals("header")
          && (!requiredOnly || parameter.path("required").asBoolean())) {
        names.add(parameter.path("name").asText().toLowerCase(Locale.ROOT));
      }
    }
    return names;
  }

  private static String outcomeName(Outcome outcome) {
    return switch (outcome) {
      case Outcome.Succeeded s -> "succeeded";
      case Outcome.Failed f -> "failed";
      case Outcome.Pending p -> "pending";
      case Outcome.Unknown u -> "unknown";
    };
  }

  /**
   * A concrete status for a documented response key: 2XX is 200 and 204, default is 500 and 302.
   */
  private static List<Integer> statusesOf(String key) {
    return switch (key) {
      case "2XX" -> List.of(200, 204);
      case "default" -> List.of(500, 302, 404);
      default -> List.of(Integer.parseInt(key));
    };
  }

  private static Outcome await(java.util.concurrent.CompletableFuture<Outcome> outcome)
      throws InterruptedException, ExecutionException, TimeoutException {
    return outcome.get(10, TimeUnit.SECONDS);
  }

  @Test
  void theWebhooks_describeWhatTheCoordinatorSends_andHowItReadsTheAnswers() throws Exception {
    HttpEffects effects = new HttpEffects(Duration.ofSeconds(5), AllowList.loopbackOnly());
    Gid gid = Gid.of("order-1001");
    try (Participant participant = new Participant()) {
      // An op: the documented headers are exactly the Pledge-* headers sent; the answers map to
      // the documented outcomes.
      JsonNode opResponses =
          document.path("webhooks").path("participantOp").path("post").path("responses");
      for (Iterator<Map.Entry<String, JsonNode>> it = opResponses.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> response = it.next();
        for (int status : statusesOf(response.getKey())) {
          participant.status = status;
          participant.body = status == 409 ? "{\"reason\":\"out of stock\"}" : "";
          Outcome outcome =
              await(
                  effects.call(
                      new Effect.CallOp(
                          gid, Mode.SAGA, "1", Op.ACTION, 3, participant.url("/reserve"), "{}")));
          assertThat(outcomeName(outcome))
              .as("participantOp answered %s", status)
              .isEqualTo(response.getValue().path("x-outcome").asText());
        }
      }
      assertThat(participant.methodAndQuery.get()).isEqualTo("POST null");
      assertThat(participant.pledgeHeaders())
          .isEqualTo(documentedHeaders("participantOp", "post", true));
      assertThat(participant.headers.get())
          .containsEntry("pledge-gid", "order-1001")
          .containsEntry("pledge-branch", "1")
          .containsEntry("pledge-op", "action")
          .containsEntry("pledge-mode", "saga")
          .containsEntry("pledge-attempt", "3");

      // Check-back: GET with the gid in the query; the 2xx body examples map to outcomes.
      participant.status = 200;
      JsonNode checkExamples =
          document
              .path("webhooks")
              .path("checkBack")
              .path("get")
              .path("responses")
              .path("2XX")
              .path("content")
              .path("application/json")
              .path("examples");
      assertThat(checkExamples.size()).isGreaterThanOrEqualTo(3);
      for (Iterator<Map.Entry<String, JsonNode>> it = checkExamples.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> example = it.next();
        participant.body = json.writeValueAsString(example.getValue().path("value"));
        Outcome outcome =
            await(effects.checkBack(new Effect.CheckBack(gid, participant.url("/check"), 1)));
        assertThat(outcomeName(outcome))
            .as("check-back answered %s", participant.body)
            .isEqualTo(example.getValue().path("x-outcome").asText());
      }
      participant.status = 500;
      participant.body = "";
      assertThat(
              outcomeName(
                  await(
                      effects.checkBack(new Effect.CheckBack(gid, participant.url("/check"), 1)))))
          .isEqualTo(
              document
                  .path("webhooks")
                  .path("checkBack")
                  .path("get")
                  .path("responses")
                  .path("default")
                  .path("x-outcome")
                  .asText());
      assertThat(participant.methodAndQuery.get()).isEqualTo("GET gid=order-1001");
      assertThat(participant.pledgeHeaders())
          .isEqualTo(documentedHeaders("checkBack", "get", true));

      // A delivery: the documented headers (Pledge-Key only with a key), and ack on 2xx only.
      JsonNode deliveryResponses =
          document.path("webhooks").path("delivery").path("post").path("responses");
      for (Iterator<Map.Entry<String, JsonNode>> it = deliveryResponses.fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> response = it.next();
        for (int status : statusesOf(response.getKey())) {
          participant.status = status;
          Outcome outcome =
              await(
                  effects.deliver(
                      new Effect.Deliver(
                          gid,
                          "order-1001#1",
                          "shipping",
                          1,
                          "orders.created",
                          "k-1",
                          "{}",
                          Map.of("Trace-Id", "4bf92f35")),
                      participant.url("/inbox")));
          assertThat(outcomeName(outcome))
              .as("delivery answered %s", status)
              .isEqualTo(response.getValue().path("x-outcome").asText());
        }
      }
      for (int status : List.of(409, 425)) {
        participant.status = status;
        assertThat(
                outcomeName(
                    await(
                        effects.deliver(
                            new Effect.Deliver(
                                gid,
                                "order-1001#1",
                                "shipping",
                                1,
                                "orders.created",
                                "k-1",
                                "{}",
                                Map.of()),
                            participant.url("/inbox")))))
            .as("a delivery answered %s is not acknowledged", status)
            .isEqualTo("unknown");
      }
      assertThat(participant.pledgeHeaders())
          .isEqualTo(documentedHeaders("delivery", "post", false));
      participant.status = 200;
      await(
          effects.deliver(
              new Effect.Deliver(
                  gid, "order-1001#2", "shipping", 1, "orders.created", null, "{}", Map.of()),
              participant.url("/inbox")));
      assertThat(participant.pledgeHeaders())
          .isEqualTo(documentedHeaders("delivery", "post", true));
    }
  }
}
