package dev.pledge.client.outbox;

import dev.pledge.client.testing.TestDatabase;

class SqliteOutboxRelayTest extends OutboxRelayContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.sqlite();
  }
}
