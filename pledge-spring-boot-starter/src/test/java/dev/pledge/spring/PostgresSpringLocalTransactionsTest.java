package dev.pledge.spring;

import dev.pledge.client.barrier.LocalTransactions;
import dev.pledge.client.barrier.LocalTransactionsContract;
import dev.pledge.client.testing.TestDatabase;
import javax.sql.DataSource;

/**
 * The starter's {@link SpringLocalTransactions} against the SDK's contract on Postgres: a HikariCP
 * pool and Spring's {@code JdbcTransactionManager}, as Spring Boot configures them.
 */
class PostgresSpringLocalTransactionsTest extends LocalTransactionsContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.postgres();
  }

  @Override
  protected DataSource dataSource(TestDatabase db) {
    return SpringPools.pool(db);
  }

  @Override
  protected LocalTransactions transactions(DataSource dataSource) {
    return SpringPools.transactions(dataSource);
  }
}
