package dev.pledge.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Engine;
import dev.pledge.server.api.Api;
import dev.pledge.server.http.HttpApiServer;
import dev.pledge.store.jdbc.JdbcLogConfig;
import dev.pledge.store.jdbc.JdbcTransactionLog;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;

/**
 * A coordinator in the test's JVM on a SQLite log, with the broker providers found on the classpath
 * as {@code pledge server} finds them, behind its real HTTP API: what the broker delivery tests
 * commit msg transactions through.
 */
final class BrokerCoordinator implements AutoCloseable {
  static final RetryPolicy FAST =
      new RetryPolicy(
          Duration.ofMillis(20), Duration.ofMillis(200), 2.0, 0.2, Duration.ofSeconds(5), 10);

  private final HttpClient client = HttpClient.newHttpClient();
  final JdbcTransactionLog log;
  final BrokerSinks brokers;
  private final ServerRuntime runtime;
  private final HttpApiServer server;
  private final String base;

  BrokerCoordinator(Path data) throws java.io.IOException {
    log = JdbcTransactionLog.open(JdbcLogConfig.forUrl("jdbc:sqlite:" + data.resolve("p.db")));
    Subscriptions subscriptions = new Subscriptions(log);
    brokers = BrokerSinks.discover();
    AllowList allowList = AllowList.loopbackOnly();
    runtime =
        TestRuntimes.start(
            new Engine(Limits.DEFAULT, FAST),
            log,
            new DeliveryRouter(new HttpEffects(FAST.callTimeout(), allowList), brokers, allowList),
            subscriptions,
            Duration.ofMillis(20));
    Api api = new Api(runtime, log, Limits.DEFAULT, subscriptions, allowList, log, () -> "g");
    server =
        HttpApiServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            api,
            HttpApiServer.MAX_CONCURRENT_REQUESTS,
            null);
    base = "http://127.0.0.1:" + server.port();
  }

  /** Subscribes {@code topic} to {@code target} as subscription {@code name}; must answer 200. */
  void subscribe(String name, String topic, String target) throws Exception {
    HttpResponse<String> response =
        send(
            "PUT",
            "/api/v1/subscriptions/" + name,
            "{\"topic\":\"" + topic + "\",\"target\":\"" + target + "\"}");
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
  }

  /**
   * Creates msg transaction {@code gid} with one message ({@code payloadJson} on {@code topic} with
   * {@code key} and header tenant=acme) and commits it.
   */
  void commitMessage(String gid, String topic, String key, String payloadJson) throws Exception {
    HttpResponse<String> created =
        send(
            "POST",
            "/api/v1/transactions",
            "{\"gid\":\""
                + gid
                + "\",\"mode\":\"msg\",\"checkUrl\":\"http://127.0.0.1:1/check\","
                + "\"messages\":[{\"topic\":\""
                + topic
                + "\",\"key\":\""
                + key
                + "\",\"payload\":"
                + payloadJson
                + ",\"headers\":{\"tenant\":\"acme\"}}]}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    assertThat(send("POST", "/api/v1/transactions/" + gid + "/commit", "").statusCode())
        .isEqualTo(200);
  }

  HttpResponse<String> send(String method, String path, String body) throws Exception {
    return client.send(
        HttpRequest.newBuilder(URI.create(base + path))
            .method(method, HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  @Override
  public void close() {
    server.close();
    runtime.close();
    brokers.close();
    log.close();
  }
}
