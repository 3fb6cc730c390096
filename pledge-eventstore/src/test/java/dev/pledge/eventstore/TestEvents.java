package dev.pledge.eventstore;

import java.util.Map;

/** Event records of the tests, and their codec. */
final class TestEvents {
  private TestEvents() {}

  record Deposited(String account, long cents) {}

  record Withdrawn(String account, long cents, String reason) {}

  static final EventCodec CODEC =
      EventCodec.builder()
          .register("deposited", Deposited.class)
          .register("withdrawn", Withdrawn.class, 2)
          // Version 1 of "withdrawn" had no reason.
          .upcast("withdrawn", 1, json -> json.put("reason", "unknown"))
          .build();

  static EventData deposited(long cents) {
    return CODEC.encode(new Deposited("acc", cents), Map.of("by", "test"));
  }
}
