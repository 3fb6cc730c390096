package dev.pledge.client.inbox;

import dev.pledge.client.testing.TestDatabase;

class SqliteInboxTest extends InboxContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.sqlite();
  }
}
