package dev.pledge.store.jdbc;

/** The log's contract on the real Postgres server. */
class PostgresTransactionLogTest extends JdbcLogContractTest {
  @Override
  JdbcLogConfig database() {
    return TestDatabases.postgres();
  }
}
