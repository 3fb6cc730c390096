package dev.pledge.client.participant;

import dev.pledge.client.testing.TestDatabase;

class MariaDbThreePcParticipantTest extends ThreePcParticipantContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.mariadbXa();
  }
}
