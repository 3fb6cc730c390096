package dev.pledge.eventstore;

import java.time.Instant;
import java.util.Map;

/**
 * An event as stored: its global {@code position} (1, 2, 3, … in commit order, no gaps), its stream
 * and {@code version} in that stream (1, 2, 3, …), its type name, the schema version it was written
 * with, the JSON payload as written (upcasting happens when {@link EventCodec} decodes it), its
 * metadata, and when it was recorded.
 */
public record RecordedEvent(
    long position,
    String streamId,
    long version,
    String type,
    int schemaVersion,
    String payload,
    Map<String, String> metadata,
    Instant recordedAt) {
  public RecordedEvent {
    metadata = Map.copyOf(metadata);
  }
}
