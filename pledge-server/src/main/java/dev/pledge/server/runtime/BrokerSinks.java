package dev.pledge.server.runtime;

import dev.pledge.core.Outcome;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.core.spi.MessageSinkProvider;
import dev.pledge.core.spi.SinkRejectedException;
import java.net.URI;
import java.util.Iterator;
import java.util.Locale;
import java.util.Map;
import java.util.ServiceLoader;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The broker targets of subscriptions ({@code amqp://}, {@code kafka://}, {@code nats://}): the
 * {@link MessageSinkProvider}s found on the server's classpath by {@link ServiceLoader}, and the
 * sinks opened from them, one per target, reused by every delivery to it.
 *
 * <p>The broker modules are on {@code pledge server}'s runtime classpath (pledge-server depends on
 * them at runtime scope, so no server code compiles against an adapter); a provider jar dropped on
 * the classpath is found the same way. A delivery is acknowledged when the sink's future completes
 * normally (the publisher confirm, {@code acks=all}, the JetStream ack); anything else is unknown
 * and retried, up to the bound after which the delivery is dead.
 */
public final class BrokerSinks implements AutoCloseable {
  /** The most sinks open at once; past it, the least recently opened one is closed first. */
  static final int MAX_OPEN = 64;

  private final Map<String, MessageSinkProvider> byScheme;
  private final Map<String, MessageSink> open = new ConcurrentHashMap<>();

  private BrokerSinks(Map<String, MessageSinkProvider> byScheme) {
    this.byScheme = Map.copyOf(byScheme);
  }

  /** The providers on the classpath, by scheme (a scheme two providers claim is refused). */
  public static BrokerSinks discover() {
    Map<String, MessageSinkProvider> byScheme = new TreeMap<>();
    for (MessageSinkProvider provider : ServiceLoader.load(MessageSinkProvider.class)) {
      for (String scheme : provider.schemes()) {
        MessageSinkProvider before = byScheme.putIfAbsent(scheme, provider);
        if (before != null) {
          throw new IllegalStateException(
              "two message sink providers claim scheme "
                  + scheme
                  + ": "
                  + before.getClass().getName()
                  + " and "
                  + provider.getClass().getName());
        }
      }
    }
    return new BrokerSinks(byScheme);
  }

  /** The schemes a broker provider opens, sorted. */
  public Set<String> schemes() {
    return new java.util.TreeSet<>(byScheme.keySet());
  }

  /** Whether {@code target}'s scheme is one of a broker provider's. */
  public boolean handles(String target) {
    return provider(target) != null;
  }

  /**
   * Why {@code target} cannot be a subscription's broker target, or null when it can. Connects to
   * nothing.
   */
  public String problem(String target) {
    MessageSinkProvider provider = provider(target);
    if (provider == null) {
      return "no provider on the coordinator's classpath for this scheme (it has "
          + (byScheme.isEmpty() ? "none" : String.join(", ", schemes()))
          + ")";
    }
    try {
      provider.validate(URI.create(target));
      return null;
    } catch (IllegalArgumentException e) {
      return e.getMessage();
    }
  }

  /** Publishes one delivery to the sink of {@code target}; acknowledged is {@code SUCCEEDED}. */
  public CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target) {
    MessageSink sink;
    TransactionalMessage message;
    try {
      sink = sink(target);
      message =
          new TransactionalMessage(
              delivery.messageId(),
              delivery.topic(),
              delivery.key(),
              delivery.payload(),
              delivery.headers(),
              delivery.gid().value());
    } catch (IllegalArgumentException e) {
      return CompletableFuture.completedFuture(
          new Outcome.Unknown("cannot publish to " + redacted(target) + ": " + e.getMessage()));
    }
    return sink.publish(message)
        .handle((ok, failure) -> {
          if (failure == null) {
            return Outcome.SUCCEEDED;
          }
          Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
          String kind = cause instanceof SinkRejectedException ? "rejected" : "unavailable";
          return new Outcome.Unknown("broker " + kind + ": " + cause.getMessage());
        });
  }

  private MessageSink sink(String target) {
    MessageSink sink = open.get(target);
    if (sink != null) {
      return sink;
    }
    synchronized (open) {
      sink = open.get(target);
      if (sink == null) {
        MessageSinkProvider provider = provider(target);
        if (provider == null) {
          throw new IllegalArgumentException("no provider for this scheme");
        }
        if (open.size() >= MAX_OPEN) {
          Iterator<Map.Entry<String, MessageSink>> oldest = open.entrySet().iterator();
          MessageSink dropped = oldest.next().getValue();
          oldest.remove();
          dropped.close();
        }
        sink = provider.open(URI.create(target));
        open.put(target, sink);
      }
      return sink;
    }
  }

  private MessageSinkProvider provider(String target) {
    int colon = target.indexOf(':');
    return colon < 1 ? null : byScheme.get(target.substring(0, colon).toLowerCase(Locale.ROOT));
  }

  /** The target without its user information (a password never reaches the log). */
  static String redacted(String target) {
    try {
      URI uri = URI.create(target);
      return uri.getUserInfo() == null
          ? target
          : uri.getScheme() + "://…@" + uri.getHost() + ":" + uri.getPort() + uri.getRawPath();
    } catch (IllegalArgumentException e) {
      return "a malformed target";
    }
  }

  /** Closes every sink opened. */
  @Override
  public void close() {
    synchronized (open) {
      open.values().forEach(MessageSink::close);
      open.clear();
    }
  }
}
