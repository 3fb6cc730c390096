package dev.pledge.example.shop;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A service's HTTP front: the JDK's server on loopback, one virtual thread per request, exact-path
 * routes. It counts the requests in progress, so a caller can wait until a slow answer has finished
 * before it reads the databases.
 */
final class ServiceHttp implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ServiceHttp.class);
  static final int MAX_BODY_BYTES = 1 << 20;

  /** A request as a handler sees it; header names are lower case. */
  record Request(
      String method,
      String path,
      Map<String, String> query,
      Map<String, String> headers,
      String body) {
    String header(String name) {
      return headers.get(name.toLowerCase(Locale.ROOT));
    }

    String bodyText() {
      return body;
    }
  }

  /** An answer: a status and a JSON body (empty for none). */
  record Response(int status, String body) {
    static Response json(int status, String body) {
      return new Response(status, body);
    }
  }

  @FunctionalInterface
  interface Handler {
    Response handle(Request request);
  }

  private final String name;
  private final HttpServer server;
  private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
  private final Map<String, Handler> routes = new ConcurrentHashMap<>();
  private final AtomicInteger inFlight = new AtomicInteger();

  ServiceHttp(String name) {
    this.name = name;
    try {
      server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
    } catch (IOException e) {
      throw new ShopException("the " + name + " service cannot bind a port: " + e.getMessage(), e);
    }
    server.setExecutor(executor);
    server.createContext("/", this::serve);
  }

  void route(String method, String path, Handler handler) {
    routes.put(method + " " + path, handler);
  }

  void start() {
    server.start();
  }

  String baseUrl() {
    return "http://127.0.0.1:" + server.getAddress().getPort();
  }

  /** Requests being answered right now. */
  int inFlight() {
    return inFlight.get();
  }

  private void serve(HttpExchange exchange) throws IOException {
    inFlight.incrementAndGet();
    try (exchange) {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readNBytes(MAX_BODY_BYTES);
      }
      Map<String, String> headers = new LinkedHashMap<>();
      exchange
          .getRequestHeaders()
          .forEach((key, values) -> headers.put(key.toLowerCase(Locale.ROOT), values.getFirst()));
      String path = exchange.getRequestURI().getPath();
      Handler handler = routes.get(exchange.getRequestMethod() + " " + path);
      Response response;
      if (handler == null) {
        response = Response.json(404, "{\"error\":\"not_found\"}");
      } else {
        try {
          response =
              handler.handle(
                  new Request(
                      exchange.getRequestMethod(),
                      path,
                      query(exchange.getRequestURI().getRawQuery()),
                      headers,
                      new String(body, StandardCharsets.UTF_8)));
        } catch (BadRequest e) {
          response = Response.json(400, Json.error("bad_request", e.getMessage()));
        } catch (RuntimeException e) {
          LOG.warn("{} {} {} failed: {}", name, exchange.getRequestMethod(), path, e.toString());
          response = Response.json(500, Json.error("internal", e.getMessage()));
        }
      }
      byte[] bytes = response.body().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(response.status(), bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    } catch (IOException e) {
      // The caller went away (a timed-out coordinator call): its answer is lost, as it may be.
      LOG.debug("{}: answering failed: {}", name, e.toString());
    } finally {
      inFlight.decrementAndGet();
    }
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> query = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return query;
    }
    for (String pair : raw.split("&", 32)) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value =
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      query.putIfAbsent(key, value);
    }
    return query;
  }

  /** A request the service cannot read: answered 400. */
  static final class BadRequest extends RuntimeException {
    private static final long serialVersionUID = 1L;

    BadRequest(String message) {
      super(message);
    }
  }

  @Override
  public void close() {
    server.stop(0);
    executor.shutdownNow();
  }
}
