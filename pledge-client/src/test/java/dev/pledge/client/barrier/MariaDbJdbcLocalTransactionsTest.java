package dev.pledge.client.barrier;

import dev.pledge.client.testing.TestDatabase;
import javax.sql.DataSource;

class MariaDbJdbcLocalTransactionsTest extends LocalTransactionsContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.mariadb();
  }

  @Override
  protected LocalTransactions transactions(DataSource dataSource) {
    return LocalTransactions.of(dataSource);
  }
}
