package dev.pledge.server.runtime;

import java.util.function.BiConsumer;

/**
 * Headers added to every op call and check-back {@link HttpEffects} sends, beside the protocol's
 * own: the seam through which tracing passes the W3C {@code traceparent} to participants. It is
 * asked on the thread that sends the call, so it can read what is current there (the call's span).
 */
@FunctionalInterface
public interface OutgoingHeaders {
  OutgoingHeaders NONE = header -> {};

  /** Adds headers by calling {@code header} with each name and value; must not throw. */
  void addTo(BiConsumer<String, String> header);
}
