package dev.pledge.client.xa;

import dev.pledge.client.testing.TestDatabase;

class MariaDbXaResourceTest extends XaResourceContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.mariadbXa();
  }
}
