package dev.pledge.server.http;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.runtime.RuntimeConfig;
import dev.pledge.server.api.Api;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.HttpEffects;
import dev.pledge.server.runtime.ServerRuntime;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.testkit.InMemoryAuditLog;
import dev.pledge.testkit.InMemorySubscriptionStore;
import dev.pledge.testkit.InMemoryTransactionLog;
import dev.pledge.testkit.process.ChildProcess;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The HTTP server's bounds, over real sockets: request body size, header size and count, long polls
 * waiting at once, and connections (in a child {@code pledge server} whose JVM is given a small
 * {@code jdk.httpserver.maxConnections}, the setting {@link HttpApiServer#JDK_SERVER_SETTINGS}
 * defaults to 8192). Each refusal is an answer or a closed connection, never a hang, and nothing
 * refused is recorded.
 */
class HttpLimitsTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private final HttpClient http = HttpClient.newHttpClient();
  private ServerRuntime runtime;
  private HttpApiServer server;
  private String api;
  private ChildProcess child;

  @BeforeEach
  void start() throws IOException {
    RetryPolicy policy = RetryPolicy.DEFAULT;
    InMemoryTransactionLog log = new InMemoryTransactionLog();
    Subscriptions subscriptions = new Subscriptions(new InMemorySubscriptionStore());
    runtime =
        ServerRuntime.start(
            RuntimeConfig.defaults(policy.callTimeout()),
            new Engine(Limits.DEFAULT, policy),
            log,
            new HttpEffects(policy.callTimeout(), AllowList.loopbackOnly()),
            subscriptions,
            1,
            List.of());
    server =
        HttpApiServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            new Api(
                runtime,
                log,
                Limits.DEFAULT,
                subscriptions,
                AllowList.loopbackOnly(),
                new InMemoryAuditLog(),
                () -> "generated"));
    api = "http://127.0.0.1:" + server.port();
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (child != null) {
      child.close();
    }
    server.close();
    runtime.close();
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(api + path))
            .timeout(WAIT)
            .method(
                method,
                body == null
                    ? HttpRequest.BodyPublishers.noBody()
                    : HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  /** Sends {@code request} on a new connection; the status line, or null when it was closed. */
  private static String rawStatus(int port, String request) throws IOException {
    try (Socket socket = new Socket(InetAddress.getLoopbackAddress(), port)) {
      socket.setSoTimeout((int) WAIT.toMillis());
      OutputStream out = socket.getOutputStream();
      try {
        out.write(request.getBytes(StandardCharsets.ISO_8859_1));
        out.flush();
      } catch (IOException e) {
        return null; // closed before the request was written whole
      }
      try {
        return new BufferedReader(
                new InputStreamReader(socket.getInputStream(), StandardCharsets.ISO_8859_1))
            .readLine();
      } catch (IOException e) {
        return null; // reset
      }
    }
  }

  @Test
  void aBodyOverTheLimit_isAnswered413_andNothingIsCreated() throws Exception {
    String padding = "x".repeat(Api.MAX_BODY_BYTES);
    String body =
        "{\"gid\":\"too-big\",\"mode\":\"saga\",\"branches\":[],\"pad\":\"" + padding + "\"}";

    HttpResponse<String> answer = send("POST", "/api/v1/transactions", body);

    assertThat(answer.statusCode()).isEqualTo(413);
    assertThat(answer.body()).contains("\"error\"");
    assertThat(send("GET", "/api/v1/transactions/too-big", null).statusCode()).isEqualTo(404);
  }

  @Test
  void aHeaderOverTheSizeLimit_orTooManyHeaders_closesTheConnection_beforeTheApiSeesIt()
      throws Exception {
    int port = startChild();
    String huge = "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + "a".repeat(20_000) + "\r\n\r\n";
    StringBuilder many = new StringBuilder("GET /health HTTP/1.1\r\nHost: x\r\n");
    for (int i = 0; i < 150; i++) {
      many.append("X-H").append(i).append(": v\r\n");
    }
    many.append("\r\n");

    String bigStatus = rawStatus(port, huge);
    String manyStatus = rawStatus(port, many.toString());
    String fine = rawStatus(port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");

    assertThat(fine).startsWith("HTTP/1.1 200");
    assertThat(bigStatus).as("the JDK server closes the connection").isNull();
    assertThat(manyStatus).as("the JDK server closes the connection").isNull();
  }

  @Test
  void pastTheBoundOfLongPolls_anotherIsAnswered503_andAWaitOver30sIs400() throws Exception {
    assertThat(
            send("POST", "/api/v1/transactions", "{\"gid\":\"open\",\"mode\":\"tcc\"}")
                .statusCode())
        .isEqualTo(201);
    CompletableFuture<HttpResponse<String>> first =
        http.sendAsync(
            HttpRequest.newBuilder(URI.create(api + "/api/v1/transactions/open?waitSeconds=3"))
                .build(),
            HttpResponse.BodyHandlers.ofString());
    await().atMost(WAIT).until(() -> runtime.longPolls().waiting() == 1);

    HttpResponse<String> second = send("GET", "/api/v1/transactions/open?waitSeconds=3", null);
    HttpResponse<String> tooLong = send("GET", "/api/v1/transactions/open?waitSeconds=31", null);

    assertThat(second.statusCode()).isEqualTo(503);
    assertThat(second.body()).contains("too_many_long_polls");
    assertThat(tooLong.statusCode()).isEqualTo(400);
    assertThat(tooLong.body()).contains("waitSeconds");
    HttpResponse<String> waited = first.get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(waited.statusCode()).isEqualTo(200);
    assertThat(waited.body()).contains("\"status\":\"begun\"");
  }

  /**
   * Starts {@code pledge server} in a child JVM with {@code jvmOptions}, and answers its port. A
   * child, because the JDK server reads its bounds once per JVM, when its first server is made: in
   * this test JVM another test's plain server may have come first.
   */
  private int startChild(String... jvmOptions) throws Exception {
    Path data = Files.createTempDirectory("limits-");
    child =
        ChildProcess.startJava(
            "limits-server",
            ChildProcess.testClasspath(),
            List.of(jvmOptions),
            "dev.pledge.server.Main",
            List.of("server", "--port", "0", "--data-dir", data.toString()),
            data.resolve("server.log"));
    String line = child.awaitLineContaining("listening on", WAIT);
    assertThat(line).startsWith("pledge server listening on http://");
    return Integer.parseInt(line.substring(line.lastIndexOf(':') + 1).strip());
  }

  @Test
  void pastTheBoundOfConnections_aNewOneIsClosed_untilOneIsFreed() throws Exception {
    int port = startChild("-Djdk.httpserver.maxConnections=3");
    String health = "GET /health HTTP/1.1\r\nHost: x\r\n\r\n";

    List<Socket> held = new ArrayList<>();
    try {
      for (int i = 0; i < 3; i++) {
        Socket socket = new Socket(InetAddress.getLoopbackAddress(), port);
        socket.setSoTimeout((int) WAIT.toMillis());
        socket.getOutputStream().write(health.getBytes(StandardCharsets.ISO_8859_1));
        assertThat(readStatus(socket.getInputStream())).startsWith("HTTP/1.1 200");
        held.add(socket); // kept alive and open: it counts against the bound
      }
      assertThat(rawStatus(port, health)).isNull();

      held.remove(0).close();
      await()
          .atMost(WAIT)
          .until(() -> {
            String status = rawStatus(port, health);
            return status != null && status.startsWith("HTTP/1.1 200");
          });
    } finally {
      for (Socket socket : held) {
        socket.close();
      }
    }
  }

  /** Reads one answer's status line and headers, leaving the connection open. */
  private static String readStatus(InputStream in) throws IOException {
    StringBuilder head = new StringBuilder();
    int c;
    while ((c = in.read()) != -1) {
      head.append((char) c);
      if (head.toString().endsWith("\r\n\r\n")) {
        break;
      }
    }
    String text = head.toString();
    int length = 0;
    for (String header : text.split("\r\n")) {
      if (header.toLowerCase(java.util.Locale.ROOT).startsWith("content-length:")) {
        length = Integer.parseInt(header.substring(15).strip());
      }
    }
    in.readNBytes(length);
    return text.lines().findFirst().orElse("");
  }
}
