package dev.pledge.store.jdbc;

/**
 * The real databases the tests run against: the servers on this machine that {@code
 * scripts/services.sh} starts and prepares, unless the environment names others.
 */
final class TestDatabases {
  private TestDatabases() {}

  static JdbcLogConfig postgres() {
    return JdbcLogConfig.forUrl(
            env("PLEDGE_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/pledge_test"))
        .withCredentials(
            env("PLEDGE_TEST_POSTGRES_USER", "postgres"), env("PLEDGE_TEST_POSTGRES_PASSWORD", ""));
  }

  static JdbcLogConfig mariadb() {
    return JdbcLogConfig.forUrl(
            env("PLEDGE_TEST_MARIADB_URL", "jdbc:mariadb://127.0.0.1:3306/pledge_test"))
        .withCredentials(
            env("PLEDGE_TEST_MARIADB_USER", "root"), env("PLEDGE_TEST_MARIADB_PASSWORD", ""));
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }
}
