package dev.pledge.client.participant;

import dev.pledge.client.testing.TestDatabase;

class PostgresThreePcParticipantTest extends ThreePcParticipantContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.postgresXa();
  }
}
