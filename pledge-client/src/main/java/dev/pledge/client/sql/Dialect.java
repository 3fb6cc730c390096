package dev.pledge.client.sql;

import java.sql.Connection;
import java.sql.SQLException;
import java.util.Locale;

/**
 * The three databases the SDK's tables live in. The SQL that differs between them (auto-increment
 * keys, "insert unless present", row locks that skip locked rows) is chosen here and nowhere else.
 */
public enum Dialect {
  POSTGRESQL,
  MARIADB,
  SQLITE;

  /**
   * The dialect of the database behind a connection, from its product name.
   *
   * @throws IllegalArgumentException for a database the SDK does not support, naming it
   */
  public static Dialect of(Connection connection) throws SQLException {
    String product = connection.getMetaData().getDatabaseProductName();
    String name = product.toLowerCase(Locale.ROOT);
    if (name.contains("postgres")) {
      return POSTGRESQL;
    }
    if (name.contains("mariadb") || name.contains("mysql")) {
      return MARIADB;
    }
    if (name.contains("sqlite")) {
      return SQLITE;
    }
    throw new IllegalArgumentException(
        "unsupported database \""
            + product
            + "\": the SDK supports PostgreSQL, MariaDB and SQLite");
  }

  /**
   * {@code INSERT} of one row into {@code table} that inserts nothing (and raises nothing) when a
   * row with the same primary key exists, waiting for a concurrent transaction that holds such a
   * row uncommitted. {@code executeUpdate} answers 1 when the row was inserted, 0 when not.
   */
  public String insertUnlessPresent(String table, String columns, String placeholders) {
    return switch (this) {
      case POSTGRESQL, SQLITE ->
          "INSERT INTO "
              + table
              + " ("
              + columns
              + ") VALUES ("
              + placeholders
              + ") ON CONFLICT DO NOTHING";
      case MARIADB ->
          "INSERT IGNORE INTO " + table + " (" + columns + ") VALUES (" + placeholders + ")";
    };
  }

  /** Whether several processes may share a table through {@code FOR UPDATE SKIP LOCKED}. */
  public boolean skipsLockedRows() {
    return this != SQLITE;
  }
}
