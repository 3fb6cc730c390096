package dev.pledge.server.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pledge.server.api.Api;
import dev.pledge.server.api.ApiResponse;
import dev.pledge.server.auth.Access;
import dev.pledge.server.auth.Role;
import dev.pledge.server.auth.Tokens;
import dev.pledge.server.console.ConsoleFiles;
import dev.pledge.server.tracing.Tracing;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;

/**
 * Serves the {@link Api}, and the operator's console under {@code /console/} ({@link
 * ConsoleFiles}), over HTTP/1.1 with the JDK's built-in server, one virtual thread per request
 * (chosen by measuring: see {@code docs/http-server-choice.md}). A body larger than {@link
 * Api#MAX_BODY_BYTES} is refused with 413 without being read whole; at most {@link
 * #MAX_CONCURRENT_REQUESTS} requests are handled at once, and one more is answered {@code 503 busy}
 * at once. The JDK server's own bounds (connections, headers, request and response time, idle
 * keep-alive connections) are set from {@link #JDK_SERVER_SETTINGS} unless the JVM was given
 * others.
 */
public final class HttpApiServer implements AutoCloseable {
  /** Requests handled at once; each may hold a body of up to {@link Api#MAX_BODY_BYTES}. */
  public static final int MAX_CONCURRENT_REQUESTS = 1024;

  /**
   * The JDK server's settings, read once when its classes load: so they are set before the first
   * server is made, and only where the JVM was not given a value.
   */
  static final Map<String, String> JDK_SERVER_SETTINGS =
      Map.of(
          "sun.net.httpserver.maxIdleConnections", "4096",
          "sun.net.httpserver.nodelay", "true",
          "sun.net.httpserver.maxReqHeaders", "100",
          "sun.net.httpserver.maxReqHeaderSize", "16384",
          "sun.net.httpserver.maxReqTime", "60",
          "sun.net.httpserver.maxRspTime", "60",
          "jdk.httpserver.maxConnections", "8192");

  private final Semaphore permits;
  private final int maxConcurrentRequests;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final Api api;
  private final ConsoleFiles console = new ConsoleFiles();

  /** The accepted tokens, or null: no authentication, and then the server is on loopback only. */
  private final Tokens tokens;

  /** Whose context an API request's {@code traceparent} becomes, for the spans it starts. */
  private final Tracing tracing;

  private HttpApiServer(
      HttpServer server, Api api, int maxConcurrentRequests, Tokens tokens, Tracing tracing) {
    this.server = server;
    this.api = api;
    this.tokens = tokens;
    this.tracing = tracing;
    this.maxConcurrentRequests = maxConcurrentRequests;
    this.permits = new Semaphore(maxConcurrentRequests);
  }

  /** Binds {@code address} (port 0 picks a free one) and starts serving. */
  public static HttpApiServer start(InetSocketAddress address, Api api) throws IOException {
    return start(address, api, MAX_CONCURRENT_REQUESTS);
  }

  /**
   * As {@link #start(InetSocketAddress, Api)}, handling at most {@code maxConcurrentRequests} at
   * once, in [1, {@value #MAX_CONCURRENT_REQUESTS}].
   */
  public static HttpApiServer start(InetSocketAddress address, Api api, int maxConcurrentRequests)
      throws IOException {
    return start(address, api, maxConcurrentRequests, null);
  }

  /**
   * As {@link #start(InetSocketAddress, Api, int)}, asking every request but {@code GET /health}
   * and the console's files for a bearer token of {@code tokens} with the role {@link Access}
   * names: {@code 401} without a valid token, {@code 403} beyond its role. With {@code tokens} null
   * nothing is asked, and then {@code address} must be a loopback address: a coordinator without
   * tokens is never reachable from another machine.
   */
  public static HttpApiServer start(
      InetSocketAddress address, Api api, int maxConcurrentRequests, Tokens tokens)
      throws IOException {
    return start(address, api, maxConcurrentRequests, tokens, Tracing.off());
  }

  /**
   * As {@link #start(InetSocketAddress, Api, int, Tokens)}, making each API request's {@code
   * traceparent} current while it is handled, so a transaction it creates joins the caller's trace.
   */
  public static HttpApiServer start(
      InetSocketAddress address, Api api, int maxConcurrentRequests, Tokens tokens, Tracing tracing)
      throws IOException {
    Objects.requireNonNull(api, "api");
    Objects.requireNonNull(tracing, "tracing");
    if (tokens == null
        && (address.getAddress() == null || !address.getAddress().isLoopbackAddress())) {
      throw new IllegalArgumentException(
          "without a tokens file the coordinator listens on loopback only (127.0.0.1, ::1), not "
              + address.getHostString()
              + ": give --tokens-file to listen on another address");
    }
    if (maxConcurrentRequests < 1 || maxConcurrentRequests > MAX_CONCURRENT_REQUESTS) {
      throw new IllegalArgumentException(
          "maxConcurrentRequests must be in [1, "
              + MAX_CONCURRENT_REQUESTS
              + "], got "
              + maxConcurrentRequests);
    }
    JDK_SERVER_SETTINGS.forEach((key, value) -> {
      if (System.getProperty(key) == null) {
        System.setProperty(key, value);
      }
    });
    HttpServer server = HttpServer.create(address, 1024);
    HttpApiServer http = new HttpApiServer(server, api, maxConcurrentRequests, tokens, tracing);
    server.setExecutor(http.executor);
    server.createContext("/", exchange -> http.serve(exchange, http::handle));
    server.createContext("/console", exchange -> http.serve(exchange, http::console));
    server.start();
    return http;
  }

