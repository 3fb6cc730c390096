package dev.pledge.client.barrier;

import dev.pledge.client.testing.TestDatabase;

class PostgresBarrierTest extends BarrierContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.postgres();
  }
}
