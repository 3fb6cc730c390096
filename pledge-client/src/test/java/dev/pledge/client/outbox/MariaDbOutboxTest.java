package dev.pledge.client.outbox;

import dev.pledge.client.testing.TestDatabase;

class MariaDbOutboxTest extends OutboxContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.mariadb();
  }
}
