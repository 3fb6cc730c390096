package dev.pledge.client.outbox;

import dev.pledge.client.testing.TestDatabase;

class MariaDbOutboxRelayTest extends SharedOutboxRelayContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.mariadb();
  }
}
