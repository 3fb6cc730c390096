package dev.pledge.store.jdbc;

import java.nio.file.Path;
import org.junit.jupiter.api.io.TempDir;

/** The log's contract on the embedded SQLite, in a file of its own. */
class SqliteTransactionLogTest extends JdbcLogContractTest {
  @TempDir static Path folder;

  @Override
  JdbcLogConfig database() {
    return JdbcLogConfig.forUrl("jdbc:sqlite:" + folder.resolve("log/pledge.db"));
  }
}
