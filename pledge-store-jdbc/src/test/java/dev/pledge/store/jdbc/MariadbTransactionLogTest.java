package dev.pledge.store.jdbc;

/** The log's contract on the real Mariadb server. */
class MariadbTransactionLogTest extends JdbcLogContractTest {
  @Override
  JdbcLogConfig database() {
    return TestDatabases.mariadb();
  }
}
