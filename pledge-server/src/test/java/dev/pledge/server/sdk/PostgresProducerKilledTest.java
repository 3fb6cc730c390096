package dev.pledge.server.sdk;

class PostgresProducerKilledTest extends ProducerKilledContract {
  @Override
  protected String jdbcUrl() {
    return System.getenv()
        .getOrDefault(
            "PLEDGE_TEST_SDK_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/pledge_sdk_test");
  }
}
