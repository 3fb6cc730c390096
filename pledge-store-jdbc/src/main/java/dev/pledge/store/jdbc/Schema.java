package dev.pledge.store.jdbc;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;

/**
 * The log's tables, made and upgraded when a log opens by numbered migrations, one list per
 * database. The table {@code <prefix>schema_version} holds a row per migration applied.
 *
 * <p>Opening is safe to race: the migrations run under a lock (SQLite's write lock, a PostgreSQL
 * advisory lock, a MariaDB named lock), in one transaction where the database has transactional DDL
 * (SQLite, PostgreSQL). Every statement is {@code IF NOT EXISTS}, so a migration cut off half way
 * on MariaDB (whose DDL commits by itself) is simply run again. A database already migrated past
 * what this build knows is refused, since this build would not know how to write it.
 *
 * <p>The tables, with every instant in epoch milliseconds:
 *
 * <ul>
 *   <li>{@code transactions}: one row per gid; {@code seq}, the creation number, orders pages
 *       newest first; {@code status} is {@code Status.code()}, {@code mode} is {@code Mode.code()};
 *       {@code wake_at_millis} is null for settled transactions (indexed, for due work); {@code
 *       settled} (indexed, for recovery); {@code state} is the whole transaction as {@link
 *       TransactionCodec} JSON, the only column read back.
 *   <li>{@code history}: one row per entry, {@code seq} keeping the order of appends, written in
 *       the same database transaction as the create or update it belongs to; {@code kind} is {@code
 *       HistoryEntry.Kind.code()}, {@code what} the entry's detail, {@code latency_micros} an
 *       answer's latency. Rows from before migration 5 read as notes.
 *   <li>{@code transactions.lease_epoch}, {@code lease_until_millis}: who holds the lease on the
 *       transaction's due work, until when by the database's clock (0 and 0: nobody).
 *   <li>{@code transactions.dead}, {@code dead_subscriptions}: whether the transaction holds a dead
 *       delivery (indexed, for the dead-letter listing), and the subscriptions it is dead to, as
 *       {@code ,name,name,} (null when none), so a subscription filter is a plain substring search.
 *   <li>{@code epochs}: one row per handle ever opened; its generated key is the handle's epoch.
 *   <li>{@code subscriptions}: where each topic's messages go, by subscription name.
 *   <li>{@code key_queue}: one row per keyed delivery still owed, the (subscription, key) queues of
 *       order per key ({@code TransactionLog.heads}); {@code seq} orders a queue, {@code key_hash}
 *       (SHA-256 of the key, hex) indexes the key, which may be 1024 bytes long; {@code started}
 *       once the delivery was written active. Written in the same database transaction as the
 *       transaction row.
 * </ul>
 *
 * <p>Gids compare byte by byte everywhere ({@code COLLATE "C"}, {@code ascii_bin}), as {@code
 * Gid.compareTo} does, so that paging by gid agrees with the in-memory log.
 */
final class Schema {
  /** One step of the schema, applied once. */
  record Migration(int version, String description, List<String> statements) {}

  private static final int MIGRATION_LOCK_TIMEOUT_SECONDS = 30;

  private Schema() {}

  static List<Migration> migrations(Dialect dialect, String prefix) {
    return switch (dialect) {
      case SQLITE -> sqlite(prefix);
      case POSTGRESQL -> postgres(prefix);
      case MARIADB -> mariadb(prefix);
    };
  }

  /** The version this build migrates to. */
  static int latest(Dialect dialect) {
    List<Migration> all = migrations(dialect, "x");
    return all.get(all.size() - 1).version();
  }

