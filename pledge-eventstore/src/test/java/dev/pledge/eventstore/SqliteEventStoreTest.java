package dev.pledge.eventstore;

/** The event store's contract on the real SQLite, one file per test. */
class SqliteEventStoreTest extends EventStoreContract {
  private final EventStoreConfig file = TestDatabases.sqlite();

  @Override
  protected EventStoreConfig database() {
    return file;
  }
}
