package dev.pledge.bench.http;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.util.concurrent.Executors;

/**
 * Candidate 1: the JDK's built-in {@code com.sun.net.httpserver.HttpServer} (module
 * jdk.httpserver), one virtual thread per exchange. No dependency.
 *
 * <p>Its limits and timeouts are JVM-wide system properties read once, when the server classes
 * load, so they are set here before the server is created. Without {@code
 * sun.net.httpserver.nodelay=true} it leaves Nagle's algorithm on, and without {@code
 * sun.net.httpserver.maxIdleConnections} it closes every keep-alive connection past the 200th.
 *
 * <p>With a second argument {@code defaults} none of these properties is set: the server as {@code
 * pledge-server}'s {@code HttpApiServer} runs it today.
 *
 * <p>Run: {@code java -cp CLASSPATH dev.pledge.bench.http.JdkServerMain 18081 [defaults]}
 */
public final class JdkServerMain {
  private JdkServerMain() {}

  public static void main(String[] args) throws IOException {
    boolean defaults = args.length > 1 && args[1].equals("defaults");
    if (!defaults) {
      configure();
    }
    int port = Workload.port(args);
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 1024);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    server.createContext("/", JdkServerMain::serve);
    server.start();
    Workload.ready(defaults ? "jdk-defaults" : "jdk", port);
  }

  /** The same limits as the other candidates, Nagle off, and room for many keep-alive clients. */
  private static void configure() {
    String idleSeconds = Long.toString(Workload.IDLE_TIMEOUT.toSeconds());
    System.setProperty("sun.net.httpserver.maxReqHeaders", "" + Workload.MAX_HEADER_COUNT);
    System.setProperty("sun.net.httpserver.maxReqHeaderSize", "" + Workload.MAX_HEADER_BYTES);
    // maxReqTime bounds reading a request's headers; idleInterval closes idle keep-alive
    // connections. Both are in seconds.
    System.setProperty("sun.net.httpserver.maxReqTime", idleSeconds);
    System.setProperty("sun.net.httpserver.maxRspTime", idleSeconds);
    System.setProperty("sun.net.httpserver.idleInterval", idleSeconds);
    System.setProperty("sun.net.httpserver.nodelay", "true");
    // The server keeps at most this many idle keep-alive connections (default 200) and closes the
    // rest after their response, which clients see as read errors above 200 connections.
    System.setProperty("sun.net.httpserver.maxIdleConnections", "4096");
  }

  private static void serve(HttpExchange exchange) throws IOException {
    try (exchange) {
      Workload.Reply reply =
          Workload.handle(
              exchange.getRequestMethod(),
              exchange.getRequestURI().getRawPath(),
              exchange.getRequestURI().getRawQuery(),
              () -> {
                Workload.checkDeclaredLength(
                    exchange.getRequestHeaders().getFirst("Content-Length"));
                try (InputStream in = exchange.getRequestBody()) {
                  return Workload.readBounded(in);
                }
              });
      exchange.getResponseHeaders().set("Content-Type", Workload.JSON);
      exchange.getResponseHeaders().set(Workload.THREAD_HEADER, reply.thread());
      byte[] body = reply.body();
      exchange.sendResponseHeaders(reply.status(), body.length == 0 ? -1 : body.length);
      if (body.length > 0) {
        try (OutputStream out = exchange.getResponseBody()) {
          out.write(body);
        }
      }
    }
  }
}
