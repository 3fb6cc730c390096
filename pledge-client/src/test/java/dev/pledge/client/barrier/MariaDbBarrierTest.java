package dev.pledge.client.barrier;

import dev.pledge.client.testing.TestDatabase;

class MariaDbBarrierTest extends BarrierContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.mariadb();
  }
}
