package dev.pledge.spring;

import com.sun.net.httpserver.HttpServer;
import dev.pledge.client.participant.Participant;
import dev.pledge.client.participant.ParticipantRequest;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.springframework.context.SmartLifecycle;

/**
 * Serves the methods annotated with {@link PledgeEndpoint} on the JDK's HTTP server through the
 * SDK's {@link Participant} (headers checked, barrier and transaction around each call), from the
 * context's start to its stop. It starts only when some bean has such a method.
 */
public final class PledgeEndpointServer implements SmartLifecycle {
  private final PledgeProperties.Endpoints settings;
  private final Participant participant;
  private final PledgeEndpointRegistry registry;
  private HttpServer server;
  private ExecutorService executor;

  PledgeEndpointServer(
      PledgeProperties.Endpoints settings,
      Participant participant,
      PledgeEndpointRegistry registry) {
    this.settings = settings;
    this.participant = participant;
    this.registry = registry;
  }

  /** Where the endpoints listen, {@code http://127.0.0.1:PORT}; null when not running. */
  public synchronized String baseUrl() {
    return server == null
        ? null
        : "http://" + settings.bind() + ":" + server.getAddress().getPort();
  }

  @Override
  public synchronized void start() {
    var routes = registry.routes();
    if (!settings.enabled() || routes.isEmpty() || server != null) {
      return;
    }
    try {
      server = HttpServer.create(new InetSocketAddress(settings.bind(), settings.port()), 0);
    } catch (IOException e) {
      throw new UncheckedIOException(
          "cannot listen on " + settings.bind() + ":" + settings.port(), e);
    }
    executor = Executors.newVirtualThreadPerTaskExecutor();
    server.setExecutor(executor);
    routes.forEach((path, route) ->
        server.createContext(
            path,
            participant.op(
                route.endpoint().op(),
                (connection, request) -> invoke(route, connection, request))));
    server.start();
  }

  private static void invoke(
      PledgeEndpointRegistry.Registered route, Connection connection, ParticipantRequest request)
      throws SQLException {
    try {
      route.method().invoke(route.bean(), connection, request);
    } catch (InvocationTargetException e) {
      Throwable cause = e.getCause();
      if (cause instanceof SQLException sql) {
        throw sql;
      }
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      if (cause instanceof Error error) {
        throw error;
      }
      throw new IllegalStateException(cause);
    } catch (IllegalAccessException e) {
      throw new IllegalStateException(e);
    }
  }

  @Override
  public synchronized void stop() {
    if (server != null) {
      server.stop(0);
      executor.close();
      server = null;
    }
  }

  @Override
  public synchronized boolean isRunning() {
    return server != null;
  }
}
