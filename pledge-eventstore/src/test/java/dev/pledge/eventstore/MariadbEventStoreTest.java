package dev.pledge.eventstore;

/** The event store's contract on the real Mariadb. */
class MariadbEventStoreTest extends EventStoreContract {
  @Override
  protected EventStoreConfig database() {
    return TestDatabases.mariadb();
  }
}
