package dev.pledge.server.metrics;

import dev.pledge.core.Mode;
import dev.pledge.core.Outcome;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Transition;
import dev.pledge.core.runtime.Coordinator;
import dev.pledge.core.runtime.RuntimeListener;
import dev.pledge.store.jdbc.JdbcTransactionLog;
import dev.pledge.store.jdbc.WriterListener;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.DistributionSummary;
import io.micrometer.core.instrument.FunctionCounter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Supplier;

/**
 * The server's metrics, kept in Micrometer's Prometheus registry and served as text by {@code GET
 * /metrics}: the JVM (memory, garbage collection, threads, classes, CPU, uptime), the HTTP API
 * (answers and their latency by route), the log (write latency as the runtime sees it, commits and
 * the records each carried, the writer's queue), and the runtime (state changes, transactions ended
 * and their duration by mode and final status, participant calls and their latency by mode, op and
 * outcome, calls in flight, transactions held in memory, long polls waiting, fenced writes).
 *
 * <p>The runtime reports through {@link #runtimeListener()}, the log's writer through {@link
 * #writerListener()}; both are called on hot paths, so each meter is looked up once per label set
 * and kept.
 */
public final class ServerMetrics implements AutoCloseable {
  private final PrometheusMeterRegistry registry =
      new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final JvmGcMetrics gc = new JvmGcMetrics();
  private final AtomicBoolean jvmBound = new AtomicBoolean();

  private final Map<Labels, Counter> responses = new ConcurrentHashMap<>();
  private final Map<Labels, Timer> apiLatency = new ConcurrentHashMap<>();
  private final Map<Labels, Counter> transitions = new ConcurrentHashMap<>();
  private final Map<Labels, Timer> transactions = new ConcurrentHashMap<>();
  private final Map<Labels, Timer> opCalls = new ConcurrentHashMap<>();
  private final Timer logWrite;
  private final DistributionSummary batchRecords;
  private final Timer commitTime;
  private final Counter logFailures;
  private final Counter fenced;
  private final RuntimeListener runtimeListener = new Listener();

  /** A label set: at most three values, enough for every meter here. */
  private record Labels(String a, String b, String c) {}

