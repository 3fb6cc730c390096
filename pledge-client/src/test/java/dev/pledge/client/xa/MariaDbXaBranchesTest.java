package dev.pledge.client.xa;

import dev.pledge.client.testing.TestDatabase;

class MariaDbXaBranchesTest extends XaBranchesContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.mariadbXa();
  }
}
