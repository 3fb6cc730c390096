package dev.pledge.eventstore.aggregate;

import dev.pledge.eventstore.EventStoreConfig;
import dev.pledge.eventstore.TestDatabases;

/** Aggregates on the real Mariadb. */
class MariadbAggregateTest extends AggregateContract {
  private final EventStoreConfig config = TestDatabases.mariadb();

  @Override
  EventStoreConfig database() {
    return config;
  }
}
