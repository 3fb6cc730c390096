package dev.pledge.eventstore;

import com.zaxxer.hikari.HikariConfig;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.regex.Pattern;

/** What differs between the three databases: connecting, locking, and a few statements. */
enum Dialect {
  SQLITE,
  POSTGRESQL,
  MARIADB;

  private static final Pattern PASSWORD_PARAMETER = Pattern.compile("(?i)(password|pwd)=[^&;]*");
  private static final Pattern USER_INFO = Pattern.compile("//([^/:@]*):[^/@]*@");

  static Dialect of(String jdbcUrl) {
    if (jdbcUrl.startsWith("jdbc:sqlite:")) {
      String rest = jdbcUrl.substring("jdbc:sqlite:".length());
      if (rest.isEmpty() || rest.startsWith(":memory:") || rest.contains("mode=memory")) {
        throw new IllegalArgumentException(
            "jdbcUrl must name a SQLite file (an in-memory database is not durable, and each"
                + " pooled connection would see its own), got '"
                + jdbcUrl
                + "'");
      }
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

  static String redact(String jdbcUrl) {
    String masked = PASSWORD_PARAMETER.matcher(jdbcUrl).replaceAll("$1=***");
    return USER_INFO.matcher(masked).replaceAll("//$1:***@");
  }

  void configure(HikariConfig pool, String jdbcUrl) {
    switch (this) {
      case SQLITE -> {
        pool.setDriverClassName("org.sqlite.JDBC");
        pool.setJdbcUrl(jdbcUrl);
        pool.addDataSourceProperty("journal_mode", "WAL");
        pool.addDataSourceProperty("synchronous", "FULL");
        pool.addDataSourceProperty("busy_timeout", "10000");
      }
      case POSTGRESQL -> {
        pool.setDriverClassName("org.postgresql.Driver");
        pool.setJdbcUrl(jdbcUrl);
        pool.addDataSourceProperty("ApplicationName", "pledge-eventstore");
        pool.addDataSourceProperty("tcpKeepAlive", "true");
        pool.addDataSourceProperty("reWriteBatchedInserts", "true");
        pool.addDataSourceProperty("socketTimeout", "60");
      }
      case MARIADB -> {
        pool.setDriverClassName("org.mariadb.jdbc.Driver");
        pool.setJdbcUrl(jdbcUrl.replaceFirst("^jdbc:mysql:", "jdbc:mariadb:"));
        pool.addDataSourceProperty("tcpKeepAlive", "true");
        pool.addDataSourceProperty("socketTimeout", "60000");
        // Each statement sees what is committed when it starts: an append's version check and a
        // projection's read of the next page must see the transaction that released the lock.
        pool.setTransactionIsolation("TRANSACTION_READ_COMMITTED");
      }
    }
    pool.setAutoCommit(true);
  }

  /**
   * Takes the position lock: the one row of {@code es_position}, held until the transaction ends.
   * Every append takes it before it reads its stream's version and assigns positions, so appends
   * commit one after the other, in position order (see docs/eventstore.md, "Positions").
   */
  long lockPositions(Connection connection) throws SQLException {
    if (this == SQLITE) {
      // SQLite has one writer per file: the first write of the transaction takes the file's write
      // lock, which is the position lock.
      execute(connection, "UPDATE es_position SET last_position = last_position WHERE id = 1");
    }
    String sql =
        "SELECT last_position FROM es_position WHERE id = 1"
            + (this == SQLITE ? "" : " FOR UPDATE");
    try (var statement = connection.prepareStatement(sql);
        var rows = statement.executeQuery()) {
      if (!rows.next()) {
        throw new IllegalStateException("es_position has no row: the schema was not created");
      }
      return rows.getLong(1);
    }
  }

  /** Locks one projection's checkpoint row (and, on SQLite, the file's write lock). */
  String lockCheckpointSql() {
    return "SELECT global_position, owner, lease_until FROM es_checkpoints WHERE name = ?"
        + (this == SQLITE ? "" : " FOR UPDATE");
  }

  String insertIgnore(String table, String columns, String values) {
    return switch (this) {
      case SQLITE ->
          "INSERT OR IGNORE INTO " + table + " (" + columns + ") VALUES (" + values + ")";
      case POSTGRESQL ->
          "INSERT INTO "
              + table
              + " ("
              + columns
              + ") VALUES ("
              + values
              + ") ON CONFLICT DO NOTHING";
      case MARIADB -> "INSERT IGNORE INTO " + table + " (" + columns + ") VALUES (" + values + ")";
    };
  }

  String upsertSnapshot() {
    String insert =
        "INSERT INTO es_snapshots (stream_id, stream_version, snapshot_type, schema_version,"
            + " payload) VALUES (?, ?, ?, ?, ?)";
    return switch (this) {
      case SQLITE, POSTGRESQL ->
          insert
              + " ON CONFLICT (stream_id) DO UPDATE SET stream_version = excluded.stream_version,"
              + " snapshot_type = excluded.snapshot_type, schema_version ="
              + " excluded.schema_version, payload = excluded.payload WHERE"
              + " es_snapshots.stream_version < excluded.stream_version";
      case MARIADB ->
          insert
              + " ON DUPLICATE KEY UPDATE payload = IF(stream_version < VALUES(stream_version),"
              + " VALUES(payload), payload), snapshot_type = IF(stream_version <"
              + " VALUES(stream_version), VALUES(snapshot_type), snapshot_type), schema_version ="
              + " IF(stream_version < VALUES(stream_version), VALUES(schema_version),"
              + " schema_version), stream_version = GREATEST(stream_version,"
              + " VALUES(stream_version))";
    };
  }

  /** The tables, created if missing. */
  List<String> schema() {
    String text = this == MARIADB ? "LONGTEXT" : "TEXT";
    String table =
        this == MARIADB ? " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin" : "";
    return List.of(
        "CREATE TABLE IF NOT EXISTS es_events ("
            + " global_position BIGINT NOT NULL PRIMARY KEY,"
            + " stream_id VARCHAR(200) NOT NULL,"
            + " stream_version BIGINT NOT NULL,"
            + " event_type VARCHAR(200) NOT NULL,"
            + " schema_version INT NOT NULL,"
            + " payload "
            + text
            + " NOT NULL,"
            + " metadata "
            + text
            + " NOT NULL,"
            + " recorded_at BIGINT NOT NULL,"
            + " CONSTRAINT es_events_stream_version UNIQUE (stream_id, stream_version))"
            + table,
        "CREATE TABLE IF NOT EXISTS es_position (id INT NOT NULL PRIMARY KEY,"
            + " last_position BIGINT NOT NULL)"
            + table,
        insertIgnore("es_position", "id, last_position", "1, 0"),
        "CREATE TABLE IF NOT EXISTS es_snapshots ("
            + " stream_id VARCHAR(200) NOT NULL PRIMARY KEY,"
            + " stream_version BIGINT NOT NULL,"
            + " snapshot_type VARCHAR(200) NOT NULL,"
            + " schema_version INT NOT NULL,"
            + " payload "
            + text
            + " NOT NULL)"
            + table,
        "CREATE TABLE IF NOT EXISTS es_checkpoints ("
            + " name VARCHAR(200) NOT NULL PRIMARY KEY,"
            + " global_position BIGINT NOT NULL,"
            + " owner VARCHAR(200) NOT NULL,"
            + " lease_until BIGINT NOT NULL)"
            + table);
  }

  /** The signature of PostgreSQL's append function, for {@code to_regprocedure}. */
  static final String APPEND_FUNCTION_SIGNATURE =
      "es_append_v2(text[], int8[], int4[], text[], int4[], text[], text[], int8)";

  /**
   * PostgreSQL's append of a whole batch in one call: what {@link Appender} does statement by
   * statement elsewhere, in the server, so that the position lock is held for no network round
   * trip. Per append, in order, one row: {@code idx} (1-based), {@code actual} (the stream's
   * version before the append) and {@code first_position} (0 when the expected version did not
   * match, and nothing of that append was written). {@code p_expected}: -1 any, 0 no stream, n
   * exactly n. The function is VOLATILE, so each of its statements reads a snapshot taken after the
   * lock was granted. Versioned by name: a changed function gets a new name.
   */
  static final String APPEND_FUNCTION =
      """
      CREATE FUNCTION es_append_v2(p_streams text[], p_expected int8[], p_counts int4[],
          p_types text[], p_schemas int4[], p_payloads text[], p_metadata text[],
          p_recorded_at int8)
      RETURNS TABLE (idx int4, actual int8, first_position int8)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        v_start int8;
        v_last int8;
        v_current int8;
        v_offset int4 := 0;
        v_n int4;
      BEGIN
        SELECT last_position INTO v_last FROM es_position WHERE id = 1 FOR UPDATE;
        IF v_last IS NULL THEN
          RAISE EXCEPTION 'es_position has no row: the schema was not created';
        END IF;
        v_start := v_last;
        FOR i IN 1 .. coalesce(array_length(p_streams, 1), 0) LOOP
          v_n := p_counts[i];
          SELECT coalesce(max(e.stream_version), 0) INTO v_current
            FROM es_events e WHERE e.stream_id = p_streams[i];
          idx := i;
          actual := v_current;
          IF p_expected[i] >= 0 AND p_expected[i] <> v_current THEN
            first_position := 0;
          ELSE
            INSERT INTO es_events (global_position, stream_id, stream_version, event_type,
                schema_version, payload, metadata, recorded_at)
              SELECT v_last + k, p_streams[i], v_current + k, p_types[v_offset + k],
                  p_schemas[v_offset + k], p_payloads[v_offset + k], p_metadata[v_offset + k],
                  p_recorded_at
                FROM generate_series(1, v_n) AS k;
            first_position := v_last + 1;
            v_last := v_last + v_n;
          END IF;
          v_offset := v_offset + v_n;
          RETURN NEXT;
        END LOOP;
        IF v_last > v_start THEN
          UPDATE es_position SET last_position = v_last WHERE id = 1 AND last_position = v_start;
          IF NOT FOUND THEN
            RAISE EXCEPTION 'es_position moved while this transaction held its lock';
          END IF;
          PERFORM pg_notify('pledge_es', v_last::text);
        END IF;
      END
      $fn$
      """;

  /**
   * Creates what the schema needs beyond its tables (PostgreSQL's append function) unless present.
   * Two stores opening at once may both try: the loser's error is ignored when the function is
   * there afterwards.
   */
  void createFunctions(Connection connection) throws SQLException {
    if (this != POSTGRESQL || appendFunctionExists(connection)) {
      return;
    }
    try {
      execute(connection, APPEND_FUNCTION);
    } catch (SQLException e) {
      if (!appendFunctionExists(connection)) {
        throw e;
      }
    }
  }

  private static boolean appendFunctionExists(Connection connection) throws SQLException {
    try (var statement =
            connection.prepareStatement(
                "SELECT to_regprocedure('" + APPEND_FUNCTION_SIGNATURE + "') IS NOT NULL");
        var rows = statement.executeQuery()) {
      return rows.next() && rows.getBoolean(1);
    }
  }

  static void execute(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
    }
  }
}
