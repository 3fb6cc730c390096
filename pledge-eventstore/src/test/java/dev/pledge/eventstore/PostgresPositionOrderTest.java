package dev.pledge.eventstore;

/** Positions in commit order, raced on the real Postgres. */
class PostgresPositionOrderTest extends PositionOrderContract {
  @Override
  protected EventStoreConfig database() {
    return TestDatabases.postgres();
  }
}
