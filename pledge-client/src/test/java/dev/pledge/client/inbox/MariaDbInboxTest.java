package dev.pledge.client.inbox;

import dev.pledge.client.testing.TestDatabase;

class MariaDbInboxTest extends InboxContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.mariadb();
  }
}
