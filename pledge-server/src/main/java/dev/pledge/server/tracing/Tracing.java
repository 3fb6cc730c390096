package dev.pledge.server.tracing;

import dev.pledge.core.runtime.RuntimeListener;
import dev.pledge.core.runtime.Transport;
import dev.pledge.server.runtime.OutgoingHeaders;
import io.opentelemetry.api.OpenTelemetry;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.Scope;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.context.propagation.TextMapPropagator;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.autoconfigure.AutoConfiguredOpenTelemetrySdk;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;
import java.util.function.Supplier;

/**
 * The coordinator's OpenTelemetry traces: a span per global transaction (from its creation until it
 * is settled), a child span per op call, check-back and delivery, and the W3C {@code traceparent}
 * of that child span on the call (an HTTP header, through {@link OutgoingHeaders}) and on the
 * delivery (a message header, which HTTP deliveries send as an HTTP header and broker sinks as a
 * broker header), so a participant or consumer continues the same trace. A {@code traceparent} on
 * the request that creates a transaction makes the transaction's span its child.
 *
 * <p>Off by default. {@link #fromEnvironment} turns it on when the standard {@code OTEL_*}
 * variables ask for traces ({@link #ENABLING}), and then lets the SDK's autoconfigure read every
 * {@code OTEL_*} variable (exporter, endpoint, sampler, resource). Off, every method is a no-op and
 * nothing is added to calls.
 */
public final class Tracing implements AutoCloseable {
  /**
   * Any of these, set and not blank, turns tracing on (unless {@code OTEL_SDK_DISABLED=true} or
   * {@code OTEL_TRACES_EXPORTER=none}).
   */
  public static final List<String> ENABLING =
      List.of(
          "OTEL_TRACES_EXPORTER",
          "OTEL_EXPORTER_OTLP_ENDPOINT",
          "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
          "OTEL_SERVICE_NAME");

  /** The service name when {@code OTEL_SERVICE_NAME} gives none. */
  public static final String DEFAULT_SERVICE_NAME = "pledge-server";

  private static final Tracing OFF = new Tracing(OpenTelemetry.noop(), null, 0);

  private static final TextMapGetter<Function<String, String>> HEADERS =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Function<String, String> carrier) {
          return Set.of("traceparent", "tracestate");
        }

        @Override
        public String get(Function<String, String> carrier, String key) {
          return carrier == null ? null : carrier.apply(key);
        }
      };

  private final OpenTelemetry otel;
  private final OpenTelemetrySdk owned;
  private final TransactionSpans spans;
  private final AtomicBoolean closed = new AtomicBoolean();

  private Tracing(OpenTelemetry otel, OpenTelemetrySdk owned, int maxOpenTransactions) {
    this.otel = otel;
    this.owned = owned;
    Tracer tracer = otel.getTracer("dev.pledge.server");
    this.spans = new TransactionSpans(tracer, maxOpenTransactions);
  }

  /** No traces: every method does nothing. */
  public static Tracing off() {
    return OFF;
  }

  /**
   * Traces through {@code otel} (an SDK the caller built and closes, such as a test's in-memory
   * exporter), keeping at most {@code maxOpenTransactions} transaction spans open at once; past
   * that, the oldest is ended early with {@code pledge.evicted=true}.
   */
  public static Tracing with(OpenTelemetry otel, int maxOpenTransactions) {
    Objects.requireNonNull(otel, "otel");
    if (maxOpenTransactions < 1) {
      throw new IllegalArgumentException(
          "maxOpenTransactions must be at least 1, got " + maxOpenTransactions);
    }
    return new Tracing(otel, null, maxOpenTransactions);
  }

  /**
   * Off unless {@code env} names one of {@link #ENABLING}; on, the SDK as autoconfigure builds it
   * from {@code env} (and the JVM's {@code otel.*} properties), which {@link #close} flushes and
   * shuts down.
   *
   * @throws IllegalArgumentException when autoconfigure refuses the variables (an unknown exporter,
   *     a malformed endpoint), naming what it refused
   */
  public static Tracing fromEnvironment(Map<String, String> env, int maxOpenTransactions) {
    if (!asksForTraces(env)) {
      return OFF;
    }
    Map<String, String> properties = new HashMap<>();
    properties.put("otel.service.name", DEFAULT_SERVICE_NAME);
    // Pledge makes no metrics or logs through OpenTelemetry (metrics are Prometheus text).
    properties.put("otel.metrics.exporter", "none");
    properties.put("otel.logs.exporter", "none");
    env.forEach((name, value) -> {
      if (name.startsWith("OTEL_")) {
        properties.put(name.toLowerCase(Locale.ROOT).replace('_', '.'), value);
      }
    });
    OpenTelemetrySdk sdk;
    try {
      sdk =
          AutoConfiguredOpenTelemetrySdk.builder()
              .addPropertiesSupplier(() -> properties)
              .disableShutdownHook()
              .build()
              .getOpenTelemetrySdk();
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(
          "the OTEL_* variables do not configure OpenTelemetry: " + e.getMessage(), e);
    }
    if (maxOpenTransactions < 1) {
      sdk.close();
      throw new IllegalArgumentException(
          "maxOpenTransactions must be at least 1, got " + maxOpenTransactions);
    }
    return new Tracing(sdk, sdk, maxOpenTransactions);
  }

  /** Whether {@code env} asks for traces; see {@link #ENABLING}. */
  public static boolean asksForTraces(Map<String, String> env) {
    if ("true".equalsIgnoreCase(env.getOrDefault("OTEL_SDK_DISABLED", "").strip())
        || "none".equalsIgnoreCase(env.getOrDefault("OTEL_TRACES_EXPORTER", "").strip())) {
      return false;
    }
    return ENABLING.stream().anyMatch(name -> !env.getOrDefault(name, "").isBlank());
  }

  public boolean enabled() {
    return this != OFF;
  }

  /** Starts and ends the transactions' spans; give it to the runtime. */
  public RuntimeListener listener() {
    return enabled() ? spans : RuntimeListener.NONE;
  }

  /** {@code delegate} with a span around each call, check-back and delivery. */
  public Transport transport(Transport delegate) {
    return enabled() ? new TracingTransport(delegate, spans, propagator()) : delegate;
  }

  /** The {@code traceparent} (and {@code tracestate}) of the span current on the calling thread. */
  public OutgoingHeaders outgoingHeaders() {
    if (!enabled()) {
      return OutgoingHeaders.NONE;
    }
    TextMapPropagator propagator = propagator();
    return header ->
        propagator.inject(
            Context.current(), header, (sink, name, value) -> sink.accept(name, value));
  }

  /**
   * Runs {@code work} with the trace context of an API request's {@code header}s current, so a
   * transaction the request creates joins the caller's trace.
   */
  public <T> T inRequest(Function<String, String> header, Supplier<T> work) {
    if (!enabled()) {
      return work.get();
    }
    try (Scope caller = propagator().extract(Context.root(), header, HEADERS).makeCurrent()) {
      return work.get();
    }
  }

  /** Transaction spans open now. */
  public int openTransactions() {
    return spans.open();
  }

  private TextMapPropagator propagator() {
    return otel.getPropagators().getTextMapPropagator();
  }

  @Override
  public String toString() {
    return enabled() ? "traces on (OpenTelemetry, OTEL_* variables)" : "traces off";
  }

  /**
   * Flushes and shuts down an SDK this made from the environment (once; idempotent); otherwise does
   * nothing.
   */
  @Override
  public void close() {
    if (owned != null && closed.compareAndSet(false, true)) {
      owned.close();
    }
  }
}
