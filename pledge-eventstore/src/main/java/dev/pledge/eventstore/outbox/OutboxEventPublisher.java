package dev.pledge.eventstore.outbox;

import dev.pledge.client.outbox.Outbox;
import dev.pledge.eventstore.RecordedEvent;
import dev.pledge.eventstore.spi.EventPublisher;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Publishes chosen events through the SDK's {@link Outbox}, in the append's own transaction: the
 * outbox row commits with the event or not at all, and the outbox relay delivers it to the brokers
 * afterwards (at least once, in order per key).
 *
 * <p>Each chosen event becomes one message: topic as {@code route} says, key the stream id (so a
 * stream's events stay in order), payload the event's JSON as stored, and headers {@code Es-Type},
 * {@code Es-Schema-Version}, {@code Es-Stream}, {@code Es-Stream-Version}, {@code Es-Position},
 * which a consumer deduplicates and upcasts by.
 */
public final class OutboxEventPublisher implements EventPublisher {
  private final Outbox outbox;
  private final Function<RecordedEvent, Optional<String>> route;

  /**
   * @param route the topic of an event to publish, or empty to keep it private to the service
   */
  public OutboxEventPublisher(Outbox outbox, Function<RecordedEvent, Optional<String>> route) {
    this.outbox = Objects.requireNonNull(outbox, "outbox");
    this.route = Objects.requireNonNull(route, "route");
  }

  /** Publishes the events of the given type names to {@code topic}. */
  public static OutboxEventPublisher ofTypes(Outbox outbox, String topic, List<String> types) {
    List<String> chosen = List.copyOf(types);
    return new OutboxEventPublisher(
        outbox, e -> chosen.contains(e.type()) ? Optional.of(topic) : Optional.empty());
  }

  @Override
  public void publish(Connection connection, List<RecordedEvent> events) throws SQLException {
    for (RecordedEvent event : events) {
      Optional<String> topic = route.apply(event);
      if (topic.isPresent()) {
        outbox.publish(
            connection,
            topic.get(),
            event.streamId(),
            event.payload(),
            Map.of(
                "Es-Type", event.type(),
                "Es-Schema-Version", Integer.toString(event.schemaVersion()),
                "Es-Stream", event.streamId(),
                "Es-Stream-Version", Long.toString(event.version()),
                "Es-Position", Long.toString(event.position())));
      }
    }
  }
}