  /**
   * Applies the migrations {@code connection}'s database lacks, and commits. The connection is the
   * writer's: auto-commit off, except on SQLite where {@link Dialect#begin} opens the transaction.
   */
  static void migrate(Connection connection, Dialect dialect, String prefix, Instant now)
      throws SQLException {
    String versions = prefix + "schema_version";
    String lockName = "pledge-migrate:" + prefix;
    dialect.begin(connection);
    try {
      switch (dialect) {
        case SQLITE -> {} // BEGIN IMMEDIATE holds the database's write lock
        case POSTGRESQL -> {
          try (PreparedStatement lock =
              connection.prepareStatement("SELECT pg_advisory_xact_lock(?)")) {
            lock.setLong(1, 0x706c_6564_0000_0000L | (lockName.hashCode() & 0xffff_ffffL));
            lock.execute();
          }
        }
        case MARIADB -> {
          try (PreparedStatement lock = connection.prepareStatement("SELECT GET_LOCK(?, ?)")) {
            lock.setString(1, lockName);
            lock.setInt(2, MIGRATION_LOCK_TIMEOUT_SECONDS);
            try (ResultSet got = lock.executeQuery()) {
              if (!got.next() || got.getInt(1) != 1) {
                throw new SQLException(
                    "another process held the lock "
                        + lockName
                        + " for more than "
                        + MIGRATION_LOCK_TIMEOUT_SECONDS
                        + " s while migrating the log's tables");
              }
            }
          }
        }
      }
      Dialect.execute(
          connection,
          "CREATE TABLE IF NOT EXISTS "
              + versions
              + " (version INTEGER NOT NULL PRIMARY KEY, description VARCHAR(200) NOT NULL,"
              + " applied_at_millis BIGINT NOT NULL)");
      int current = current(connection, versions);
      List<Migration> migrations = migrations(dialect, prefix);
      int latest = migrations.get(migrations.size() - 1).version();
      if (current > latest) {
        throw new IllegalStateException(
            "the log's tables ("
                + prefix
                + "*) are at schema version "
                + current
                + ", newer than this build's "
                + latest
                + ": run a newer Pledge");
      }
      for (Migration migration : migrations) {
        if (migration.version() <= current) {
          continue;
        }
        for (String statement : migration.statements()) {
          Dialect.execute(connection, statement);
        }
        try (PreparedStatement done =
            connection.prepareStatement(
                "INSERT INTO "
                    + versions
                    + " (version, description, applied_at_millis) VALUES (?, ?, ?)")) {
          done.setInt(1, migration.version());
          done.setString(2, migration.description());
          done.setLong(3, now.toEpochMilli());
          done.executeUpdate();
        }
      }
      dialect.commit(connection);
    } catch (SQLException | RuntimeException e) {
      try {
        dialect.rollback(connection);
      } catch (SQLException rollback) {
        e.addSuppressed(rollback);
      }
      throw e;
    } finally {
      if (dialect == Dialect.MARIADB) {
        try (PreparedStatement unlock = connection.prepareStatement("SELECT RELEASE_LOCK(?)")) {
          unlock.setString(1, lockName);
          unlock.execute();
        }
      }
    }
  }

  private static int current(Connection connection, String versions) throws SQLException {
    try (PreparedStatement query =
            connection.prepareStatement("SELECT MAX(version) FROM " + versions);
        ResultSet rows = query.executeQuery()) {
      return rows.next() ? rows.getInt(1) : 0;
    }
  }

