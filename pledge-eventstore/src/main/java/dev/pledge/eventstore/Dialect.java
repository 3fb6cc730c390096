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
      "es_append_v4(text[], int8[], int4[], text[], int4[], text[], text[], int8, bool)";

  /**
   * Bits of a PostgreSQL position below the transaction id: a position is {@code (xid << 20) + k},
   * k from 1 to 2^20 - 1 within one transaction (see docs/eventstore.md, "Positions").
   */
  static final int POSITION_XID_SHIFT = 20;

  /**
   * PostgreSQL's readers see only positions below this bound: those of transactions older than
   * every transaction still running ({@code pg_snapshot_xmin} of the statement's own snapshot), so
   * every one of them has finished, and every transaction that commits later has a larger id and so
   * larger positions.
   */
  static final String POSTGRES_HORIZON =
      "(pg_snapshot_xmin(pg_current_snapshot())::text::int8 << " + POSITION_XID_SHIFT + ")";

  /**
   * PostgreSQL's append of a whole batch in one call, taking no lock. Per append, in order, one
   * row: {@code idx} (1-based), {@code actual} (the stream's version before the append) and {@code
   * first_position} (0 when the expected version did not match, and nothing of that append was
   * written). {@code p_expected}: -1 any, 0 no stream, n exactly n.
   *
   * <p>Positions are {@code (xid << 20) + k}, with {@code xid} this transaction's id, taken
   * (assigned) only after every version check of the batch: a stream's earlier event was committed
   * before the check that saw it, so by a transaction with a smaller id, so at a smaller position.
   * A transaction that had an id before the check (the caller's own, through appendIn) is refused
   * with 40001 when the stream's last event has a larger id. A racing append of the same stream in
   * another process fails this call on the unique (stream, version) key (23505), and nothing of the
   * call is stored. The function is VOLATILE, so each of its statements reads a fresh snapshot.
   * Versioned by name: a changed function gets a new name.
   */
  static final String APPEND_FUNCTION =
      """
      CREATE FUNCTION es_append_v4(p_streams text[], p_expected int8[], p_counts int4[],
          p_types text[], p_schemas int4[], p_payloads text[], p_metadata text[],
          p_recorded_at int8, p_notify bool)
      RETURNS TABLE (idx int4, actual int8, first_position int8)
      LANGUAGE plpgsql VOLATILE AS $fn$
      DECLARE
        v_n int4 := coalesce(array_length(p_streams, 1), 0);
        v_actual int8[];
        v_ok bool[];
        v_current int8;
        v_last_position int8;
        v_newest_xid int8 := 0;
        v_xid int8;
        v_base int8;
        v_next int8;
        v_offset int4 := 0;
        v_inserted int8;
      BEGIN
        IF v_n = 0 THEN
          RETURN;
        END IF;
        v_actual := array_fill(0::int8, ARRAY[v_n]);
        v_ok := array_fill(false, ARRAY[v_n]);
        FOR i IN 1 .. v_n LOOP
          v_current := NULL;
          FOR j IN REVERSE i - 1 .. 1 LOOP
            IF v_ok[j] AND p_streams[j] = p_streams[i] THEN
              v_current := v_actual[j] + p_counts[j];
              EXIT;
            END IF;
          END LOOP;
          IF v_current IS NULL THEN
            v_last_position := NULL;
            SELECT e.stream_version, e.global_position INTO v_current, v_last_position
              FROM es_events e WHERE e.stream_id = p_streams[i]
              ORDER BY e.stream_version DESC LIMIT 1;
            v_current := coalesce(v_current, 0);
            v_newest_xid := greatest(v_newest_xid, coalesce(v_last_position, 0) >> 20);
          END IF;
          v_actual[i] := v_current;
          v_ok[i] := p_expected[i] < 0 OR p_expected[i] = v_current;
        END LOOP;
        v_xid := pg_current_xact_id()::text::int8;
        IF v_newest_xid > v_xid THEN
          RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = 'this transaction began writing'
            || ' before the last append to a stream it appends to; retry it';
        END IF;
        v_base := v_xid << 20;
        SELECT coalesce(max(e.global_position), v_base) INTO v_next FROM es_events e
          WHERE e.global_position > v_base AND e.global_position < v_base + 1048576;
        FOR i IN 1 .. v_n LOOP
          idx := i;
          actual := v_actual[i];
          IF NOT v_ok[i] THEN
            first_position := 0;
          ELSE
            IF v_next - v_base + p_counts[i] >= 1048576 THEN
              RAISE EXCEPTION 'more than 1048575 events in one transaction';
            END IF;
            INSERT INTO es_events (global_position, stream_id, stream_version, event_type,
                schema_version, payload, metadata, recorded_at)
              SELECT v_next + k, p_streams[i], v_actual[i] + k, p_types[v_offset + k],
                  p_schemas[v_offset + k], p_payloads[v_offset + k], p_metadata[v_offset + k],
                  p_recorded_at
                FROM generate_series(1, p_counts[i]) AS k
              ON CONFLICT (stream_id, stream_version) DO NOTHING;
            GET DIAGNOSTICS v_inserted = ROW_COUNT;
            IF v_inserted = p_counts[i] THEN
              first_position := v_next + 1;
              v_next := v_next + p_counts[i];
            ELSE
              -- A racing append (another process) committed some of these versions after the
              -- check: this append is undone, and the batch goes on without it.
              DELETE FROM es_events e
                WHERE e.global_position > v_next AND e.global_position <= v_next + p_counts[i];
              IF p_expected[i] < 0 THEN
                RAISE EXCEPTION USING ERRCODE = '40001', MESSAGE = 'append to '
                  || p_streams[i] || ' raced another writer; retry it';
              END IF;
              SELECT coalesce(max(e.stream_version), 0) INTO actual
                FROM es_events e WHERE e.stream_id = p_streams[i];
              first_position := 0;
            END IF;
          END IF;
          v_offset := v_offset + p_counts[i];
          RETURN NEXT;
        END LOOP;
        IF p_notify AND v_next > v_base THEN
          PERFORM pg_notify('pledge_es', v_next::text);
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
