package dev.pledge.client.inbox;

import dev.pledge.client.testing.TestDatabase;

class PostgresInboxTest extends InboxContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.postgres();
  }
}
