package dev.pledge.eventstore.outbox;

import dev.pledge.eventstore.EventStoreConfig;
import dev.pledge.eventstore.TestDatabases;

/** Events through the outbox on the real Mariadb. */
class MariadbOutboxEventPublisherTest extends OutboxEventPublisherContract {
  private final EventStoreConfig config = TestDatabases.mariadb();

  @Override
  EventStoreConfig database() {
    return config;
  }
}
