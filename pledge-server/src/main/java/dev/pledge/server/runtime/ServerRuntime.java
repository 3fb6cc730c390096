package dev.pledge.server.runtime;

import dev.pledge.core.engine.Engine;
import dev.pledge.core.runtime.Coordinator;
import dev.pledge.core.runtime.RuntimeConfig;
import dev.pledge.core.runtime.RuntimeListener;
import dev.pledge.core.runtime.Transport;
import dev.pledge.core.spi.TransactionLog;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The runtime as the server runs it: {@link Coordinator} with the system clock, real timers and
 * virtual threads ({@link ThreadScheduler}), the given transport and log, and the server's
 * listeners (logging, long polls, metrics).
 */
public final class ServerRuntime implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ServerRuntime.class);

  private final Coordinator coordinator;
  private final LongPolls longPolls;
  private final ThreadScheduler scheduler;

  private ServerRuntime(Coordinator coordinator, LongPolls longPolls, ThreadScheduler scheduler) {
    this.coordinator = coordinator;
    this.longPolls = longPolls;
    this.scheduler = scheduler;
  }

  /** Builds the runtime, recovers what the log holds unsettled, and starts looking for due work. */
  public static ServerRuntime start(
      RuntimeConfig config,
      Engine engine,
      TransactionLog log,
      Transport transport,
      Subscriptions subscriptions,
      int maxLongPolls,
      List<RuntimeListener> more) {
    ThreadScheduler scheduler = new ThreadScheduler();
    LongPolls longPolls = new LongPolls(maxLongPolls);
    List<RuntimeListener> listeners = new ArrayList<>();
    listeners.add(new LoggingListener());
    listeners.add(longPolls);
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
    int recovered = coordinator.start();
    LOG.info("recovered {} unsettled transactions", recovered);
    return new ServerRuntime(coordinator, longPolls, scheduler);
  }

  public Coordinator coordinator() {
    return coordinator;
  }

  public LongPolls longPolls() {
    return longPolls;
  }

  /** Stops taking work; effects in flight are abandoned, and recovery sends them again. */
  @Override
  public void close() {
    coordinator.close();
    scheduler.close();
  }
}
