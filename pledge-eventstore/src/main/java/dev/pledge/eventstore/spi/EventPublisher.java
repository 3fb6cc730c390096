package dev.pledge.eventstore.spi;

import dev.pledge.eventstore.RecordedEvent;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.List;

/**
 * Publishes chosen events of an append as transactional messages, in the append's own local
 * transaction: it is called on the connection that inserts the events, before the commit, so the
 * events and the messages commit together or not at all (no event published that was not stored,
 * none stored that is never published).
 *
 * <p>Contract: write only through {@code connection} (never commit, roll back or close it); throw
 * {@link SQLException} to fail the append (nothing of it is stored); be quick, since appends are
 * serialised while it runs. It is called once per successful append with that append's events in
 * version order; it picks the ones to publish itself. The outbox implementation is {@code
 * OutboxEventPublisher}.
 */
@FunctionalInterface
public interface EventPublisher {
  void publish(Connection connection, List<RecordedEvent> events) throws SQLException;

  /** Publishes nothing. */
  EventPublisher NONE = (connection, events) -> {};
}
