package dev.pledge.eventstore;

/** The event store's contract on the real Postgres. */
class PostgresEventStoreTest extends EventStoreContract {
  @Override
  protected EventStoreConfig database() {
    return TestDatabases.postgres();
  }
}
