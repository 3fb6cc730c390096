package dev.pledge.core;

import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A message as the producer describes it; {@code key} may be null (no ordering constraint).
 *
 * @param id the producer's id for the message, or null for the coordinator's {@code <gid>#<n>}. A
 *     producer that sends one message again under a new transaction (an outbox relay retrying after
 *     a crash) names it, so consumers' inboxes recognise the copy; see {@link #ID}
 */
public record MessageSpec(
    String topic, String key, String payload, Map<String, String> headers, String id) {

  /** What a producer's message id may be: the characters and length of a delivered message id. */
  public static final Pattern ID = Pattern.compile("[A-Za-z0-9._:#-]{1,200}");

  public MessageSpec {
    Objects.requireNonNull(topic, "topic");
    payload = payload == null ? "{}" : payload;
    headers = headers == null ? Map.of() : Map.copyOf(headers);
  }

  /** A message whose id the coordinator assigns ({@code <gid>#<n>}). */
  public MessageSpec(String topic, String key, String payload, Map<String, String> headers) {
    this(topic, key, payload, headers, null);
  }
}
