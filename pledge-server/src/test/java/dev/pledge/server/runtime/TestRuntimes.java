package dev.pledge.server.runtime;

import dev.pledge.core.engine.Engine;
import dev.pledge.core.runtime.RuntimeConfig;
import dev.pledge.core.runtime.Transport;
import dev.pledge.core.spi.TransactionLog;
import java.time.Duration;
import java.util.List;

/** The server's runtime as tests start it: a short poll, the engine's call timeout. */
public final class TestRuntimes {
  private TestRuntimes() {}

  public static ServerRuntime start(
      Engine engine,
      TransactionLog log,
      Transport transport,
      Subscriptions subscriptions,
      Duration pollInterval) {
    return start(engine, log, transport, subscriptions, pollInterval, 20_000);
  }

  public static ServerRuntime start(
      Engine engine,
      TransactionLog log,
      Transport transport,
      Subscriptions subscriptions,
      Duration pollInterval,
      int maxEffectsInFlight) {
    return ServerRuntime.start(
        RuntimeConfig.defaults(engine.policy().callTimeout())
            .withPollInterval(pollInterval)
            .withMaxEffectsInFlight(maxEffectsInFlight),
        engine,
        log,
        transport,
        subscriptions,
        LongPolls.DEFAULT_MAX_WAITERS,
        List.of());
  }
}
