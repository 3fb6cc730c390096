package dev.pledge.eventstore;

/** Projections on the real SQLite, one file per test. */
class SqliteProjectionTest extends ProjectionContract {
  private final EventStoreConfig file = TestDatabases.sqlite();

  @Override
  protected EventStoreConfig database() {
    return file;
  }
}
