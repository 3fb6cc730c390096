package dev.pledge.eventstore;

/** Positions in commit order, raced on the real Mariadb. */
class MariadbPositionOrderTest extends PositionOrderContract {
  @Override
  protected EventStoreConfig database() {
    return TestDatabases.mariadb();
  }
}
