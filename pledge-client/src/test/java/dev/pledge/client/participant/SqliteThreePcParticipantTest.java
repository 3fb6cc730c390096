package dev.pledge.client.participant;

import dev.pledge.client.testing.TestDatabase;

class SqliteThreePcParticipantTest extends ThreePcParticipantContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.sqlite();
  }
}
