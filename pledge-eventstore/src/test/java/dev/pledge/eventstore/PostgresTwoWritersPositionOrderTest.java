package dev.pledge.eventstore;

/**
 * Positions in commit order, raced on the real Postgres, with each store's writer keeping two
 * batches in flight (the second call waits in the server on the position lock).
 */
class PostgresTwoWritersPositionOrderTest extends PositionOrderContract {
  @Override
  protected EventStoreConfig database() {
    return TestDatabases.postgres().withWriterConnections(2);
  }
}
