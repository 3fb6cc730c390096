package dev.pledge.bench.client;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
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
 * The participant of the client comparison: a fast HTTP server in a process of its own, so that the
 * client process's CPU is the client's alone. Jetty 12's core server with a non-blocking handler
 * (no thread hand-off): it drains the request body and answers {@code 200 {}} to any {@code POST},
 * as a participant answers an op that succeeded.
 *
 * <p>Run: {@code java -cp CLASSPATH dev.pledge.bench.client.ParticipantStub PORT}; it prints {@code
 * stub ready PORT} when it listens.
 */
public final class ParticipantStub {
  private static final byte[] ANSWER = "{}".getBytes(StandardCharsets.UTF_8);

  private ParticipantStub() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    QueuedThreadPool threads = new QueuedThreadPool(16, 4);
    threads.setName("stub");
    Server server = new Server(threads);
    HttpConfiguration http = new HttpConfiguration();
    http.setSendServerVersion(false);
    http.setSendDateHeader(false);
    ServerConnector connector = new ServerConnector(server, 1, 1, new HttpConnectionFactory(http));
    connector.setHost("127.0.0.1");
    connector.setPort(port);
    connector.setAcceptQueueSize(4096);
    connector.setIdleTimeout(60_000);
    server.addConnector(connector);
    server.setHandler(new Answer());
    server.start();
    System.out.println("stub ready " + port);
    System.out.flush();
    server.join();
  }

  private static final class Answer extends Handler.Abstract.NonBlocking {
    @Override
    public boolean handle(Request request, Response response, Callback callback) {
      Content.Source.consumeAll(
          request,
          Callback.from(
              () -> {
                response.setStatus(200);
                response.getHeaders().put(HttpHeader.CONTENT_TYPE, "application/json");
                response.getHeaders().put(HttpHeader.CONTENT_LENGTH, ANSWER.length);
                response.write(true, ByteBuffer.wrap(ANSWER), callback);
              },
              callback::failed));
      return true;
    }
  }
}
