package dev.pledge.eventstore;

/** Projections on the real Postgres. */
class PostgresProjectionTest extends ProjectionContract {
  @Override
  protected EventStoreConfig database() {
    return TestDatabases.postgres();
  }
}
