package dev.pledge.eventstore;

import java.util.Map;

/**
 * One event to append, already encoded: its type name, the schema version of its payload, the
 * payload as a JSON object, and string metadata (correlation ids and the like). {@link EventCodec}
 * makes these from the application's own records.
 */
public record EventData(
    String type, int schemaVersion, String payload, Map<String, String> metadata) {
  public EventData {
    EventCodec.checkTypeName(type);
    if (schemaVersion < 1) {
      throw new IllegalArgumentException(
          "schemaVersion of event type '" + type + "' must be >= 1, got " + schemaVersion);
    }
    if (payload == null || payload.isBlank()) {
      throw new IllegalArgumentException("payload of event type '" + type + "' must be JSON");
    }
    metadata = Map.copyOf(metadata);
  }
}