  /**
   * Serves {@code path} and below with {@code handler}, under the same bound on concurrent requests
   * and the same tokens as the API (the LRA coordinator, {@code /lra-coordinator}).
   */
  public void mount(String path, com.sun.net.httpserver.HttpHandler handler) {
    Objects.requireNonNull(handler, "handler");
    server.createContext(path, exchange -> serve(exchange, (ex, actor) -> handler.handle(ex)));
  }

  public int port() {
    return server.getAddress().getPort();
  }

  /** Handles one exchange made by {@code actor} (the token's name, or {@link Api#LOCAL_ACTOR}). */
  @FunctionalInterface
  private interface Handler {
    void handle(HttpExchange exchange, String actor) throws IOException;
  }

  private void serve(HttpExchange exchange, Handler handler) throws IOException {
    if (!permits.tryAcquire()) {
      try (exchange) {
        byte[] busy =
            ("{\"error\":\"busy\",\"message\":\"more than "
                    + maxConcurrentRequests
                    + " requests in progress; nothing was recorded, try again\"}")
                .getBytes(StandardCharsets.UTF_8);
        exchange.getResponseHeaders().set("Content-Type", "application/json");
        exchange.getResponseHeaders().set("Retry-After", "1");
        exchange.sendResponseHeaders(503, busy.length);
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(busy);
        }
      }
      return;
    }
    try {
      String actor = admit(exchange);
      if (actor != null) {
        handler.handle(exchange, actor);
      }
    } finally {
      permits.release();
    }
  }

  /**
   * Who makes the request, if it may go on; if not, answers it {@code 401} or {@code 403} and
   * returns null. The token is neither logged nor echoed.
   */
  private String admit(HttpExchange exchange) throws IOException {
    if (tokens == null) {
      return Api.LOCAL_ACTOR;
    }
    Role required =
        Access.required(exchange.getRequestMethod(), exchange.getRequestURI().getPath());
    if (required == null) {
      return "anonymous";
    }
    Tokens.Principal principal =
        tokens.authenticate(exchange.getRequestHeaders().getFirst("Authorization"));
    if (principal == null) {
      exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"pledge\"");
      refuse(
          exchange,
          401,
          "unauthorized",
          "this coordinator asks for a valid token: Authorization: Bearer <token>");
      return null;
    }
    if (!principal.role().covers(required)) {
      refuse(
          exchange,
          403,
          "forbidden",
          "a " + principal.role().label() + " token may not do this; it needs an operator token");
      return null;
    }
    return principal.name();
  }

  private static void refuse(HttpExchange exchange, int status, String code, String message)
      throws IOException {
    try (exchange) {
      byte[] body =
          ("{\"error\":\"" + code + "\",\"message\":\"" + message + "\"}")
              .getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(status, body.length);
      try (OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    }
  }

  /** The operator's console: static files, no request body read. */
  private void console(HttpExchange exchange, String actor) throws IOException {
    try (exchange) {
      ConsoleFiles.Response response =
          console.serve(
              exchange.getRequestMethod(),
              exchange.getRequestURI().getPath(),
              exchange.getRequestHeaders().getFirst("If-None-Match"));
      response
          .headers()
          .forEach((name, value) -> {
            if (!name.equals("Content-Length")) {
              exchange.getResponseHeaders().set(name, value);
            }
          });
      byte[] body = response.body();
      boolean head = exchange.getRequestMethod().equals("HEAD");
      exchange.sendResponseHeaders(response.status(), head || body.length == 0 ? -1 : body.length);
      if (!head && body.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }

  private void handle(HttpExchange exchange, String actor) throws IOException {
    try (exchange) {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readNBytes(Api.MAX_BODY_BYTES + 1);
      }
      ApiResponse response =
          tracing.inRequest(
              exchange.getRequestHeaders()::getFirst,
              () ->
                  api.handle(
                      exchange.getRequestMethod(),
                      exchange.getRequestURI().getPath(),
                      query(exchange.getRequestURI().getRawQuery()),
                      body,
                      actor));
      byte[] bytes = response.body().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", response.contentType());
      exchange.sendResponseHeaders(response.status(), bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> query = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return query;
    }
    for (String pair : raw.split("&", 64)) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value =
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      query.putIfAbsent(key, value);
    }
    return query;
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
