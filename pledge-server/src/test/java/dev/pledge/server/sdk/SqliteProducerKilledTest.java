package dev.pledge.server.sdk;

import java.io.IOException;
import java.nio.file.Files;

class SqliteProducerKilledTest extends ProducerKilledContract {
  @Override
  protected String jdbcUrl() throws IOException {
    return "jdbc:sqlite:" + Files.createTempDirectory("producer-").resolve("producer.db");
  }
}
