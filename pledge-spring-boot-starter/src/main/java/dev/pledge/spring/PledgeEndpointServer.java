package dev.pledge.spring;

import com.sun.net.httpserver.HttpServer;
import dev.pledge.client.barrier.LocalTransactions;
import dev.pledge.client.inbox.Inbox;
import dev.pledge.client.inbox.InboxOutcome;
import dev.pledge.client.participant.Participant;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageHandler;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.lang.reflect.InvocationTargetException;
import java.net.InetSocketAddress;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicLong;
import org.springframework.context.SmartLifecycle;

/**
 * Serves the methods annotated with {@link PledgeEndpoint} on the JDK's HTTP server through the
 * SDK's {@link Participant} (headers checked, barrier and transaction around each call), and those
 * annotated with {@link PledgeSubscriber} as delivery targets through the SDK's {@link Inbox} (in
 * the application's transaction), from the context's start to its stop. It starts only when some
 * bean has such a method.
 */
public final class PledgeEndpointServer implements SmartLifecycle {
  private final PledgeProperties.Endpoints settings;
  private final Participant participant;
  private final Inbox inbox;
  private final LocalTransactions transactions;
  private final PledgeEndpointRegistry registry;
  private final Map<String, Counts> counts = new ConcurrentHashMap<>();
  private HttpServer server;
  private ExecutorService executor;

  /**
   * What a subscriber's deliveries came to so far: messages handled (the method ran and committed),
   * duplicates acknowledged without running it, deliveries that failed (delivered again later).
   */
  public record SubscriberCounts(long handled, long duplicates, long failed) {}

  private record Counts(AtomicLong handled, AtomicLong duplicates, AtomicLong failed) {
    Counts() {
      this(new AtomicLong(), new AtomicLong(), new AtomicLong());
    }
  }

  PledgeEndpointServer(
      PledgeProperties.Endpoints settings,
      Participant participant,
      Inbox inbox,
      LocalTransactions transactions,
      PledgeEndpointRegistry registry) {
    this.settings = settings;
    this.participant = participant;
    this.inbox = inbox;
    this.transactions = transactions;
    this.registry = registry;
  }

  /**
   * The method annotated with {@code @PledgeSubscriber(path = path)} as a {@link MessageHandler}
   * for a broker consumer adapter: each message goes through the inbox in one transaction of the
   * application's, as a delivery over HTTP does. It returns once the effect committed or the
   * message was a duplicate, and throws when it was not handled.
   *
   * @throws IllegalArgumentException when no subscriber method has that path
   */
  public MessageHandler subscriber(String path) {
    PledgeEndpointRegistry.Registered route = registry.routes().get(path);
    if (route == null || !route.isSubscriber()) {
      throw new IllegalArgumentException("no @PledgeSubscriber method has the path " + path);
    }
    return message -> receive(route, message);
  }

  /** The counts of the subscriber at {@code path} (all zero before its first delivery). */
  public SubscriberCounts subscriberCounts(String path) {
    Counts c = counts.get(path);
    return c == null
        ? new SubscriberCounts(0, 0, 0)
        : new SubscriberCounts(c.handled().get(), c.duplicates().get(), c.failed().get());
  }

  private void receive(PledgeEndpointRegistry.Registered route, TransactionalMessage message) {
    Counts c = counts.computeIfAbsent(route.path(), path -> new Counts());
    InboxOutcome[] outcome = new InboxOutcome[1];
    try {
      transactions.inTransaction(connection ->
          outcome[0] = inbox.handle(connection, message, work -> invoke(route, work, message)));
    } catch (SQLException e) {
      c.failed().incrementAndGet();
      throw new IllegalStateException(
          "message " + message.id() + " not handled, the database failed: " + e, e);
    } catch (RuntimeException | Error e) {
      c.failed().incrementAndGet();
      throw e;
    }
    (outcome[0] == InboxOutcome.DUPLICATE ? c.duplicates() : c.handled()).incrementAndGet();
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
            route.isSubscriber()
                ? Participant.deliveries(message -> receive(route, message))
                : participant.op(
                    route.endpoint().op(),
                    (connection, request) -> invoke(route, connection, request))));
    server.start();
  }

  private static void invoke(
      PledgeEndpointRegistry.Registered route, Connection connection, Object argument)
      throws SQLException {
    try {
      route.method().invoke(route.bean(), connection, argument);
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