  private static List<Migration> sqlite(String p) {
    return List.of(
        new Migration(
            1,
            "transactions",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$stransactions (
                  seq INTEGER PRIMARY KEY AUTOINCREMENT,
                  gid TEXT NOT NULL UNIQUE,
                  mode TEXT NOT NULL,
                  status INTEGER NOT NULL,
                  version INTEGER NOT NULL,
                  created_at_millis INTEGER NOT NULL,
                  updated_at_millis INTEGER NOT NULL,
                  wake_at_millis INTEGER,
                  settled INTEGER NOT NULL,
                  state TEXT NOT NULL)\
                """
                    .formatted(p),
                "CREATE INDEX IF NOT EXISTS %1$stransactions_wake ON %1$stransactions".formatted(p)
                    + " (wake_at_millis, gid) WHERE wake_at_millis IS NOT NULL",
                "CREATE INDEX IF NOT EXISTS %1$stransactions_unsettled ON %1$stransactions"
                        .formatted(p)
                    + " (gid) WHERE settled = FALSE",
                "CREATE INDEX IF NOT EXISTS %1$stransactions_status ON %1$stransactions"
                        .formatted(p)
                    + " (status, seq)",
                "CREATE INDEX IF NOT EXISTS %1$stransactions_mode ON %1$stransactions".formatted(p)
                    + " (mode, seq)")),
        new Migration(
            2,
            "history",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$shistory (
                  seq INTEGER PRIMARY KEY AUTOINCREMENT,
                  gid TEXT NOT NULL,
                  at_millis INTEGER NOT NULL,
                  at_nanos INTEGER NOT NULL,
                  version INTEGER NOT NULL,
                  from_status INTEGER,
                  to_status INTEGER,
                  what TEXT)\
                """
                    .formatted(p),
                "CREATE INDEX IF NOT EXISTS %1$shistory_gid ON %1$shistory (gid, seq)"
                    .formatted(p))),
        new Migration(
            3,
            "leases and epochs",
            List.of(
                "ALTER TABLE %1$stransactions ADD COLUMN lease_epoch INTEGER NOT NULL DEFAULT 0"
                    .formatted(p),
                "ALTER TABLE %1$stransactions ADD COLUMN lease_until_millis INTEGER NOT NULL DEFAULT 0"
                    .formatted(p),
                """
                CREATE TABLE IF NOT EXISTS %1$sepochs (
                  epoch INTEGER PRIMARY KEY AUTOINCREMENT,
                  opened_at_millis INTEGER NOT NULL)\
                """
                    .formatted(p))),
        new Migration(
            4,
            "subscriptions",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$ssubscriptions (
                  name TEXT NOT NULL PRIMARY KEY,
                  topic TEXT NOT NULL,
                  target TEXT NOT NULL)\
                """
                    .formatted(p))),
        new Migration(
            5,
            "self-describing history entries",
            List.of(
                "ALTER TABLE %1$shistory ADD COLUMN kind INTEGER NOT NULL DEFAULT 6".formatted(p),
                "ALTER TABLE %1$shistory ADD COLUMN subject TEXT".formatted(p),
                "ALTER TABLE %1$shistory ADD COLUMN op TEXT".formatted(p),
                "ALTER TABLE %1$shistory ADD COLUMN outcome TEXT".formatted(p),
                "ALTER TABLE %1$shistory ADD COLUMN attempt INTEGER NOT NULL DEFAULT 0"
                    .formatted(p),
                "ALTER TABLE %1$shistory ADD COLUMN latency_micros INTEGER".formatted(p))),
        new Migration(
            6,
            "audit log",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$saudit (
                  seq INTEGER PRIMARY KEY AUTOINCREMENT,
                  at_millis INTEGER NOT NULL,
                  actor TEXT NOT NULL,
                  action TEXT NOT NULL,
                  gid TEXT,
                  reason TEXT NOT NULL,
                  result TEXT NOT NULL)\
                """
                    .formatted(p),
                "CREATE INDEX IF NOT EXISTS %1$saudit_gid ON %1$saudit (gid, seq)".formatted(p))),
        new Migration(
            7,
            "dead letters",
            List.of(
                "ALTER TABLE %1$stransactions ADD COLUMN dead INTEGER NOT NULL DEFAULT FALSE"
                    .formatted(p),
                "ALTER TABLE %1$stransactions ADD COLUMN dead_subscriptions TEXT".formatted(p),
                "CREATE INDEX IF NOT EXISTS %1$stransactions_dead ON %1$stransactions".formatted(p)
                    + " (seq) WHERE dead = TRUE")),
        new Migration(
            8,
            "key queues",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$skey_queue (
                  seq INTEGER PRIMARY KEY AUTOINCREMENT,
                  subscription TEXT NOT NULL,
                  key_hash TEXT NOT NULL,
                  msg_key TEXT NOT NULL,
                  gid TEXT NOT NULL,
                  message_id TEXT NOT NULL,
                  started INTEGER NOT NULL DEFAULT FALSE,
                  UNIQUE (message_id, subscription))\
                """
                    .formatted(p),
                "CREATE INDEX IF NOT EXISTS %1$skey_queue_head ON %1$skey_queue".formatted(p)
                    + " (subscription, key_hash, seq)")));
  }

  private static List<Migration> postgres(String p) {
    return List.of(
        new Migration(
            1,
            "transactions",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$stransactions (
                  gid varchar(128) COLLATE "C" PRIMARY KEY,
                  seq bigint GENERATED ALWAYS AS IDENTITY,
                  mode varchar(8) NOT NULL,
                  status smallint NOT NULL,
                  version bigint NOT NULL,
                  created_at_millis bigint NOT NULL,
                  updated_at_millis bigint NOT NULL,
                  wake_at_millis bigint,
                  settled boolean NOT NULL,
                  state text NOT NULL,
                  CONSTRAINT %1$stransactions_seq UNIQUE (seq))\
                """
                    .formatted(p),
                "CREATE INDEX IF NOT EXISTS %1$stransactions_wake ON %1$stransactions".formatted(p)
                    + " (wake_at_millis, gid) WHERE wake_at_millis IS NOT NULL",
                "CREATE INDEX IF NOT EXISTS %1$stransactions_unsettled ON %1$stransactions"
                        .formatted(p)
                    + " (gid) WHERE settled = FALSE",
                "CREATE INDEX IF NOT EXISTS %1$stransactions_status ON %1$stransactions"
                        .formatted(p)
                    + " (status, seq)",
                "CREATE INDEX IF NOT EXISTS %1$stransactions_mode ON %1$stransactions".formatted(p)
                    + " (mode, seq)")),
        new Migration(
            2,
            "history",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$shistory (
                  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                  gid varchar(128) COLLATE "C" NOT NULL,
                  at_millis bigint NOT NULL,
                  at_nanos integer NOT NULL,
                  version bigint NOT NULL,
                  from_status smallint,
                  to_status smallint,
                  what text)\
                """
                    .formatted(p),
                "CREATE INDEX IF NOT EXISTS %1$shistory_gid ON %1$shistory (gid, seq)"
                    .formatted(p))),
        new Migration(
            3,
            "leases and epochs",
            List.of(
                "ALTER TABLE %1$stransactions ADD COLUMN IF NOT EXISTS lease_epoch bigint NOT NULL DEFAULT 0"
                    .formatted(p),
                "ALTER TABLE %1$stransactions ADD COLUMN IF NOT EXISTS lease_until_millis bigint NOT NULL DEFAULT 0"
                    .formatted(p),
                """
                CREATE TABLE IF NOT EXISTS %1$sepochs (
                  epoch bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                  opened_at_millis bigint NOT NULL)\
                """
                    .formatted(p))),
        new Migration(
            4,
            "subscriptions",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$ssubscriptions (
                  name varchar(128) COLLATE "C" PRIMARY KEY,
                  topic varchar(255) NOT NULL,
                  target varchar(2048) NOT NULL)\
                """
                    .formatted(p))),
        new Migration(
            5,
            "self-describing history entries",
            List.of(
                """
                ALTER TABLE %1$shistory
                  ADD COLUMN IF NOT EXISTS kind smallint NOT NULL DEFAULT 6,
                  ADD COLUMN IF NOT EXISTS subject varchar(300),
                  ADD COLUMN IF NOT EXISTS op varchar(32),
                  ADD COLUMN IF NOT EXISTS outcome varchar(16),
                  ADD COLUMN IF NOT EXISTS attempt integer NOT NULL DEFAULT 0,
                  ADD COLUMN IF NOT EXISTS latency_micros bigint\
                """
                    .formatted(p))),
        new Migration(
            6,
            "audit log",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$saudit (
                  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                  at_millis bigint NOT NULL,
                  actor varchar(128) NOT NULL,
                  action varchar(64) NOT NULL,
                  gid varchar(128) COLLATE "C",
                  reason varchar(1000) NOT NULL,
                  result varchar(2000) NOT NULL)\
                """
                    .formatted(p),
                "CREATE INDEX IF NOT EXISTS %1$saudit_gid ON %1$saudit (gid, seq)".formatted(p))),
        new Migration(
            7,
            "dead letters",
            List.of(
                """
                ALTER TABLE %1$stransactions
                  ADD COLUMN IF NOT EXISTS dead boolean NOT NULL DEFAULT FALSE,
                  ADD COLUMN IF NOT EXISTS dead_subscriptions text\
                """
                    .formatted(p),
                "CREATE INDEX IF NOT EXISTS %1$stransactions_dead ON %1$stransactions".formatted(p)
                    + " (seq) WHERE dead = TRUE")),
        new Migration(
            8,
            "key queues",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$skey_queue (
                  seq bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                  subscription varchar(128) COLLATE "C" NOT NULL,
                  key_hash char(64) COLLATE "C" NOT NULL,
                  msg_key text NOT NULL,
                  gid varchar(128) COLLATE "C" NOT NULL,
                  message_id varchar(200) COLLATE "C" NOT NULL,
                  started boolean NOT NULL DEFAULT FALSE,
                  CONSTRAINT %1$skey_queue_delivery UNIQUE (message_id, subscription))\
                """
                    .formatted(p),
                "CREATE INDEX IF NOT EXISTS %1$skey_queue_head ON %1$skey_queue".formatted(p)
                    + " (subscription, key_hash, seq)")));
  }

  private static List<Migration> mariadb(String p) {
    return List.of(
        new Migration(
            1,
            "transactions",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$stransactions (
                  gid VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                  seq BIGINT NOT NULL AUTO_INCREMENT,
                  mode VARCHAR(8) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                  status SMALLINT NOT NULL,
                  version BIGINT NOT NULL,
                  created_at_millis BIGINT NOT NULL,
                  updated_at_millis BIGINT NOT NULL,
                  wake_at_millis BIGINT NULL,
                  settled BOOLEAN NOT NULL,
                  state LONGTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
                  PRIMARY KEY (gid),
                  UNIQUE KEY %1$stransactions_seq (seq),
                  KEY %1$stransactions_wake (wake_at_millis, gid),
                  KEY %1$stransactions_unsettled (settled, gid),
                  KEY %1$stransactions_status (status, seq),
                  KEY %1$stransactions_mode (mode, seq)
                ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin\
                """
                    .formatted(p))),
        new Migration(
            2,
            "history",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$shistory (
                  seq BIGINT NOT NULL AUTO_INCREMENT,
                  gid VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                  at_millis BIGINT NOT NULL,
                  at_nanos INT NOT NULL,
                  version BIGINT NOT NULL,
                  from_status SMALLINT NULL,
                  to_status SMALLINT NULL,
                  what MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NULL,
                  PRIMARY KEY (seq),
                  KEY %1$shistory_gid (gid, seq)
                ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin\
                """
                    .formatted(p))),
        new Migration(
            3,
            "leases and epochs",
            List.of(
                "ALTER TABLE %1$stransactions ADD COLUMN IF NOT EXISTS lease_epoch BIGINT NOT NULL DEFAULT 0"
                    .formatted(p),
                "ALTER TABLE %1$stransactions ADD COLUMN IF NOT EXISTS lease_until_millis BIGINT NOT NULL DEFAULT 0"
                    .formatted(p),
                """
                CREATE TABLE IF NOT EXISTS %1$sepochs (
                  epoch BIGINT NOT NULL AUTO_INCREMENT PRIMARY KEY,
                  opened_at_millis BIGINT NOT NULL
                ) ENGINE=InnoDB\
                """
                    .formatted(p))),
        new Migration(
            4,
            "subscriptions",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$ssubscriptions (
                  name VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL PRIMARY KEY,
                  topic VARCHAR(255) NOT NULL,
                  target VARCHAR(2048) NOT NULL
                ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin\
                """
                    .formatted(p))),
        new Migration(
            5,
            "self-describing history entries",
            List.of(
                """
                ALTER TABLE %1$shistory
                  ADD COLUMN IF NOT EXISTS kind SMALLINT NOT NULL DEFAULT 6,
                  ADD COLUMN IF NOT EXISTS subject VARCHAR(300) NULL,
                  ADD COLUMN IF NOT EXISTS op VARCHAR(32) NULL,
                  ADD COLUMN IF NOT EXISTS outcome VARCHAR(16) NULL,
                  ADD COLUMN IF NOT EXISTS attempt INT NOT NULL DEFAULT 0,
                  ADD COLUMN IF NOT EXISTS latency_micros BIGINT NULL\
                """
                    .formatted(p))),
        new Migration(
            6,
            "audit log",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$saudit (
                  seq BIGINT NOT NULL AUTO_INCREMENT,
                  at_millis BIGINT NOT NULL,
                  actor VARCHAR(128) NOT NULL,
                  action VARCHAR(64) NOT NULL,
                  gid VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NULL,
                  reason VARCHAR(1000) NOT NULL,
                  result VARCHAR(2000) NOT NULL,
                  PRIMARY KEY (seq),
                  KEY %1$saudit_gid (gid, seq)
                ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin\
                """
                    .formatted(p))),
        new Migration(
            7,
            "dead letters",
            List.of(
                """
                ALTER TABLE %1$stransactions
                  ADD COLUMN IF NOT EXISTS dead BOOLEAN NOT NULL DEFAULT FALSE,
                  ADD COLUMN IF NOT EXISTS dead_subscriptions MEDIUMTEXT CHARACTER SET ascii
                    COLLATE ascii_bin NULL,
                  ADD KEY IF NOT EXISTS %1$stransactions_dead (dead, seq)\
                """
                    .formatted(p))),
        new Migration(
            8,
            "key queues",
            List.of(
                """
                CREATE TABLE IF NOT EXISTS %1$skey_queue (
                  seq BIGINT NOT NULL AUTO_INCREMENT,
                  subscription VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                  key_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                  msg_key TEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin NOT NULL,
                  gid VARCHAR(128) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                  message_id VARCHAR(200) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
                  started BOOLEAN NOT NULL DEFAULT FALSE,
                  PRIMARY KEY (seq),
                  UNIQUE KEY %1$skey_queue_delivery (message_id, subscription),
                  KEY %1$skey_queue_head (subscription, key_hash, seq)
                ) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin\
                """
                    .formatted(p))));
  }
}
