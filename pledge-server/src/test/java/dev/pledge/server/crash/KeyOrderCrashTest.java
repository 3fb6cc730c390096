package dev.pledge.server.crash;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pledge.server.ServerProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Order per key across a {@code kill -9} of the coordinator: a real server process delivers the
 * messages of {@value #TRANSACTIONS} msg transactions on {@value #KEYS} keys to an HTTP subscriber
 * in this JVM, which is slow and refuses some deliveries a few times; the process is killed with
 * {@code -9} while deliveries go on and restarted on the same log. Afterwards every message was
 * acknowledged, and for each key every request for a message came before the first request for the
 * next one in commit order, and no two of a key were ever in the subscriber's hands at once. On
 * PostgreSQL also with two coordinators sharing the log (transactions alternating between them),
 * the first killed and restarted while the second goes on. And with a RabbitMQ exchange as the
 * target instead of the HTTP subscriber: the first copies arrive per key in commit order, and every
 * copy of a message before the first of the next.
 */
class KeyOrderCrashTest {
  private static final int TRANSACTIONS = 30;
  private static final int KEYS = 3;

  @TempDir Path dataDir;
  private final HttpClient client =
      HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
  private final List<String> received = new CopyOnWriteArrayList<>();
  private final List<String> violations = new CopyOnWriteArrayList<>();
  private final Map<String, AtomicInteger> inHand = new ConcurrentHashMap<>();
  private final Map<String, AtomicInteger> refusals = new ConcurrentHashMap<>();
  private HttpServer subscriber;
  private final ServerProcess[] servers = new ServerProcess[2];
  private final int[] ports = new int[2];
  private String database;
  private com.rabbitmq.client.Connection rabbit;
  private String exchange;

  @AfterEach
  void stop() throws Exception {
    for (ServerProcess server : servers) {
      if (server != null) {
        server.close();
      }
    }
    if (subscriber != null) {
      subscriber.stop(0);
    }
    if (rabbit != null) {
      try (Channel channel = rabbit.createChannel()) {
        channel.exchangeDelete(exchange);
      }
      rabbit.close();
    }
    if (database != null) {
      ServerProcess.dropDatabase(database);
    }
  }

  /** Slow (10 ms), and refuses the first two deliveries of every fourth message. */
  private void deliver(HttpExchange exchange) throws IOException {
    String id = exchange.getRequestHeaders().getFirst("Pledge-Message-Id");
    String key = exchange.getRequestHeaders().getFirst("Pledge-Key");
    exchange.getRequestBody().readAllBytes();
    AtomicInteger holding = inHand.computeIfAbsent(key, k -> new AtomicInteger());
    if (holding.incrementAndGet() > 1) {
      violations.add("two messages of key " + key + " at once, " + id + " among them");
    }
    try {
      Thread.sleep(10);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    boolean refuse =
        Math.floorMod(id.hashCode(), 4) == 0
            && refusals.computeIfAbsent(id, k -> new AtomicInteger()).getAndIncrement() < 2;
    int status = refuse ? 503 : 200;
    received.add(id + " " + key + " " + status);
    holding.decrementAndGet();
    exchange.sendResponseHeaders(status, -1);
    exchange.close();
  }

  /**
   * Declares a durable topic exchange and a queue bound to it, consumes the queue into {@link
   * #received} in arrival order (as an acknowledged delivery), and answers the amqp target.
   */
  private String consumeFromRabbitMq() throws Exception {
    exchange = "pledge-order-crash-" + Long.toString(System.nanoTime() & 0xffffffffL, 36);
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost("127.0.0.1");
    factory.setPort(5672);
    rabbit = factory.newConnection("key-order-crash");
    Channel channel = rabbit.createChannel();
    channel.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, true);
    String queue = channel.queueDeclare().getQueue(); // exclusive to this connection
    channel.queueBind(queue, exchange, "#");
    channel.basicConsume(
        queue,
        true,
        (tag, delivery) ->
            received.add(
                delivery.getProperties().getMessageId()
                    + " "
                    + delivery.getProperties().getHeaders().get("pledge-key")
                    + " 200"),
        tag -> {});
    return "amqp://guest:guest@127.0.0.1:5672/%2F?exchange=" + exchange;
  }

  /** Starts coordinator {@code index} (0 or 1) on its port and waits until it listens. */
  private void startServer(int index) {
    servers[index] =
        ServerProcess.start(
            ports[index],
            dataDir.resolve("coordinator-" + index),
            database,
            dataDir.resolve("server-" + index + ".log"));
  }

  /**
   * On {@code postgresql-two} two coordinators share the log: transactions alternate between them,
   * and the first is killed and restarted while the second goes on. On {@code sqlite-rabbitmq} the
   * subscription's target is an exchange of the real RabbitMQ, read by a consumer in this JVM in
   * arrival order.
   */
  @ParameterizedTest(name = "on {0}")
  @ValueSource(strings = {"sqlite", "postgresql", "postgresql-two", "sqlite-rabbitmq"})
  void killedWhileDelivering_keepsEveryKeysCommitOrder_oneAtATime(String logKind) throws Exception {
    int coordinators = logKind.equals("postgresql-two") ? 2 : 1;
    if (logKind.startsWith("postgresql")) {
      database = ServerProcess.createDatabase("pledge_order_crash");
    }
    subscriber = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    subscriber.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    subscriber.createContext("/orders", this::deliver);
    subscriber.start();
    ports[0] = ServerProcess.freePort();
    ports[1] = ServerProcess.freePort();
    startServer(0);
    boolean rabbitmq = logKind.endsWith("-rabbitmq");
    String target =
        rabbitmq
            ? consumeFromRabbitMq()
            : "http://127.0.0.1:" + subscriber.getAddress().getPort() + "/orders";
    assertThat(
            send(
                    "PUT",
                    "/api/v1/subscriptions/shipping",
                    "{\"topic\":\"orders\",\"target\":\"" + target + "\"}")
                .statusCode())
        .isEqualTo(200);
    if (coordinators == 2) {
      // Started after the subscription exists, so it holds the subscription from its first
      // transaction on (another coordinator's change reaches it within a second: see
      // SubscriptionsTwoCoordinatorsTest).
      startServer(1);
    }

    // The expected order of each key: the order the transactions commit in, one after another.
    Map<String, List<String>> expected = new LinkedHashMap<>();
    for (int i = 0; i < TRANSACTIONS; i++) {
      String key = "key-" + (i % KEYS);
      List<String> ids = expected.computeIfAbsent(key, k -> new ArrayList<>());
      ids.add("tx-" + i + "#1");
      if (i % 4 == 0) {
        ids.add("tx-" + i + "#2");
      }
    }
    int messages = expected.values().stream().mapToInt(List::size).sum();
    try (ExecutorService producer = Executors.newSingleThreadExecutor()) {
      Future<?> produced =
          producer.submit(() -> {
            for (int i = 0; i < TRANSACTIONS; i++) {
              commitAndAwait(i, i % coordinators);
            }
            return null;
          });
      await().atMost(Duration.ofSeconds(60)).until(() -> acknowledged().size() >= messages / 3);
      servers[0].kill(); // SIGKILL: no shutdown hook runs
      int before = acknowledged().size();
      startServer(0);
      produced.get(120, TimeUnit.SECONDS);
      assertThat(before).as("killed while deliveries were still owed").isLessThan(messages);
    }
    await().atMost(Duration.ofSeconds(90)).until(() -> acknowledged().size() == messages);

    for (Map.Entry<String, List<String>> key : expected.entrySet()) {
      List<String> ids = key.getValue();
      List<String> got = new ArrayList<>();
      for (String r : received) {
        String[] parts = r.split(" ", -1);
        if (parts[1].equals(key.getKey()) && parts[2].equals("200") && !got.contains(parts[0])) {
          got.add(parts[0]);
        }
      }
      assertThat(got).as("acknowledged order of " + key.getKey()).containsExactlyElementsOf(ids);
      for (int i = 0; i + 1 < ids.size(); i++) {
        assertThat(firstIndexOf(ids.get(i + 1)))
            .as("every request for " + ids.get(i) + " before the first for " + ids.get(i + 1))
            .isGreaterThan(lastIndexOf(ids.get(i)));
      }
    }
    assertThat(violations).isEmpty();
    if (!rabbitmq) {
      assertThat(refusals).as("some deliveries were refused and retried").isNotEmpty();
    }
  }

  /** Creates, commits and waits for transaction {@code i} to be committed, through a restart. */
  private void commitAndAwait(int i, int coordinator) {
    String gid = "tx-" + i;
    String key = "key-" + (i % KEYS);
    String message = "{\"topic\":\"orders\",\"key\":\"" + key + "\",\"payload\":{\"i\":" + i + "}}";
    String body =
        "{\"gid\":\""
            + gid
            + "\",\"mode\":\"msg\",\"timeoutSeconds\":600,\"checkUrl\":\"http://127.0.0.1:1/check\","
            + "\"messages\":["
            + message
            + (i % 4 == 0 ? "," + message : "")
            + "]}";
    retry(() -> send(coordinator, "POST", "/api/v1/transactions", body).statusCode() == 201);
    retry(() ->
        send(coordinator, "POST", "/api/v1/transactions/" + gid + "/commit", "").statusCode()
            == 200);
    retry(() ->
        send(coordinator, "GET", "/api/v1/transactions/" + gid, null)
            .body()
            .contains("\"committed\""));
  }

  private interface Attempt {
    boolean done() throws Exception;
  }

  /** Tries until done; a refused connection (the server down) is tried again. */
  private static void retry(Attempt attempt) {
    await()
        .atMost(Duration.ofSeconds(90))
        .pollInterval(Duration.ofMillis(20))
        .until(() -> {
          try {
            return attempt.done();
          } catch (IOException e) {
            return false;
          }
        });
  }

  private List<String> acknowledged() {
    List<String> ids = new ArrayList<>();
    for (String r : received) {
      String[] parts = r.split(" ", -1);
      if (parts[2].equals("200") && !ids.contains(parts[0])) {
        ids.add(parts[0]);
      }
    }
    return ids;
  }

  private int firstIndexOf(String messageId) {
    for (int i = 0; i < received.size(); i++) {
      if (received.get(i).startsWith(messageId + " ")) {
        return i;
      }
    }
    return -1;
  }

  private int lastIndexOf(String messageId) {
    int last = -1;
    for (int i = 0; i < received.size(); i++) {
      if (received.get(i).startsWith(messageId + " ")) {
        last = i;
      }
    }
    return last;
  }

  private HttpResponse<String> send(String method, String path, String body)
      throws IOException, InterruptedException {
    return send(0, method, path, body);
  }

  private HttpResponse<String> send(int coordinator, String method, String path, String body)
      throws IOException, InterruptedException {
    HttpRequest request =
        HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + ports[coordinator] + path))
            .timeout(Duration.ofSeconds(5))
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build();
    return client.send(request, HttpResponse.BodyHandlers.ofString());
  }
}
