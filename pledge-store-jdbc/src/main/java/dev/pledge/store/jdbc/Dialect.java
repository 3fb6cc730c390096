package dev.pledge.store.jdbc;

import com.zaxxer.hikari.HikariConfig;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * What differs between the databases the log runs on: how to reach them, how a write transaction
 * starts and ends, and the one statement whose syntax differs (insert unless the gid exists). The
 * tables themselves are in {@link Schema}.
 */
enum Dialect {
  SQLITE,
  POSTGRESQL,
  MARIADB;

  /**
   * How long a SQLite writer waits for another process's write lock, and how long anyone waits for
   * a connection from the pool.
   */
  static final Duration LOCK_TIMEOUT = Duration.ofSeconds(10);

  /**
   * How long a read or write may wait on the network before the connection is given up: a
   * partitioned database must not hang a coordinator.
   */
  static final Duration SOCKET_TIMEOUT = Duration.ofSeconds(60);

  private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)(password|pwd)=[^&;]*");
  private static final Pattern USER_INFO = Pattern.compile("//([^/:@]*):[^/@]*@");

  /** The database {@code jdbcUrl} names, or IllegalArgumentException naming the URL. */
  static Dialect of(String jdbcUrl) {
    if (jdbcUrl.startsWith("jdbc:sqlite:")) {
      sqliteFile(jdbcUrl);
      return SQLITE;
    }
    if (jdbcUrl.startsWith("jdbc:postgresql:")) {
      return POSTGRESQL;
    }
    if (jdbcUrl.startsWith("jdbc:mariadb:") || jdbcUrl.startsWith("jdbc:mysql:")) {
      return MARIADB;
    }
    throw new IllegalArgumentException(
        "jdbcUrl must start with jdbc:sqlite:, jdbc:postgresql:, jdbc:mariadb: or jdbc:mysql:, got '"
            + redact(jdbcUrl)
            + "'");
  }

  /** The URL with any password in it masked, fit for messages and logs. */
  static String redact(String jdbcUrl) {
    String masked = PASSWORD_PARAMETER.matcher(jdbcUrl).replaceAll("$1=***");
    return USER_INFO.matcher(masked).replaceAll("//$1:***@");
  }

  /**
   * The file a SQLite URL names. An in-memory database is refused: the log must survive the
   * process, and every pooled connection would see a different empty database.
   */
  static Path sqliteFile(String jdbcUrl) {
    String rest = jdbcUrl.substring("jdbc:sqlite:".length());
    int query = rest.indexOf('?');
    String path = query < 0 ? rest : rest.substring(0, query);
    if (path.startsWith("file:")) {
      path = path.substring("file:".length());
    }
    if (path.isEmpty() || path.startsWith(":memory:") || rest.contains("mode=memory")) {
      throw new IllegalArgumentException(
          "jdbcUrl must name a SQLite file (an in-memory database is not durable), got '"
              + redact(jdbcUrl)
              + "'");
    }
    return Path.of(path).toAbsolutePath();
  }

  /** Sets up one of the log's pools: the writer's ({@code writer}) or the readers'. */
  void configure(HikariConfig pool, String jdbcUrl, boolean writer) {
    switch (this) {
      case SQLITE -> {
        pool.setDriverClassName("org.sqlite.JDBC");
        pool.setJdbcUrl(jdbcUrl);
        // Durable on power loss: WAL, each commit synced. These are sqlite-jdbc's names for the
        // pragmas it sets on every new connection.
        pool.addDataSourceProperty("journal_mode", "WAL");
        pool.addDataSourceProperty("synchronous", "FULL");
        pool.addDataSourceProperty("busy_timeout", Long.toString(LOCK_TIMEOUT.toMillis()));
        // The writer opens its transactions itself with BEGIN IMMEDIATE (see begin): with
        // auto-commit off, sqlite-jdbc would begin the next transaction right after each commit
        // and hold the write lock while idle.
        pool.setAutoCommit(true);
      }
      case POSTGRESQL -> {
        pool.setDriverClassName("org.postgresql.Driver");
        pool.setJdbcUrl(jdbcUrl);
        pool.addDataSourceProperty("ApplicationName", "pledge");
        pool.addDataSourceProperty("tcpKeepAlive", "true");
        pool.addDataSourceProperty("reWriteBatchedInserts", "true");
        pool.addDataSourceProperty("socketTimeout", Long.toString(SOCKET_TIMEOUT.toSeconds()));
        pool.setAutoCommit(!writer);
      }
      case MARIADB -> {
        pool.setDriverClassName("org.mariadb.jdbc.Driver");
        // The MariaDB driver serves jdbc:mysql: URLs only when told to; it is the same protocol.
        pool.setJdbcUrl(jdbcUrl.replaceFirst("^jdbc:mysql:", "jdbc:mariadb:"));
        pool.addDataSourceProperty("tcpKeepAlive", "true");
        pool.addDataSourceProperty("socketTimeout", Long.toString(SOCKET_TIMEOUT.toMillis()));
        pool.setAutoCommit(!writer);
      }
    }
  }

  /** Starts a write transaction on a connection of the writer's pool. */
  void begin(Connection connection) throws SQLException {
    if (this == SQLITE) {
      execute(connection, "BEGIN IMMEDIATE");
    }
  }

  void commit(Connection connection) throws SQLException {
    if (this == SQLITE) {
      execute(connection, "COMMIT");
    } else {
      connection.commit();
    }
  }

  void rollback(Connection connection) throws SQLException {
    if (this == SQLITE) {
      execute(connection, "ROLLBACK");
    } else {
      connection.rollback();
    }
  }

  /**
   * An insert of one transaction row that does nothing, and reports no row, when the gid exists. It
   * must not raise an error: on PostgreSQL an error would abort the whole batch's transaction.
   */
  String insertUnlessPresent(String table, String columns, String values) {
    return switch (this) {
      case SQLITE, POSTGRESQL ->
          "INSERT INTO "
              + table
              + " ("
              + columns
              + ") VALUES ("
              + values
              + ") ON CONFLICT (gid) DO NOTHING";
      // INSERT IGNORE also turns data errors into warnings; every value here is checked before
      // it is written (gid shape, mode code), so only the duplicate key is ever ignored.
      case MARIADB -> "INSERT IGNORE INTO " + table + " (" + columns + ") VALUES (" + values + ")";
    };
  }

  /**
   * An SQL expression for the database's clock in epoch milliseconds: leases are judged by it, so
   * that coordinators with skewed clocks agree on when one expires.
   */
  String nowMillis() {
    return switch (this) {
      case SQLITE -> "CAST((julianday('now') - 2440587.5) * 86400000.0 AS INTEGER)";
      case POSTGRESQL -> "(extract(epoch from clock_timestamp()) * 1000)::bigint";
      case MARIADB -> "CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS SIGNED)";
    };
  }

  /**
   * The clause that locks the rows a claim selects, passing over rows another claimer has locked
   * (SQLite needs none: its writer holds the whole database).
   */
  String lockRowsSkippingLocked() {
    return this == SQLITE ? "" : " FOR UPDATE SKIP LOCKED";
  }

  /** An insert of a subscription that replaces the one of the same name. */
  String upsertSubscription(String table) {
    String insert = "INSERT INTO " + table + " (name, topic, target) VALUES (?, ?, ?)";
    return switch (this) {
      case SQLITE, POSTGRESQL ->
          insert
              + " ON CONFLICT (name) DO UPDATE SET topic = excluded.topic, target = excluded.target";
      case MARIADB ->
          insert + " ON DUPLICATE KEY UPDATE topic = VALUES(topic), target = VALUES(target)";
    };
  }

  static void execute(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }
}
