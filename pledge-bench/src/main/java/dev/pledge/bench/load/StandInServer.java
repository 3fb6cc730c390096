package dev.pledge.bench.load;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Engine;
import dev.pledge.server.api.Api;
import dev.pledge.server.api.ApiResponse;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.Coordinator;
import dev.pledge.server.runtime.HttpEffects;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.store.jdbc.JdbcLogConfig;
import dev.pledge.store.jdbc.JdbcTransactionLog;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.Executors;

/**
 * A stand-in for {@code pledge server --port P --data-dir D [--db URL --db-user U]} while that
 * command is not on this branch: the same wiring (the JDBC log, the coordinator, the API on the
 * JDK's HTTP server with virtual threads, the default limits and retry policy), the same ready
 * line, and {@code /metrics} with the log's {@code pledge_log_records_total} and {@code
 * pledge_log_commits_total}. {@code bench --server-main dev.pledge.bench.load.StandInServer}
 * selects it; the default is the real {@code dev.pledge.server.Main}.
 */
public final class StandInServer {
  private StandInServer() {}

  public static void main(String[] args) throws IOException, InterruptedException {
    Map<String, String> options = new LinkedHashMap<>();
    if (args.length == 0 || !args[0].equals("server")) {
      throw new IllegalArgumentException("usage: server --port P --data-dir D [--db URL]");
    }
    for (int i = 1; i + 1 < args.length; i += 2) {
      options.put(args[i], args[i + 1]);
    }
    int port = Integer.parseInt(options.getOrDefault("--port", "0"));
    Path data = Path.of(options.getOrDefault("--data-dir", "data"));
    String url = options.getOrDefault("--db", "jdbc:sqlite:" + data.resolve("pledge.db"));
    JdbcLogConfig config =
        JdbcLogConfig.forUrl(url)
            .withCredentials(options.get("--db-user"), System.getenv("PLEDGE_DB_PASSWORD"));
    JdbcTransactionLog log = JdbcTransactionLog.open(config);
    Subscriptions subscriptions = new Subscriptions();
    Coordinator coordinator =
        new Coordinator(
            new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT),
            log,
            InstantSource.system(),
            new HttpEffects(RetryPolicy.DEFAULT.callTimeout(), AllowList.loopbackOnly()),
            subscriptions,
            Duration.ofSeconds(1));
    coordinator.start();
    Api api =
        new Api(
            coordinator,
            log,
            Limits.DEFAULT,
            subscriptions,
            AllowList.loopbackOnly(),
            () -> UUID.randomUUID().toString());
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1024);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", exchange -> serve(exchange, api, log));
    server.start();
    System.out.println(
        "pledge server listening on http://127.0.0.1:" + server.getAddress().getPort());
    System.out.flush();
    Thread.currentThread().join();
  }

  private static void serve(HttpExchange exchange, Api api, JdbcTransactionLog log)
      throws IOException {
    try (exchange) {
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readNBytes(Api.MAX_BODY_BYTES + 1);
      }
      Map<String, String> query = new LinkedHashMap<>();
      String raw = exchange.getRequestURI().getRawQuery();
      if (raw != null && !raw.isEmpty()) {
        for (String pair : raw.split("&", 64)) {
          int eq = pair.indexOf('=');
          query.putIfAbsent(
              URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8),
              eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8));
        }
      }
      String path = exchange.getRequestURI().getPath();
      ApiResponse response = api.handle(exchange.getRequestMethod(), path, query, body);
      String text = response.body();
      if (path.equals("/metrics") && response.status() == 200) {
        JdbcTransactionLog.Stats stats = log.stats();
        text +=
            "# TYPE pledge_log_records_total counter\npledge_log_records_total "
                + stats.records()
                + "\n# TYPE pledge_log_commits_total counter\npledge_log_commits_total "
                + stats.commits()
                + "\n";
      }
      byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", response.contentType());
      exchange.sendResponseHeaders(response.status(), bytes.length == 0 ? -1 : bytes.length);
      if (bytes.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(bytes);
        }
      }
    }
  }
}
