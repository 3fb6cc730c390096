package dev.pledge.eventstore;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.ObjectReader;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * Turns the application's own event records into {@link EventData} and back, as plain JSON.
 *
 * <p>Each record class is registered under a type name the application chooses (never its class
 * name: renaming or moving the class must not break stored events) and its current schema version.
 * The JSON is the record's components, nothing else: no Java serialization, no type hints inside
 * the payload. When a record's shape changes, its schema version goes up by one and an {@link
 * Upcaster} turns the old JSON into the new; stored events are never rewritten, they are upcast on
 * every read.
 *
 * <p>Built once with {@link #builder()}; immutable and thread-safe.
 */
public final class EventCodec {
  private static final Pattern TYPE_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9._-]{0,199}");

  private final ObjectMapper json;
  private final Map<String, Registration> byName;
  private final Map<Class<?>, Registration> byClass;
  private final Map<String, Map<Integer, Upcaster>> upcasters;

  /**
   * A registered type, with the reader Jackson built for its record once: {@code readValue(String,
   * Class)} on the mapper looks up the type and its root deserializer on every call, which was most
   * of the time a catch-up spent decoding.
   */
  private record Registration(
      String name, Class<? extends Record> type, int schemaVersion, ObjectReader reader) {}

  private EventCodec(Builder builder) {
    this.json = builder.json;
    Map<String, Registration> names = new HashMap<>();
    Map<Class<?>, Registration> classes = new HashMap<>();
    builder.byName.forEach((name, r) -> {
      Registration withReader =
          new Registration(r.name(), r.type(), r.schemaVersion(), json.readerFor(r.type()));
      names.put(name, withReader);
      classes.put(r.type(), withReader);
    });
    this.byName = Map.copyOf(names);
    this.byClass = Map.copyOf(classes);
    Map<String, Map<Integer, Upcaster>> steps = new HashMap<>();
    builder.upcasters.forEach((name, map) -> steps.put(name, Map.copyOf(map)));
    this.upcasters = Map.copyOf(steps);
  }

  public static Builder builder() {
    return new Builder();
  }

  static void checkTypeName(String type) {
    if (type == null || !TYPE_NAME.matcher(type).matches()) {
      throw new IllegalArgumentException(
          "event type name must match "
              + TYPE_NAME.pattern()
              + " (a name of your choosing, not a class name), got '"
              + type
              + "'");
    }
  }

  /** The JSON mapper the codec uses (plain, no default typing); for snapshots and read models. */
  public ObjectMapper json() {
    return json;
  }

  /** The type name {@code eventClass} is registered under. */
  public String typeName(Class<?> eventClass) {
    return registration(eventClass).name();
  }

  public EventData encode(Object event) {
    return encode(event, Map.of());
  }

  public EventData encode(Object event, Map<String, String> metadata) {
    Registration registration = registration(event.getClass());
    try {
      return new EventData(
          registration.name(),
          registration.schemaVersion(),
          json.writeValueAsString(event),
          metadata);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "event of type '" + registration.name() + "' cannot be written as JSON: " + e, e);
    }
  }

  /** The stored event as the application's record of its type, upcast to its current schema. */
  public Record decode(RecordedEvent event) {
    Registration registration = byName.get(event.type());
    if (registration == null) {
      throw new EventStoreException(
          "event at position "
              + event.position()
              + " has type '"
              + event.type()
              + "', which this codec does not know (register it, or skip it by type)");
    }
    try {
      if (event.schemaVersion() == registration.schemaVersion()) {
        // Already of the current schema (the usual case): straight into the record, without the
        // tree that upcasters work on, which would parse and copy every payload twice.
        if (!isJsonObject(event.payload())) {
          throw new EventStoreException(
              "event at position " + event.position() + " has a payload that is not a JSON object");
        }
        return registration.reader().readValue(event.payload());
      }
      JsonNode node = json.readTree(event.payload());
      if (!(node instanceof ObjectNode object)) {
        throw new EventStoreException(
            "event at position " + event.position() + " has a payload that is not a JSON object");
      }
      ObjectNode current = upcast(registration, event.schemaVersion(), object, event.position());
      return registration.reader().readValue(current);
    } catch (JsonProcessingException e) {
      throw new EventStoreException(
          "event at position "
              + event.position()
              + " of type '"
              + event.type()
              + "' cannot be read: "
              + e.getOriginalMessage(),
          e);
    } catch (IOException e) {
      // Only JsonProcessingException is possible from a String or a tree; the reader declares more.
      throw new EventStoreException(
          "event at position " + event.position() + " of type '" + event.type() + "': " + e, e);
    }
  }

  private static boolean isJsonObject(String payload) {
    for (int i = 0; i < payload.length(); i++) {
      char c = payload.charAt(i);
      if (!Character.isWhitespace(c)) {
        return c == '{';
      }
    }
    return false;
  }

  /** Like {@link #decode(RecordedEvent)}, checking that the event is a {@code type}. */
  public <T> T decode(RecordedEvent event, Class<T> type) {
    Record decoded = decode(event);
    if (!type.isInstance(decoded)) {
      throw new EventStoreException(
          "event at position "
              + event.position()
              + " is a '"
              + event.type()
              + "', not a "
              + type.getSimpleName());
    }
    return type.cast(decoded);
  }

  /** Whether events of this stored type name can be decoded. */
  public boolean knows(String type) {
    return byName.containsKey(type);
  }

  private ObjectNode upcast(Registration registration, int stored, ObjectNode node, long position) {
    if (stored > registration.schemaVersion()) {
      throw new EventStoreException(
          "event at position "
              + position
              + " of type '"
              + registration.name()
              + "' has schema version "
              + stored
              + ", newer than this code's "
              + registration.schemaVersion()
              + " (written by a newer release?)");
    }
    Map<Integer, Upcaster> steps = upcasters.getOrDefault(registration.name(), Map.of());
    ObjectNode current = node;
    for (int version = stored; version < registration.schemaVersion(); version++) {
      Upcaster step = steps.get(version);
      if (step == null) {
        throw new EventStoreException(
            "event at position "
                + position
                + " of type '"
                + registration.name()
                + "' has schema version "
                + stored
                + ", and no upcaster goes from "
                + version
                + " to "
                + (version + 1));
      }
      current = Objects.requireNonNull(step.upcast(current), "an upcaster returned null");
    }
    return current;
  }

  private Registration registration(Class<?> eventClass) {
    Registration registration = byClass.get(eventClass);
    if (registration == null) {
      throw new IllegalArgumentException(
          "event class " + eventClass.getName() + " is not registered with the codec");
    }
    return registration;
  }

  /** Registers event records and upcasters; {@link #build()} checks them. */
  public static final class Builder {
    private final ObjectMapper json =
        JsonMapper.builder().disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES).build();
    private final Map<String, Registration> byName = new HashMap<>();
    private final Map<Class<?>, Registration> byClass = new HashMap<>();
    private final Map<String, Map<Integer, Upcaster>> upcasters = new HashMap<>();

    private Builder() {}

    /** Registers {@code type} under {@code name} at schema version 1. */
    public Builder register(String name, Class<? extends Record> type) {
      return register(name, type, 1);
    }

    /** Registers {@code type} under {@code name}; its JSON is now at {@code schemaVersion}. */
    public Builder register(String name, Class<? extends Record> type, int schemaVersion) {
      checkTypeName(name);
      Objects.requireNonNull(type, "type");
      if (schemaVersion < 1) {
        throw new IllegalArgumentException(
            "schemaVersion of '" + name + "' must be >= 1, got " + schemaVersion);
      }
      if (byName.containsKey(name)) {
        throw new IllegalArgumentException("event type name '" + name + "' is registered twice");
      }
      if (byClass.containsKey(type)) {
        throw new IllegalArgumentException(
            "event class " + type.getName() + " is registered twice");
      }
      Registration registration = new Registration(name, type, schemaVersion, null);
      byName.put(name, registration);
      byClass.put(type, registration);
      return this;
    }

    /** Adds the step from {@code fromVersion} to {@code fromVersion + 1} of type {@code name}. */
    public Builder upcast(String name, int fromVersion, Upcaster step) {
      checkTypeName(name);
      Objects.requireNonNull(step, "step");
      if (fromVersion < 1) {
        throw new IllegalArgumentException(
            "upcaster of '" + name + "' must start at version >= 1, got " + fromVersion);
      }
      if (upcasters.computeIfAbsent(name, n -> new HashMap<>()).putIfAbsent(fromVersion, step)
          != null) {
        throw new IllegalArgumentException(
            "upcaster of '" + name + "' from version " + fromVersion + " is given twice");
      }
      return this;
    }

    public EventCodec build() {
      upcasters.forEach((name, steps) -> {
        Registration registration = byName.get(name);
        if (registration == null) {
          throw new IllegalArgumentException(
              "upcasters are given for '" + name + "', which is not registered");
        }
        steps
            .keySet()
            .forEach(from -> {
              if (from >= registration.schemaVersion()) {
                throw new IllegalArgumentException(
                    "upcaster of '"
                        + name
                        + "' from version "
                        + from
                        + " goes beyond its current version "
                        + registration.schemaVersion());
              }
            });
      });
      return new EventCodec(this);
    }
  }
}
