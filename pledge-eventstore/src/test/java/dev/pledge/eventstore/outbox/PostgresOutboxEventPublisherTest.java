package dev.pledge.eventstore.outbox;

import dev.pledge.eventstore.EventStoreConfig;
import dev.pledge.eventstore.TestDatabases;

/** Events through the outbox on the real Postgres. */
class PostgresOutboxEventPublisherTest extends OutboxEventPublisherContract {
  private final EventStoreConfig config = TestDatabases.postgres();

  @Override
  EventStoreConfig database() {
    return config;
  }
}
