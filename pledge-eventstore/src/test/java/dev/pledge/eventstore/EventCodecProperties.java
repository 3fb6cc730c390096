package dev.pledge.eventstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;
import net.jqwik.api.constraints.StringLength;

/** Properties of the codec: encoding then decoding is the identity; upcasting chains steps. */
class EventCodecProperties {
  record Note(String text, long number, List<String> tags, Map<String, Integer> counts) {}

  /** Version 3 of a renamed-fields event; versions 1 and 2 are only in stored JSON. */
  record Priced(String sku, long priceCents, String currency) {}

  private static final EventCodec CODEC =
      EventCodec.builder()
          .register("note", Note.class)
          .register("priced", Priced.class, 3)
          // 1 → 2: "price" in whole units became "priceCents".
          .upcast(
              "priced",
              1,
              json -> {
                long units = json.remove("price").asLong();
                return json.put("priceCents", units * 100);
              })
          // 2 → 3: a currency was added, EUR for everything before.
          .upcast("priced", 2, json -> json.put("currency", "EUR"))
          .build();

  private static RecordedEvent stored(EventData data) {
    return new RecordedEvent(
        1,
        "s",
        1,
        data.type(),
        data.schemaVersion(),
        data.payload(),
        data.metadata(),
        Instant.EPOCH);
  }

  @Property
  void encodeThenDecode_isTheIdentity(
      @ForAll @StringLength(max = 200) String text,
      @ForAll long number,
      @ForAll @Size(max = 5) List<@StringLength(max = 20) String> tags,
      @ForAll @Size(max = 5) Map<@StringLength(max = 10) String, Integer> counts) {
    Note note = new Note(text, number, tags, counts);
    EventData data = CODEC.encode(note, Map.of("k", text));

    assertThat(data.type()).isEqualTo("note");
    assertThat(data.schemaVersion()).isEqualTo(1);
    // No class name anywhere in what is stored.
    assertThat(data.payload()).doesNotContain(Note.class.getName()).doesNotContain("@class");
    assertThat(CODEC.decode(stored(data))).isEqualTo(note);
  }

  @Property
  void everyOldVersion_upcastsToTheCurrentRecord(
      @ForAll @StringLength(min = 1, max = 30) String sku,
      @ForAll @IntRange(min = 0, max = 1_000_000) int units,
      @ForAll @IntRange(min = 1, max = 3) int storedVersion) {
    ObjectNode json = CODEC.json().createObjectNode().put("sku", sku);
    switch (storedVersion) {
      case 1 -> json.put("price", units);
      case 2 -> json.put("priceCents", units * 100L);
      default -> json.put("priceCents", units * 100L).put("currency", "EUR");
    }
    EventData data = new EventData("priced", storedVersion, json.toString(), Map.of());

    assertThat(CODEC.decode(stored(data))).isEqualTo(new Priced(sku, units * 100L, "EUR"));
  }

  @Property
  void aNewerSchemaThanTheCode_isRefusedByName(@ForAll @IntRange(min = 4, max = 100) int v) {
    EventData data = new EventData("priced", v, "{\"sku\":\"a\"}", Map.of());
    assertThatThrownBy(() -> CODEC.decode(stored(data)))
        .isInstanceOf(EventStoreException.class)
        .hasMessageContaining("schema version " + v)
        .hasMessageContaining("newer than this code's 3");
  }

  @Property
  void typeNamesThatAreNotNames_areRefused(@ForAll @StringLength(max = 5) String suffix) {
    assertThatThrownBy(() -> EventCodec.builder().register("1" + suffix, Note.class))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("event type name");
  }
}
