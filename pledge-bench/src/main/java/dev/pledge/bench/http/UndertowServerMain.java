package dev.pledge.bench.http;

import io.undertow.Undertow;
import io.undertow.UndertowOptions;
import io.undertow.server.HttpServerExchange;
import io.undertow.util.Headers;
import io.undertow.util.HttpString;
import java.io.InputStream;
import java.io.OutputStream;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.xnio.Options;

/**
 * Candidate 4: Undertow's core (XNIO non-blocking I/O threads, no servlet layer). Undertow has no
 * virtual thread mode of its own: each exchange is dispatched from its I/O thread to a virtual
 * thread, where it reads and writes in blocking mode. With a second argument {@code worker} it is
 * dispatched instead to Undertow's own worker pool of platform threads (16 on 2 cores), its
 * conventional blocking setup, to tell Undertow's cost from the cost of running it on virtual
 * threads. Dependencies: undertow-core, xnio-api, xnio-nio, jboss-logging, jboss-threads,
 * wildfly-common, wildfly-client-config and four smallrye-common jars.
 *
 * <p>Run: {@code java -cp CLASSPATH dev.pledge.bench.http.UndertowServerMain 18084 [worker]}
 */
public final class UndertowServerMain {
  private static final ExecutorService VIRTUAL = Executors.newVirtualThreadPerTaskExecutor();
  private static final HttpString THREAD = new HttpString(Workload.THREAD_HEADER);
  private static volatile boolean onWorkerPool;

  private UndertowServerMain() {}

  public static void main(String[] args) {
    int port = Workload.port(args);
    onWorkerPool = args.length > 1 && args[1].equals("worker");
    int idleMillis = (int) Workload.IDLE_TIMEOUT.toMillis();
    Undertow server =
        Undertow.builder()
            .addHttpListener(port, "127.0.0.1")
            .setSocketOption(Options.BACKLOG, 1024)
            .setSocketOption(Options.TCP_NODELAY, true)
            .setServerOption(UndertowOptions.MAX_ENTITY_SIZE, (long) Workload.MAX_BODY_BYTES)
            .setServerOption(UndertowOptions.MAX_HEADER_SIZE, Workload.MAX_HEADER_BYTES)
            .setServerOption(UndertowOptions.MAX_HEADERS, Workload.MAX_HEADER_COUNT)
            .setServerOption(UndertowOptions.IDLE_TIMEOUT, idleMillis)
            .setServerOption(UndertowOptions.NO_REQUEST_TIMEOUT, idleMillis)
            .setServerOption(UndertowOptions.REQUEST_PARSE_TIMEOUT, idleMillis)
            .setHandler(UndertowServerMain::serve)
            .build();
    server.start();
    Workload.ready(onWorkerPool ? "undertow-worker" : "undertow", port);
  }

  private static void serve(HttpServerExchange exchange) throws Exception {
    if (exchange.isInIoThread()) {
      if (onWorkerPool) {
        exchange.dispatch(UndertowServerMain::serve);
      } else {
        exchange.dispatch(VIRTUAL, UndertowServerMain::serve);
      }
      return;
    }
    exchange.startBlocking();
    Workload.Reply reply =
        Workload.handle(
            exchange.getRequestMethod().toString(),
            exchange.getRequestPath(),
            exchange.getQueryString(),
            () -> {
              Workload.checkDeclaredLength(
                  exchange.getRequestHeaders().getFirst(Headers.CONTENT_LENGTH));
              try (InputStream in = exchange.getInputStream()) {
                return Workload.readBounded(in);
              }
            });
    exchange.setStatusCode(reply.status());
    exchange.getResponseHeaders().put(Headers.CONTENT_TYPE, Workload.JSON);
    exchange.getResponseHeaders().put(THREAD, reply.thread());
    exchange.setResponseContentLength(reply.body().length);
    try (OutputStream out = exchange.getOutputStream()) {
      out.write(reply.body());
    }
    exchange.endExchange();
  }
}
