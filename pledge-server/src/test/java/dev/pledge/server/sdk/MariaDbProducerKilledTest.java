package dev.pledge.server.sdk;

class MariaDbProducerKilledTest extends ProducerKilledContract {
  @Override
  protected String jdbcUrl() {
    return System.getenv()
        .getOrDefault(
            "PLEDGE_TEST_SDK_MARIADB_URL",
            "jdbc:mariadb://127.0.0.1:3306/pledge_sdk_test?user=root");
  }
}