  /**
   * The meters of the runtime, the log and the API; the JVM's come with {@link #bindJvm()}, which
   * the server calls once it listens: those binders load and register a few hundred classes and
   * MXBeans that the first accepted transaction does not need.
   */
  public ServerMetrics() {
    logWrite =
        Timer.builder("pledge.log.write")
            .description("A write of a transaction's state and history, as the runtime waited it")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofNanos(50_000))
            .maximumExpectedValue(Duration.ofSeconds(10))
            .register(registry);
    batchRecords =
        DistributionSummary.builder("pledge.log.batch.records")
            .description("Transaction rows one database commit of the log's writer carried")
            .serviceLevelObjectives(1, 2, 4, 8, 16, 32, 64, 128, 256)
            .register(registry);
    commitTime =
        Timer.builder("pledge.log.commit")
            .description("One batch of the log's writer, first statement to commit")
            .publishPercentileHistogram()
            .minimumExpectedValue(Duration.ofNanos(50_000))
            .maximumExpectedValue(Duration.ofSeconds(10))
            .register(registry);
    logFailures =
        Counter.builder("pledge.log.failures")
            .description("Log writes or searches for due work that failed for an operating reason")
            .register(registry);
    fenced =
        Counter.builder("pledge.fenced")
            .description("Writes refused because a newer coordinator holds the transaction's lease")
            .register(registry);
  }

  /** Adds the JVM's meters (memory, garbage collection, threads, classes, CPU, uptime); once. */
  public void bindJvm() {
    if (jvmBound.getAndSet(true)) {
      return;
    }
    new JvmMemoryMetrics().bindTo(registry);
    gc.bindTo(registry);
    new JvmThreadMetrics().bindTo(registry);
    new ClassLoaderMetrics().bindTo(registry);
    new ProcessorMetrics().bindTo(registry);
    new UptimeMetrics().bindTo(registry);
  }

  public MeterRegistry registry() {
    return registry;
  }

  /** Everything in Prometheus' text format. */
  public String scrape() {
    return registry.scrape();
  }

  /** The listener the runtime reports to. */
  public RuntimeListener runtimeListener() {
    return runtimeListener;
  }

  /** The listener the JDBC log's writer reports each commit to. */
  public WriterListener writerListener() {
    return new WriterListener() {
      @Override
      public void committed(int records, Duration took) {
        batchRecords.record(records);
        commitTime.record(took);
      }
    };
  }

  /** Gauges of the runtime: calls in flight, transactions in memory, long polls waiting. */
  public void bindRuntime(Coordinator coordinator, Supplier<Integer> longPollsWaiting) {
    Objects.requireNonNull(coordinator, "coordinator");
    Objects.requireNonNull(longPollsWaiting, "longPollsWaiting");
    Gauge.builder("pledge.effects.in.flight", coordinator, Coordinator::effectsInFlight)
        .description("Participant calls, check-backs and deliveries awaiting an answer")
        .strongReference(true)
        .register(registry);
    Gauge.builder("pledge.owned.transactions", coordinator, Coordinator::owned)
        .description("Unsettled transactions held in memory")
        .strongReference(true)
        .register(registry);
    Gauge.builder("pledge.recovering", coordinator, c -> c.recovering() ? 1 : 0)
        .description("1 while the transactions an earlier run left unsettled are being recovered")
        .strongReference(true)
        .register(registry);
    FunctionCounter.builder("pledge.recovered", coordinator, Coordinator::recovered)
        .description("Transactions of an earlier run recovered since the start")
        .register(registry);
    Gauge.builder("pledge.long.polls.waiting", longPollsWaiting, Supplier::get)
        .description("Long polls waiting for a final state")
        .strongReference(true)
        .register(registry);
  }

  /** Counters of the JDBC log's writer, read when scraped. */
  public void bindLog(JdbcTransactionLog log) {
    Objects.requireNonNull(log, "log");
    FunctionCounter.builder("pledge.log.commits", log, l -> l.stats().commits())
        .description("Database commits of the log's writer that wrote a transaction row")
        .register(registry);
    FunctionCounter.builder("pledge.log.records", log, l -> l.stats().records())
        .description("Transaction rows those commits carried, each with its history")
        .register(registry);
    Gauge.builder("pledge.log.queue.depth", log, l -> l.stats().queued())
        .description("Writes waiting for the log's writer")
        .register(registry);
  }

  /** One answer of the HTTP API. */
  public void apiAnswered(String method, String route, int status, Duration latency) {
    responses
        .computeIfAbsent(
            new Labels(method, route, Integer.toString(status)),
            k ->
                Counter.builder("pledge.api.responses")
                    .description("API answers by method, route and status")
                    .tags("method", k.a(), "route", k.b(), "status", k.c())
                    .register(registry))
        .increment();
    apiLatency
        .computeIfAbsent(
            new Labels(method, route, ""),
            k ->
                Timer.builder("pledge.api.latency")
                    .description("Time to answer an API request, by method and route")
                    .tags("method", k.a(), "route", k.b())
                    .publishPercentileHistogram()
                    .minimumExpectedValue(Duration.ofNanos(50_000))
                    .maximumExpectedValue(Duration.ofSeconds(30))
                    .register(registry))
        .record(latency);
  }

  @Override
  public void close() {
    gc.close();
    registry.close();
  }

  private static String outcome(Outcome outcome) {
    return switch (outcome) {
      case Outcome.Succeeded s -> "succeeded";
      case Outcome.Failed f -> "failed";
      case Outcome.Pending p -> "pending";
      case Outcome.Unknown u -> "unknown";
    };
  }

  private final class Listener implements RuntimeListener {
    @Override
    public void transitioned(Transaction tx, Transition row) {
      Status to = row.to();
      if (row.from() == to) {
        return;
      }
      String mode = tx.mode().code();
      transitions
          .computeIfAbsent(
              new Labels(mode, to.label(), ""),
              k ->
                  Counter.builder("pledge.transitions")
                      .description("State changes, by mode and the state reached")
                      .tags("mode", k.a(), "to", k.b())
                      .register(registry))
          .increment();
      if (to.isFinal()) {
        transactions
            .computeIfAbsent(
                new Labels(mode, to.label(), ""),
                k ->
                    Timer.builder("pledge.transactions")
                        .description(
                            "Transactions that reached a final state, and the time from begin"
                                + " to it, by mode and final state")
                        .tags("mode", k.a(), "status", k.b())
                        .publishPercentileHistogram()
                        .minimumExpectedValue(Duration.ofMillis(1))
                        .maximumExpectedValue(Duration.ofMinutes(10))
                        .register(registry))
            .record(positive(Duration.between(tx.createdAt(), tx.updatedAt())));
      }
    }

    @Override
    public void answered(Mode mode, String op, Outcome outcome, Duration latency) {
      opCalls
          .computeIfAbsent(
              new Labels(mode.code(), op, outcome(outcome)),
              k ->
                  Timer.builder("pledge.op.calls")
                      .description(
                          "Participant calls, check-backs and deliveries, by mode, op and"
                              + " outcome, with the time to their answer")
                      .tags("mode", k.a(), "op", k.b(), "outcome", k.c())
                      .publishPercentileHistogram()
                      .minimumExpectedValue(Duration.ofNanos(100_000))
                      .maximumExpectedValue(Duration.ofSeconds(30))
                      .register(registry))
          .record(latency);
    }

    @Override
    public void logWritten(Duration latency) {
      logWrite.record(latency);
    }

    @Override
    public void logFailed(String what, RuntimeException failure) {
      logFailures.increment();
    }

    @Override
    public void fenced(Transaction tx, RuntimeException failure) {
      fenced.increment();
    }
  }

  private static Duration positive(Duration duration) {
    return duration.isNegative() ? Duration.ZERO : duration;
  }
}
