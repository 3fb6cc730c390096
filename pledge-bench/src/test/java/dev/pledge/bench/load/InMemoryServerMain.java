package dev.pledge.bench.load;

import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Engine;
import dev.pledge.server.api.Api;
import dev.pledge.server.http.HttpApiServer;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.Coordinator;
import dev.pledge.server.runtime.HttpEffects;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.testkit.InMemoryTransactionLog;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.UUID;

/**
 * A coordinator on the in-memory log, started like {@code pledge server --port P}: for developing
 * the harness where the server command is not at hand. Not a benchmark of anything durable.
 */
public final class InMemoryServerMain {
  private InMemoryServerMain() {}

  public static void main(String[] args) throws Exception {
    int port = 0;
    for (int i = 0; i < args.length - 1; i++) {
      if (args[i].equals("--port")) {
        port = Integer.parseInt(args[i + 1]);
      }
    }
    InMemoryTransactionLog log = new InMemoryTransactionLog();
    Subscriptions subscriptions = new Subscriptions();
    Coordinator coordinator =
        new Coordinator(
            new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT),
            log,
            InstantSource.system(),
            new HttpEffects(RetryPolicy.DEFAULT.callTimeout(), AllowList.loopbackOnly()),
            subscriptions,
            Duration.ofMillis(500));
    coordinator.start();
    Api api =
        new Api(
            coordinator,
            log,
            Limits.DEFAULT,
            subscriptions,
            AllowList.loopbackOnly(),
            () -> UUID.randomUUID().toString());
    HttpApiServer server =
        HttpApiServer.start(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), api);
    System.out.println("pledge server listening on http://127.0.0.1:" + server.port());
    Thread.currentThread().join();
  }
}
