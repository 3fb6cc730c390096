package dev.pledge.bench.client;

import io.netty.handler.codec.http.HttpMethod;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import org.apache.hc.client5.http.async.methods.SimpleHttpRequest;
import org.apache.hc.client5.http.async.methods.SimpleHttpResponse;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http2.HttpVersionPolicy;
import org.apache.hc.core5.util.Timeout;
import org.eclipse.jetty.client.CompletableResponseListener;
import org.eclipse.jetty.client.ContentResponse;
import org.eclipse.jetty.client.HttpClient;
import org.eclipse.jetty.client.StringRequestContent;
import org.eclipse.jetty.util.thread.QueuedThreadPool;
import reactor.core.publisher.Mono;
import reactor.netty.resources.ConnectionProvider;

/**
 * A candidate HTTP client for the coordinator's participant calls, configured as {@code
 * HttpEffects} needs it: HTTP/1.1 to plain {@code http://} participants, a pool with room for every
 * call in flight, a timeout on every call, no redirects, and an answer of at most {@link
 * #MAX_ANSWER_BYTES} kept. {@link #post} sends one op exactly as {@code HttpEffects.call} does (the
 * same headers and a JSON payload) and completes with the status code, after the answer's body was
 * read.
 */
sealed interface ParticipantClient extends AutoCloseable {
  int MAX_ANSWER_BYTES = 64 * 1024;
  Duration CALL_TIMEOUT = Duration.ofSeconds(30);

  /** The candidates' names, as {@code --client} takes them. */
  List<String> NAMES = List.of("jdk", "jetty", "apache", "reactor");

  CompletableFuture<Integer> post(String url, String gid, String branch, String payload);

  @Override
  void close() throws Exception;

  static ParticipantClient create(String name, int maxConnections) throws Exception {
    return switch (name) {
      case "jdk" -> new Jdk();
      case "jetty" -> new Jetty(maxConnections);
      case "apache" -> new Apache(maxConnections);
      case "reactor" -> new Reactor(maxConnections);
      default ->
          throw new IllegalArgumentException("client must be one of " + NAMES + ", got " + name);
    };
  }

  /**
   * The JDK's {@code java.net.http.HttpClient}, exactly as {@code HttpEffects} builds it: a virtual
   * thread per task as its executor, HTTP/1.1, no redirects, its pool unbounded.
   */
  final class Jdk implements ParticipantClient {
    private final java.net.http.HttpClient client =
        java.net.http.HttpClient.newBuilder()
            .executor(Executors.newVirtualThreadPerTaskExecutor())
            .connectTimeout(Duration.ofSeconds(5))
            .followRedirects(java.net.http.HttpClient.Redirect.NEVER)
            .version(java.net.http.HttpClient.Version.HTTP_1_1)
            .build();

    @Override
    public CompletableFuture<Integer> post(String url, String gid, String branch, String payload) {
      HttpRequest request =
          HttpRequest.newBuilder(URI.create(url))
              .timeout(CALL_TIMEOUT)
              .header("Content-Type", "application/json")
              .header("Pledge-Gid", gid)
              .header("Pledge-Branch", branch)
              .header("Pledge-Op", "action")
              .header("Pledge-Mode", "saga")
              .header("Pledge-Attempt", "1")
              .POST(HttpRequest.BodyPublishers.ofString(payload))
              .build();
      return client
          .sendAsync(request, HttpResponse.BodyHandlers.ofInputStream())
          .thenApply(response -> {
            try (InputStream body = response.body()) {
              byte[] head = body.readNBytes(MAX_ANSWER_BYTES);
              new String(head, StandardCharsets.UTF_8);
              return response.statusCode();
            } catch (IOException e) {
              throw new IllegalStateException(e);
            }
          });
    }

    @Override
    public void close() {
      client.close();
    }
  }

  /** Jetty 12's asynchronous client, its pool sized for every call in flight. */
  final class Jetty implements ParticipantClient {
    private final HttpClient client = new HttpClient();

    Jetty(int maxConnections) throws Exception {
      QueuedThreadPool threads = new QueuedThreadPool();
      threads.setName("jetty-client");
      client.setExecutor(threads);
      client.setMaxConnectionsPerDestination(maxConnections);
      client.setMaxRequestsQueuedPerDestination(4 * maxConnections);
      client.setFollowRedirects(false);
      client.setConnectTimeout(5_000);
      client.start();
    }

