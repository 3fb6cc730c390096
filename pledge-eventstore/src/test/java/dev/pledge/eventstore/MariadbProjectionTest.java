package dev.pledge.eventstore;

/** Projections on the real Mariadb. */
class MariadbProjectionTest extends ProjectionContract {
  @Override
  protected EventStoreConfig database() {
    return TestDatabases.mariadb();
  }
}
