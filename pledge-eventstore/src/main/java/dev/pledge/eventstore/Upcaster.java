package dev.pledge.eventstore;

import com.fasterxml.jackson.databind.node.ObjectNode;

/**
 * One step of an event type's schema: turns the JSON payload of schema version {@code fromVersion}
 * into that of {@code fromVersion + 1}. Steps chain: a version-1 event read by code at version 3
 * goes through the 1→2 and the 2→3 steps. A step must be a pure function of the payload (it runs on
 * every read; nothing is rewritten in the store).
 */
@FunctionalInterface
public interface Upcaster {
  ObjectNode upcast(ObjectNode payload);
}
