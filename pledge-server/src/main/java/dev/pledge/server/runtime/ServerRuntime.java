package dev.pledge.server.runtime;

import dev.pledge.core.engine.Engine;
import dev.pledge.core.runtime.Coordinator;
import dev.pledge.core.runtime.RuntimeConfig;
import dev.pledge.core.runtime.RuntimeListener;
import dev.pledge.core.runtime.Transport;
import dev.pledge.core.spi.TransactionLog;
import dev.pledge.server.metrics.ServerMetrics;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;

/**
 * The runtime as the server runs it: {@link Coordinator} with the system clock, real timers and
 * virtual threads ({@link ThreadScheduler}), the given transport and log, and the server's
 * listeners (logging, long polls, metrics).
 */
public final class ServerRuntime implements AutoCloseable {
  private final Coordinator coordinator;
  private final LongPolls longPolls;
  private final ThreadScheduler scheduler;
  private final ServerMetrics metrics;

  private ServerRuntime(
      Coordinator coordinator,
      LongPolls longPolls,
      ThreadScheduler scheduler,
      ServerMetrics metrics) {
    this.coordinator = coordinator;
    this.longPolls = longPolls;
    this.scheduler = scheduler;
    this.metrics = metrics;
  }

  /**
   * {@link #start(RuntimeConfig, Engine, TransactionLog, Transport, Subscriptions, int, List,
   * ServerMetrics)} with metrics of its own.
   */
  public static ServerRuntime start(
      RuntimeConfig config,
      Engine engine,
      TransactionLog log,
      Transport transport,
      Subscriptions subscriptions,
      int maxLongPolls,
      List<RuntimeListener> more) {
    ServerMetrics metrics = new ServerMetrics();
    metrics.bindJvm();
    return start(config, engine, log, transport, subscriptions, maxLongPolls, more, metrics);
  }

  /**
   * Builds the runtime and starts it: new transactions are taken at once, while what the log holds
   * unsettled from an earlier run is recovered in the background ({@link Coordinator#start()}). The
   * runtime closes {@code metrics} when it closes.
   */
  public static ServerRuntime start(
      RuntimeConfig config,
      Engine engine,
      TransactionLog log,
      Transport transport,
      Subscriptions subscriptions,
      int maxLongPolls,
      List<RuntimeListener> more,
      ServerMetrics metrics) {
    ThreadScheduler scheduler = new ThreadScheduler();
    LongPolls longPolls = new LongPolls(maxLongPolls);
    List<RuntimeListener> listeners = new ArrayList<>();
    listeners.add(new LoggingListener());
    listeners.add(longPolls);
    listeners.add(metrics.runtimeListener());
    listeners.addAll(more);
    Coordinator coordinator =
        new Coordinator(
            config,
            engine,
            log,
            InstantSource.system(),
            scheduler,
            transport,
            subscriptions,
            RuntimeListener.all(listeners));
    metrics.bindRuntime(coordinator, longPolls::waiting);
    coordinator.start();
    return new ServerRuntime(coordinator, longPolls, scheduler, metrics);
  }

  public Coordinator coordinator() {
    return coordinator;
  }

  public LongPolls longPolls() {
    return longPolls;
  }

  public ServerMetrics metrics() {
    return metrics;
  }

  /** Stops taking work; effects in flight are abandoned, and recovery sends them again. */
  @Override
  public void close() {
    coordinator.close();
    scheduler.close();
    metrics.close();
  }
}
