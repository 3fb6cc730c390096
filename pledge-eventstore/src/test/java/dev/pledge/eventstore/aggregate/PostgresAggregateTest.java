package dev.pledge.eventstore.aggregate;

import dev.pledge.eventstore.EventStoreConfig;
import dev.pledge.eventstore.TestDatabases;

/** Aggregates on the real Postgres. */
class PostgresAggregateTest extends AggregateContract {
  private final EventStoreConfig config = TestDatabases.postgres();

  @Override
  EventStoreConfig database() {
    return config;
  }
}
