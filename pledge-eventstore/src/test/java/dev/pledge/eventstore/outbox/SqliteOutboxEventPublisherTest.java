package dev.pledge.eventstore.outbox;

import dev.pledge.eventstore.EventStoreConfig;
import dev.pledge.eventstore.TestDatabases;

/** Events through the outbox on the real Sqlite. */
class SqliteOutboxEventPublisherTest extends OutboxEventPublisherContract {
  private final EventStoreConfig config = TestDatabases.sqlite();

  @Override
  EventStoreConfig database() {
    return config;
  }
}
