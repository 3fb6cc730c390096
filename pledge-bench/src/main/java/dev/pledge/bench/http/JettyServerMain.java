package dev.pledge.bench.http;

import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.concurrent.Executors;
import org.eclipse.jetty.http.HttpHeader;
import org.eclipse.jetty.io.Content;
import org.eclipse.jetty.server.Handler;
import org.eclipse.jetty.server.HttpConfiguration;
import org.eclipse.jetty.server.HttpConnectionFactory;
import org.eclipse.jetty.server.Request;
import org.eclipse.jetty.server.Response;
import org.eclipse.jetty.server.Server;
import org.eclipse.jetty.server.ServerConnector;
import org.eclipse.jetty.util.Callback;
import org.eclipse.jetty.util.thread.QueuedThreadPool;

/**
 * Candidate 2: Jetty 12's core server (no servlet layer), handlers on virtual threads.
 *
 * <p>Jetty keeps its selectors and acceptors on a small pool of platform threads and, with a
 * virtual threads executor set on its {@link QueuedThreadPool}, runs every blocking handler (the
 * default invocation type) on a new virtual thread. Dependencies: jetty-server, -http, -io, -util
 * and slf4j-api.
 *
 * <p>Run: {@code java -cp CLASSPATH dev.pledge.bench.http.JettyServerMain 18082}
 */
public final class JettyServerMain {
  private JettyServerMain() {}

  public static void main(String[] args) throws Exception {
    int port = Workload.port(args);
    QueuedThreadPool threads = new QueuedThreadPool();
    threads.setName("jetty");
    threads.setVirtualThreadsExecutor(Executors.newVirtualThreadPerTaskExecutor());
    Server server = new Server(threads);

    HttpConfiguration http = new HttpConfiguration();
    http.setRequestHeaderSize(Workload.MAX_HEADER_BYTES);
    http.setSendServerVersion(false);
    ServerConnector connector = new ServerConnector(server, new HttpConnectionFactory(http));
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    connector.setIdleTimeout(Workload.IDLE_TIMEOUT.toMillis());
    connector.setAcceptQueueSize(1024);
    server.addConnector(connector);
    server.setHandler(new WorkloadHandler());
    server.start();
    Workload.ready("jetty", port);
    server.join();
  }

  private static final class WorkloadHandler extends Handler.Abstract {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      Workload.Reply reply =
          Workload.handle(
              request.getMethod(),
              request.getHttpURI().getPath(),
              request.getHttpURI().getQuery(),
              () -> {
                Workload.checkDeclaredLength(request.getHeaders().get(HttpHeader.CONTENT_LENGTH));
                try (InputStream in = Content.Source.asInputStream(request)) {
                  return Workload.readBounded(in);
                }
              });
      response.setStatus(reply.status());
      response.getHeaders().put(HttpHeader.CONTENT_TYPE, Workload.JSON);
      response.getHeaders().put(Workload.THREAD_HEADER, reply.thread());
      response.getHeaders().put(HttpHeader.CONTENT_LENGTH, reply.body().length);
      response.write(true, ByteBuffer.wrap(reply.body()), callback);
      return true;
    }
  }
}
