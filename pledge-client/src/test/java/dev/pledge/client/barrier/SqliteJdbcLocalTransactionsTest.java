package dev.pledge.client.barrier;

import dev.pledge.client.testing.TestDatabase;
import javax.sql.DataSource;

class SqliteJdbcLocalTransactionsTest extends LocalTransactionsContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.sqlite();
  }

  @Override
  protected LocalTransactions transactions(DataSource dataSource) {
    return LocalTransactions.of(dataSource);
  }
}
