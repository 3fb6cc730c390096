package dev.pledge.server.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.runtime.RuntimeConfig;
import dev.pledge.core.spi.SubscriptionStore;
import dev.pledge.server.api.Api;
import dev.pledge.server.http.HttpApiServer;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.HttpEffects;
import dev.pledge.server.runtime.LongPolls;
import dev.pledge.server.runtime.ServerRuntime;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.testkit.InMemoryAuditLog;
import dev.pledge.testkit.InMemorySubscriptionStore;
import dev.pledge.testkit.InMemoryTransactionLog;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.stream.Collectors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The coordinator's traces, end to end: the real runtime and HTTP API, a real HTTP participant on
 * loopback recording the {@code traceparent} of every call it receives, and the OpenTelemetry SDK
 * exporting to memory. One global transaction is one trace: its span, a child span per op call or
 * delivery, and the participant saw the very span that made the call.
 */
class TracingTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  /** A participant's view of one call: the path it came to and its {@code traceparent}. */
  private record Received(String path, String op, String traceparent) {}

  private final InMemorySpanExporter exported = InMemorySpanExporter.create();
  private final List<Received> received = new CopyOnWriteArrayList<>();
  private final Map<String, Integer> answers = new ConcurrentHashMap<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private OpenTelemetrySdk sdk;
  private Tracing tracing;
  private ServerRuntime runtime;
  private HttpApiServer server;
  private HttpServer participant;
  private Subscriptions subscriptions;
  private String api;
  private String base;
  private String gid;

  @BeforeEach
  void start(TestInfo test) throws IOException {
    gid = test.getTestMethod().orElseThrow().getName();
    sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(exported))
                    .build())
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();
    tracing = Tracing.with(sdk, 1000);

    participant = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    participant.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    participant.createContext(
        "/",
        exchange -> {
          try (exchange;
              InputStream body = exchange.getRequestBody()) {
            body.readAllBytes();
            String path = exchange.getRequestURI().getPath();
            received.add(
                new Received(
                    path,
                    exchange.getRequestHeaders().getFirst("Pledge-Op"),
                    exchange.getRequestHeaders().getFirst("traceparent")));
            byte[] answer =
                path.startsWith("/check") ? "{\"status\":\"committed\"}".getBytes() : new byte[0];
            exchange.sendResponseHeaders(
                answers.getOrDefault(path, 200), answer.length == 0 ? -1 : answer.length);
            if (answer.length > 0) {
              exchange.getResponseBody().write(answer);
            }
          }
        });
    participant.start();
    base = "http://127.0.0.1:" + participant.getAddress().getPort();

    RetryPolicy policy =
        new RetryPolicy(
            Duration.ofMillis(50), Duration.ofMillis(500), 2.0, 0.2, Duration.ofSeconds(2), 10);
    InMemoryTransactionLog log = new InMemoryTransactionLog();
    subscriptions = new Subscriptions(new InMemorySubscriptionStore());
    runtime =
        ServerRuntime.start(
            RuntimeConfig.defaults(policy.callTimeout()).withPollInterval(Duration.ofMillis(100)),
            new Engine(Limits.DEFAULT, policy),
            log,
            tracing.transport(
                new HttpEffects(
                    policy.callTimeout(), AllowList.loopbackOnly(), tracing.outgoingHeaders())),
            subscriptions,
            LongPolls.DEFAULT_MAX_WAITERS,
            List.of(tracing.listener()));
    server =
        HttpApiServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            new Api(
                runtime,
                log,
                Limits.DEFAULT,
                subscriptions,
                AllowList.loopbackOnly(),
                new InMemoryAuditLog(),
                () -> "generated"),
            HttpApiServer.MAX_CONCURRENT_REQUESTS,
            null,
            tracing);
    api = "http://127.0.0.1:" + server.port() + "/api/v1";
  }

  @AfterEach
  void stop() {
    server.close();
    runtime.close();
    participant.stop(0);
    sdk.close();
  }

  @Test
  void saga_isOneTrace_andEachParticipantCallCarriesItsOwnSpan() throws Exception {
    post("/transactions", sagaOf(gid, List.of("1", "2")), Map.of());
    awaitFinal("committed");
    SpanData transaction = awaitTransactionSpan();

    List<SpanData> calls = spansOf(gid, SpanKind.CLIENT);
    assertThat(calls)
        .extracting(SpanData::getName)
        .containsExactlyInAnyOrder("pledge saga action", "pledge saga action");
    assertThat(calls)
        .allSatisfy(call -> {
          assertThat(call.getTraceId()).isEqualTo(transaction.getTraceId());
          assertThat(call.getParentSpanId()).isEqualTo(transaction.getSpanId());
        });
    assertThat(received)
        .extracting(Received::traceparent)
        .containsExactlyInAnyOrderElementsOf(
            calls.stream().map(TracingTest::traceparentOf).toList());
    assertThat(transaction.getAttributes().get(TransactionSpans.STATUS)).isEqualTo("committed");
    assertThat(transaction.getParentSpanContext().isValid()).isFalse();
    assertThat(tracing.openTransactions()).isZero();
  }

  @Test
  void sagaThatCompensates_keepsEveryCallInTheTrace() throws Exception {
    answers.put("/2/action", 409);
    post("/transactions", sagaOf(gid, List.of("1", "2")), Map.of());
    awaitFinal("aborted");
    SpanData transaction = awaitTransactionSpan();

    List<SpanData> calls = spansOf(gid, SpanKind.CLIENT);
    assertThat(calls)
        .extracting(SpanData::getName)
        .contains("pledge saga action", "pledge saga compensate");
    assertThat(calls).extracting(SpanData::getTraceId).containsOnly(transaction.getTraceId());
    assertThat(received)
        .extracting(Received::traceparent)
        .containsExactlyInAnyOrderElementsOf(
            calls.stream().map(TracingTest::traceparentOf).toList());
    assertThat(transaction.getAttributes().get(TransactionSpans.STATUS)).isEqualTo("aborted");
  }

  @Test
  void traceparentOnTheCreatingRequest_makesTheTransactionItsChild() throws Exception {
    String callerTrace = "4bf92f3577b34da6a3ce929d0e0e4736";
    String callerSpan = "00f067aa0ba902b7";
    post(
        "/transactions",
        sagaOf(gid, List.of("1")),
        Map.of("traceparent", "00-" + callerTrace + "-" + callerSpan + "-01"));
    awaitFinal("committed");
    SpanData transaction = awaitTransactionSpan();

    assertThat(transaction.getTraceId()).isEqualTo(callerTrace);
    assertThat(transaction.getParentSpanId()).isEqualTo(callerSpan);
    assertThat(received)
        .extracting(Received::traceparent)
        .allSatisfy(parent -> assertThat(parent).startsWith("00-" + callerTrace + "-"));
  }

  @Test
  void msgDeliveryAndCheckBack_carryTheTrace() throws Exception {
    subscriptions.put(new SubscriptionStore.Subscription("shipping", "orders", base + "/inbox"));
    post(
        "/transactions",
        "{\"gid\":\""
            + gid
            + "\",\"mode\":\"msg\",\"timeoutSeconds\":1,\"checkUrl\":\""
            + base
            + "/check\",\"messages\":[{\"topic\":\"orders\",\"key\":\"o1\","
            + "\"payload\":{\"id\":1}}]}",
        Map.of());
    // Nobody commits: after the timeout the coordinator asks the producer, which says committed.
    awaitFinal("committed");
    SpanData transaction = awaitTransactionSpan();

    List<SpanData> check = spansOf(gid, SpanKind.CLIENT);
    List<SpanData> deliveries = spansOf(gid, SpanKind.PRODUCER);
    assertThat(check).extracting(SpanData::getName).containsOnly("pledge msg check");
    assertThat(deliveries).extracting(SpanData::getName).containsExactly("pledge deliver orders");
    assertThat(received)
        .filteredOn(r -> r.path().equals("/inbox"))
        .extracting(Received::traceparent)
        .containsExactly(traceparentOf(deliveries.get(0)));
    assertThat(received)
        .filteredOn(r -> r.path().equals("/check"))
        .extracting(Received::traceparent)
        .containsExactlyInAnyOrderElementsOf(
            check.stream().map(TracingTest::traceparentOf).toList());
    assertThat(deliveries.get(0).getTraceId()).isEqualTo(transaction.getTraceId());
  }

  @Test
  void off_addsNoHeaderAndNoSpan() throws Exception {
    Tracing off = Tracing.off();
    assertThat(off.enabled()).isFalse();
    assertThat(off.listener()).isSameAs(dev.pledge.core.runtime.RuntimeListener.NONE);
    Map<String, String> headers = new java.util.HashMap<>();
    off.outgoingHeaders().addTo(headers::put);
    assertThat(headers).isEmpty();
  }

  private static String sagaOf(String gid, List<String> branches) {
    String steps =
        branches.stream()
            .map(b ->
                "{\"branchId\":\""
                    + b
                    + "\",\"action\":\"BASE/"
                    + b
                    + "/action\",\"compensate\":\"BASE/"
                    + b
                    + "/compensate\",\"payload\":{}}")
            .collect(Collectors.joining(","));
    return "{\"gid\":\"" + gid + "\",\"mode\":\"saga\",\"branches\":[" + steps + "]}";
  }

  private static String traceparentOf(SpanData span) {
    return "00-"
        + span.getTraceId()
        + "-"
        + span.getSpanId()
        + "-"
        + span.getSpanContext().getTraceFlags().asHex();
  }

  private void post(String path, String body, Map<String, String> headers) throws Exception {
    HttpRequest.Builder request =
        HttpRequest.newBuilder(URI.create(api + path))
            .header("Content-Type", "application/json")
            .POST(HttpRequest.BodyPublishers.ofString(body.replace("BASE", base)));
    headers.forEach(request::header);
    HttpResponse<String> answer = http.send(request.build(), HttpResponse.BodyHandlers.ofString());
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(201);
  }

  private void awaitFinal(String status) throws Exception {
    HttpResponse<String> answer =
        http.send(
            HttpRequest.newBuilder(URI.create(api + "/transactions/" + gid + "?waitSeconds=20"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    assertThat(answer.body()).contains("\"status\":\"" + status + "\"");
  }

  private SpanData awaitTransactionSpan() {
    await()
        .atMost(WAIT)
        .until(() -> !spansOf(gid, SpanKind.INTERNAL).isEmpty() && tracing.openTransactions() == 0);
    List<SpanData> transactions = spansOf(gid, SpanKind.INTERNAL);
    assertThat(transactions).hasSize(1);
    return transactions.get(0);
  }

  private List<SpanData> spansOf(String gid, SpanKind kind) {
    return exported.getFinishedSpanItems().stream()
        .filter(s -> gid.equals(s.getAttributes().get(TransactionSpans.GID)))
        .filter(s -> s.getKind() == kind)
        .toList();
  }
}
