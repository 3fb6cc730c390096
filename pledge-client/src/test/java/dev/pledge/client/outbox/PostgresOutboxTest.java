package dev.pledge.client.outbox;

import dev.pledge.client.testing.TestDatabase;

class PostgresOutboxTest extends OutboxContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.postgres();
  }
}
