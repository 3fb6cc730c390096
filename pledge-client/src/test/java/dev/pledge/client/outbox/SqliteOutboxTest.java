package dev.pledge.client.outbox;

import dev.pledge.client.testing.TestDatabase;

class SqliteOutboxTest extends OutboxContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.sqlite();
  }
}
