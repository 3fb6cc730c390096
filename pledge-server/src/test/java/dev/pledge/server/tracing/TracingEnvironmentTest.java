package dev.pledge.server.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.sun.net.httpserver.HttpServer;
import dev.pledge.core.Gid;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.runtime.Transport;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/**
 * Traces are off by default and on with the standard {@code OTEL_*} variables, read by the SDK's
 * autoconfigure: the spans then reach a real OTLP/HTTP endpoint (a loopback server here).
 */
class TracingEnvironmentTest {

  @Test
  void asksForTraces_onlyWhenAnOtelVariableAsksAndNoneForbids() {
    record Row(Map<String, String> env, boolean on) {}
    List<Row> rows =
        List.of(
            new Row(Map.of(), false),
            new Row(Map.of("PATH", "/usr/bin"), false),
            new Row(Map.of("OTEL_TRACES_EXPORTER", " "), false),
            new Row(Map.of("OTEL_TRACES_EXPORTER", "otlp"), true),
            new Row(Map.of("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318"), true),
            new Row(Map.of("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT", "http://c:4318/v1/traces"), true),
            new Row(Map.of("OTEL_SERVICE_NAME", "orders-coordinator"), true),
            new Row(Map.of("OTEL_SERVICE_NAME", "x", "OTEL_SDK_DISABLED", "true"), false),
            new Row(Map.of("OTEL_SERVICE_NAME", "x", "OTEL_TRACES_EXPORTER", "none"), false));
    for (Row row : rows) {
      assertThat(Tracing.asksForTraces(row.env())).as(row.env().toString()).isEqualTo(row.on());
    }
    assertThat(Tracing.fromEnvironment(Map.of(), 10).enabled()).isFalse();
  }

  @Test
  void unknownExporter_isRefusedNamingIt() {
    assertThatThrownBy(
            () -> Tracing.fromEnvironment(Map.of("OTEL_TRACES_EXPORTER", "carrier-pigeon"), 10))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("OTEL_*")
        .hasMessageContaining("carrier-pigeon");
  }

  @Test
  void otlpEndpointFromTheEnvironment_receivesTheSpans() throws IOException {
    List<String> bodies = new CopyOnWriteArrayList<>();
    List<String> paths = new CopyOnWriteArrayList<>();
    HttpServer collector =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    collector.createContext(
        "/",
        exchange -> {
          try (exchange;
              InputStream in = exchange.getRequestBody()) {
            paths.add(exchange.getRequestURI().getPath());
            // OTLP protobuf keeps strings as UTF-8 bytes: names and attribute values read as text.
            bodies.add(new String(in.readAllBytes(), StandardCharsets.ISO_8859_1));
            exchange.sendResponseHeaders(200, -1);
          }
        });
    collector.start();
    try {
      Tracing tracing =
          Tracing.fromEnvironment(
              Map.of(
                  "OTEL_EXPORTER_OTLP_ENDPOINT",
                  "http://127.0.0.1:" + collector.getAddress().getPort(),
                  "OTEL_EXPORTER_OTLP_PROTOCOL",
                  "http/protobuf",
                  "OTEL_SERVICE_NAME",
                  "coordinator-under-test"),
              10);
      assertThat(tracing.enabled()).isTrue();
      Transport answersAtOnce =
          new Transport() {
            @Override
            public CompletableFuture<Outcome> call(Effect.CallOp call) {
              return CompletableFuture.completedFuture(Outcome.SUCCEEDED);
            }

            @Override
            public CompletableFuture<Outcome> checkBack(Effect.CheckBack check) {
              return CompletableFuture.completedFuture(Outcome.SUCCEEDED);
            }

            @Override
            public CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target) {
              return CompletableFuture.completedFuture(Outcome.SUCCEEDED);
            }
          };
      Outcome outcome =
          tracing
              .transport(answersAtOnce)
              .call(
                  new Effect.CallOp(
                      Gid.of("otlp-gid-1"),
                      Mode.SAGA,
                      "b1",
                      Op.ACTION,
                      1,
                      "http://127.0.0.1:1/a",
                      "{}"))
              .orTimeout(
                  Duration.ofSeconds(5).toMillis(), java.util.concurrent.TimeUnit.MILLISECONDS)
              .join();
      assertThat(outcome).isEqualTo(Outcome.SUCCEEDED);
      tracing.close(); // flushes the batch processor: the export happens before close returns
      assertThat(paths).contains("/v1/traces");
      assertThat(String.join("", bodies))
          .contains("otlp-gid-1", "pledge saga action", "coordinator-under-test");
    } finally {
      collector.stop(0);
    }
  }
}
