package dev.pledge.core.spi;

import java.net.URI;
import java.util.Set;

/**
 * Opens {@link MessageSink}s for subscription targets of the URI schemes it knows, for example
 * {@code amqp://guest:guest@127.0.0.1:5672/%2F?exchange=orders}. Only the server (and an
 * application that configures an outbox relay) wires concrete providers; adapters never depend on
 * each other.
 */
public interface MessageSinkProvider {

  /** The URI schemes this provider opens, lower case, for example {@code amqp}. */
  Set<String> schemes();

  /**
   * Checks a target without connecting, so an API can refuse a bad subscription at once.
   *
   * @throws IllegalArgumentException naming the part of the URI that is wrong and why
   */
  void validate(URI target);

  /**
   * Opens a sink for the target. Connecting may be lazy: a broker that is down makes the sink's
   * futures fail with {@link SinkUnavailableException}, not this method.
   *
   * @throws IllegalArgumentException when the target is malformed, as {@link #validate} says
   */
  MessageSink open(URI target);
}