    @Override
    public CompletableFuture<Integer> post(String url, String gid, String branch, String payload) {
      var request =
          client
              .newRequest(url)
              .method("POST")
              .timeout(CALL_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)
              .headers(h -> {
                h.put("Pledge-Gid", gid);
                h.put("Pledge-Branch", branch);
                h.put("Pledge-Op", "action");
                h.put("Pledge-Mode", "saga");
                h.put("Pledge-Attempt", "1");
              })
              .body(new StringRequestContent("application/json", payload));
      return new CompletableResponseListener(request, MAX_ANSWER_BYTES)
          .send()
          .thenApply(ContentResponse::getStatus);
    }

    @Override
    public void close() throws Exception {
      client.stop();
    }
  }

  /**
   * Apache HttpClient 5's asynchronous client (its I/O reactor, one thread per core), pool sized
   * for every call in flight, HTTP/1.1 forced. Its simple response consumer buffers the whole
   * answer (no bound of its own: a production use would need a bounded consumer).
   */
  final class Apache implements ParticipantClient {
    private final CloseableHttpAsyncClient client;

    Apache(int maxConnections) {
      client =
          HttpAsyncClients.custom()
              .setVersionPolicy(HttpVersionPolicy.FORCE_HTTP_1)
              .disableRedirectHandling()
              .disableCookieManagement()
              .disableAutomaticRetries()
              .setConnectionManager(
                  PoolingAsyncClientConnectionManagerBuilder.create()
                      .setMaxConnTotal(maxConnections)
                      .setMaxConnPerRoute(maxConnections)
                      .setDefaultConnectionConfig(
                          ConnectionConfig.custom().setConnectTimeout(Timeout.ofSeconds(5)).build())
                      .build())
              .setDefaultRequestConfig(
                  RequestConfig.custom()
                      .setResponseTimeout(Timeout.of(CALL_TIMEOUT))
                      .setConnectionRequestTimeout(Timeout.of(CALL_TIMEOUT))
                      .build())
              .build();
      client.start();
    }

    @Override
    public CompletableFuture<Integer> post(String url, String gid, String branch, String payload) {
      SimpleHttpRequest request =
          SimpleRequestBuilder.post(url)
              .setHeader("Pledge-Gid", gid)
              .setHeader("Pledge-Branch", branch)
              .setHeader("Pledge-Op", "action")
              .setHeader("Pledge-Mode", "saga")
              .setHeader("Pledge-Attempt", "1")
              .setBody(payload, ContentType.APPLICATION_JSON)
              .build();
      CompletableFuture<Integer> done = new CompletableFuture<>();
      client.execute(
          request,
          new FutureCallback<SimpleHttpResponse>() {
            @Override
            public void completed(SimpleHttpResponse response) {
              response.getBodyText();
              done.complete(response.getCode());
            }

            @Override
            public void failed(Exception e) {
              done.completeExceptionally(e);
            }

            @Override
            public void cancelled() {
              done.cancel(false);
            }
          });
      return done;
    }

    @Override
    public void close() throws Exception {
      client.close();
    }
  }

  /** Reactor Netty's HTTP client (Netty's event loops, epoll), pool sized for every call. */
  final class Reactor implements ParticipantClient {
    private final ConnectionProvider pool;
    private final reactor.netty.http.client.HttpClient client;

    Reactor(int maxConnections) {
      pool =
          ConnectionProvider.builder("participants")
              .maxConnections(maxConnections)
              .pendingAcquireMaxCount(4 * maxConnections)
              .build();
      client =
          reactor.netty.http.client.HttpClient.create(pool)
              .followRedirect(false)
              .responseTimeout(CALL_TIMEOUT);
    }

    @Override
    public CompletableFuture<Integer> post(String url, String gid, String branch, String payload) {
      return client
          .request(HttpMethod.POST)
          .uri(url)
          .send((request, out) -> {
            request
                .header("Content-Type", "application/json")
                .header("Pledge-Gid", gid)
                .header("Pledge-Branch", branch)
                .header("Pledge-Op", "action")
                .header("Pledge-Mode", "saga")
                .header("Pledge-Attempt", "1");
            return out.sendString(Mono.just(payload));
          })
          .responseSingle((response, body) ->
              body.asString(StandardCharsets.UTF_8)
                  .defaultIfEmpty("")
                  .map(text -> response.status().code()))
          .toFuture();
    }

    @Override
    public void close() {
      pool.dispose();
    }
  }
}
