package dev.pledge.client.barrier;

import dev.pledge.client.testing.TestDatabase;
import javax.sql.DataSource;

class PostgresJdbcLocalTransactionsTest extends LocalTransactionsContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.postgres();
  }

  @Override
  protected LocalTransactions transactions(DataSource dataSource) {
    return LocalTransactions.of(dataSource);
  }
}
