package dev.pledge.server.sdk;

import dev.pledge.client.PledgeClient;
import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Engine;
import dev.pledge.server.api.Api;
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
import java.time.Duration;

/**
 * The coordinator in this JVM for the SDK tests: the runtime on the in-memory log, polling every
 * 100 ms, calling loopback only, with its HTTP API on a free loopback port.
 */
final class InProcessCoordinator implements AutoCloseable {
  private final ServerRuntime runtime;
  private final HttpApiServer server;

  private InProcessCoordinator(ServerRuntime runtime, HttpApiServer server) {
    this.runtime = runtime;
    this.server = server;
  }

  /** Starts the runtime with {@code policy} and its API server. */
  static InProcessCoordinator start(RetryPolicy policy) throws IOException {
    InMemoryTransactionLog log = new InMemoryTransactionLog();
    Subscriptions subscriptions = new Subscriptions(new InMemorySubscriptionStore());
    ServerRuntime runtime =
        TestRuntimes.start(
            new Engine(Limits.DEFAULT, policy),
            log,
            new HttpEffects(policy.callTimeout(), AllowList.loopbackOnly()),
            subscriptions,
            Duration.ofMillis(100));
    try {
      HttpApiServer server =
          HttpApiServer.start(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
              new Api(
                  runtime,
                  log,
                  Limits.DEFAULT,
                  subscriptions,
                  AllowList.loopbackOnly(),
                  new InMemoryAuditLog(),
                  PledgeClient::newGid));
      return new InProcessCoordinator(runtime, server);
    } catch (IOException | RuntimeException e) {
      runtime.close();
      throw e;
    }
  }

  int port() {
    return server.port();
  }

  /** {@code http://127.0.0.1:port}. */
  String url() {
    return "http://127.0.0.1:" + server.port();
  }

  /** Closes the API server only, so that the coordinator becomes unreachable. */
  void closeServer() {
    server.close();
  }

  @Override
  public void close() {
    server.close();
    runtime.close();
  }
}
