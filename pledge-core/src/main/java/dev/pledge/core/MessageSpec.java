package dev.pledge.core;

import java.util.Map;
import java.util.Objects;

/** A message as the producer describes it; {@code key} may be null (no ordering constraint). */
public record MessageSpec(String topic, String key, String payload, Map<String, String> headers) {
  public MessageSpec {
    Objects.requireNonNull(topic, "topic");
    payload = payload == null ? "{}" : payload;
    headers = headers == null ? Map.of() : Map.copyOf(headers);
  }
}
