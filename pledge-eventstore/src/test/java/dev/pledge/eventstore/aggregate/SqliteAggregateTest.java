package dev.pledge.eventstore.aggregate;

import dev.pledge.eventstore.EventStoreConfig;
import dev.pledge.eventstore.TestDatabases;

/** Aggregates on the real Sqlite. */
class SqliteAggregateTest extends AggregateContract {
  private final EventStoreConfig config = TestDatabases.sqlite();

  @Override
  EventStoreConfig database() {
    return config;
  }
}
