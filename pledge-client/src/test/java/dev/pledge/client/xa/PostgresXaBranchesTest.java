package dev.pledge.client.xa;

import dev.pledge.client.testing.TestDatabase;

class PostgresXaBranchesTest extends XaBranchesContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.postgresXa();
  }
}
