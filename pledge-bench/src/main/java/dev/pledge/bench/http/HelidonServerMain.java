package dev.pledge.bench.http;

import io.helidon.http.HeaderNames;
import io.helidon.webserver.WebServer;
import io.helidon.webserver.http.ServerRequest;
import io.helidon.webserver.http.ServerResponse;
import io.helidon.webserver.http1.Http1Config;
import java.io.InputStream;

/**
 * Candidate 3: Helidon SE 4's web server (formerly Níma), written for virtual threads: one virtual
 * thread per connection reads requests with blocking I/O, and handlers run on it. Dependencies: 38
 * helidon-* jars (common, http, config, service registry, features, metrics API).
 *
 * <p>Run: {@code java -cp CLASSPATH dev.pledge.bench.http.HelidonServerMain 18083}
 */
public final class HelidonServerMain {
  private HelidonServerMain() {}

  public static void main(String[] args) {
    int port = Workload.port(args);
    WebServer server =
        WebServer.builder()
            .host("127.0.0.1")
            .port(port)
            .backlog(1024)
            .maxPayloadSize(Workload.MAX_BODY_BYTES)
            .idleConnectionTimeout(Workload.IDLE_TIMEOUT)
            .connectionOptions(socket -> socket.tcpNoDelay(true))
            .addProtocol(Http1Config.builder().maxHeadersSize(Workload.MAX_HEADER_BYTES).build())
            .routing(routing -> routing.any(HelidonServerMain::serve))
            .build()
            .start();
    Workload.ready("helidon", server.port());
  }

  private static void serve(ServerRequest request, ServerResponse response) {
    Workload.Reply reply =
        Workload.handle(
            request.prologue().method().text(),
            request.path().rawPath(),
            request.query().rawValue(),
            () -> {
              Workload.checkDeclaredLength(
                  request.headers().first(HeaderNames.CONTENT_LENGTH).orElse(null));
              try (InputStream in = request.content().inputStream()) {
                return Workload.readBounded(in);
              }
            });
    response.status(reply.status());
    response.header(HeaderNames.CONTENT_TYPE, Workload.JSON);
    response.header(Workload.THREAD_HEADER, reply.thread());
    response.send(reply.body());
  }
}
