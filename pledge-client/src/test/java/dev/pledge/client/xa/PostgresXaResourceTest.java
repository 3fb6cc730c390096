package dev.pledge.client.xa;

import dev.pledge.client.testing.TestDatabase;

class PostgresXaResourceTest extends XaResourceContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.postgresXa();
  }
}
