package dev.pledge.client.barrier;

import dev.pledge.client.testing.TestDatabase;

class SqliteBarrierTest extends BarrierContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.sqlite();
  }
}
