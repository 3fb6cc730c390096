package dev.pledge.eventstore;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The real databases the tests run against: the servers on this machine that {@code
 * scripts/services.sh} prepares (database {@code pledge_es_test}), unless the environment names
 * others; SQLite in a fresh temporary folder.
 */
public final class TestDatabases {
  private TestDatabases() {}

  public static EventStoreConfig postgres() {
    return EventStoreConfig.forUrl(
            env("PLEDGE_ES_TEST_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/pledge_es_test"))
        .withCredentials(
            env("PLEDGE_TEST_POSTGRES_USER", "postgres"), env("PLEDGE_TEST_POSTGRES_PASSWORD", ""));
  }

  public static EventStoreConfig mariadb() {
    return EventStoreConfig.forUrl(
            env("PLEDGE_ES_TEST_MARIADB_URL", "jdbc:mariadb://127.0.0.1:3306/pledge_es_test"))
        .withCredentials(
            env("PLEDGE_TEST_MARIADB_USER", "root"), env("PLEDGE_TEST_MARIADB_PASSWORD", ""));
  }

  public static EventStoreConfig sqlite() {
    try {
      Path dir = Files.createTempDirectory("pledge-es-test");
      return EventStoreConfig.forUrl("jdbc:sqlite:" + dir.resolve("events.db"));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }
}
