package dev.pledge.server.sdk;

import com.sun.net.httpserver.HttpServer;
import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.outbox.CoordinatorSink;
import dev.pledge.client.participant.Participant;
import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.spi.MessageSink;
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
import dev.pledge.testkit.contract.MessageSinkContract;
import dev.pledge.testkit.net.TcpProxy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;

/**
 * The coordinator as a {@link MessageSink} ({@link CoordinatorSink}) against the sink contract: a
 * real coordinator (runtime, API, JDK HTTP server, in-memory log) behind a TCP proxy that stalls
 * and cuts the sink's connections, and a real subscriber over HTTP decoding each delivery with the
 * SDK's {@code Participant.deliveries}.
 */
class CoordinatorSinkTest extends MessageSinkContract {
  private static final int MAX_PAYLOAD_BYTES = 64 * 1024;

  @Override
  protected Fixture newFixture(String name) {
    try {
      return new CoordinatorFixture();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static final class CoordinatorFixture implements Fixture {
    private final ServerRuntime coordinator;
    private final HttpApiServer server;
    private final HttpServer subscriber;
    private final TcpProxy proxy;
    private final PledgeClient direct;
    private final PledgeClient proxied;
    private final String checkUrl;
    private final List<TransactionalMessage> received = new CopyOnWriteArrayList<>();
    private final List<MessageSink> sinks = new ArrayList<>();

    CoordinatorFixture() throws IOException {
      Limits limits =
          new Limits(
              64,
              64,
              MAX_PAYLOAD_BYTES,
              32,
              4096,
              2048,
              Duration.ofSeconds(60),
              Duration.ofDays(1));
      RetryPolicy policy =
          new RetryPolicy(
              Duration.ofMillis(50), Duration.ofMillis(500), 2.0, 0.2, Duration.ofSeconds(2), 50);
      InMemoryTransactionLog log = new InMemoryTransactionLog();
      Subscriptions subscriptions = new Subscriptions(new InMemorySubscriptionStore());
      coordinator =
          TestRuntimes.start(
              new Engine(limits, policy),
              log,
              new HttpEffects(policy.callTimeout(), AllowList.loopbackOnly()),
              subscriptions,
              Duration.ofMillis(100));
      server =
          HttpApiServer.start(
              new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
              new Api(
                  coordinator,
                  log,
                  limits,
                  subscriptions,
                  AllowList.loopbackOnly(),
                  new InMemoryAuditLog(),
                  PledgeClient::newGid));
      subscriber = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
      subscriber.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
      subscriber.createContext("/inbox", Participant.deliveries(received::add));
      subscriber.createContext("/check", CoordinatorSink.checkBack());
      subscriber.start();
      String self = "http://127.0.0.1:" + subscriber.getAddress().getPort();
      checkUrl = self + "/check";
      direct = PledgeClient.create(PledgeClientConfig.of("http://127.0.0.1:" + server.port()));
      direct.subscribe("contract", "contract.topic", self + "/inbox");
      proxy = TcpProxy.start("127.0.0.1", server.port());
      proxied =
          PledgeClient.create(
              PledgeClientConfig.of("http://127.0.0.1:" + proxy.port())
                  .withTimeouts(Duration.ofSeconds(1), Duration.ofSeconds(2))
                  .withMaxAttempts(1000)
                  .withBackoff(Duration.ofMillis(50), Duration.ofMillis(500)));
    }

    @Override
    public MessageSink openSink(int maxInFlight) {
      MessageSink sink =
          new CoordinatorSink(
              proxied, checkUrl, Duration.ofSeconds(60), Duration.ofSeconds(8), maxInFlight);
      sinks.add(sink);
      return sink;
    }

    @Override
    public List<TransactionalMessage> received() {
      return List.copyOf(received);
    }

    @Override
    public int maxPayloadBytes() {
      return MAX_PAYLOAD_BYTES;
    }

    @Override
    public void stall() {
      proxy.stall();
    }

    @Override
    public void resume() {
      proxy.resume();
    }

    @Override
    public void cut() {
      proxy.cut();
    }

    @Override
    public void restore() {
      proxy.restore();
    }

    @Override
    public void close() {
      sinks.forEach(MessageSink::close);
      proxied.close();
      direct.close();
      proxy.close();
      server.close();
      coordinator.close();
      subscriber.stop(0);
    }
  }
}
