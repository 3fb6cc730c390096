package dev.pledge.eventstore;

import java.util.List;

/**
 * What one append stored: the stream's version after it ({@code nextExpectedVersion}, the version
 * to expect on the next append) and the events with their versions and global positions.
 */
public record AppendResult(String streamId, long nextExpectedVersion, List<RecordedEvent> events) {
  public AppendResult {
    events = List.copyOf(events);
  }

  public long firstPosition() {
    return events.getFirst().position();
  }

  public long lastPosition() {
    return events.getLast().position();
  }
}
