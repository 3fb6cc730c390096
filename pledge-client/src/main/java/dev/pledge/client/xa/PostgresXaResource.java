package dev.pledge.client.xa;

import dev.pledge.client.xa.spi.XaResource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.postgresql.core.BaseConnection;

/**
 * PostgreSQL's prepared transactions: {@code BEGIN … PREPARE TRANSACTION 'pledge/<gtrid>/<bqual>'},
 * then {@code COMMIT PREPARED} or {@code ROLLBACK PREPARED} from any session of the same database.
 * Needs {@code max_prepared_transactions} above zero (scripts/services.sh sets 64).
 */
final class PostgresXaResource implements XaResource {
  /** SQLSTATE undefined_object: "prepared transaction with identifier … does not exist". */
  private static final String UNDEFINED_OBJECT = "42704";

  /** Whether pgjdbc is on the class path (it is an optional dependency of pledge-client). */
  private static final boolean PGJDBC = pgjdbcPresent();

  private static final String PREPARED =
      "SELECT 1 FROM pg_prepared_xacts WHERE gid = ? AND database = current_database()";

  @Override
  public boolean begin(Connection connection, XaXid xid) throws SQLException {
    if (isPrepared(connection, xid)) {
      return false;
    }
    connection.setAutoCommit(false);
    return true;
  }

  /**
   * One round trip (pgjdbc sends the three statements before one Sync, with the {@code BEGIN} of
   * the transaction): {@code SET LOCAL lock_timeout}; the insert, made only when {@code xid} is not
   * in {@code pg_prepared_xacts}; {@code SET LOCAL lock_timeout TO DEFAULT}. When the insert wrote
   * nothing, the rare answer is told apart by a second look at {@code pg_prepared_xacts}.
   */
  @Override
  public int begin(Connection connection, XaXid xid, RowInsert first, Duration lockTimeout)
      throws SQLException {
    connection.setAutoCommit(false);
    String sql =
        "SET LOCAL lock_timeout = "
            + millis(lockTimeout)
            + "; INSERT INTO "
            + first.table()
            + " ("
            + String.join(", ", first.columns())
            + ") SELECT "
            + first.placeholders()
            + " WHERE NOT EXISTS ("
            + PREPARED
            + ") ON CONFLICT DO NOTHING; SET LOCAL lock_timeout TO DEFAULT";
    try {
      int inserted;
      try (PreparedStatement statement = connection.prepareStatement(sql)) {
        int next = first.bind(statement, 1);
        statement.setString(next, xid.postgresName());
        inserted = insertCount(statement);
      }
      if (inserted == 0 && isPrepared(connection, xid)) {
        abandon(connection, xid);
        return -1;
      }
      return inserted;
    } catch (SQLException | RuntimeException e) {
      abandonQuietly(connection, e);
      throw e;
    }
  }

  @Override
  public int insert(Connection connection, RowInsert insert, Duration lockTimeout)
      throws SQLException {
    String sql =
        "SET LOCAL lock_timeout = "
            + millis(lockTimeout)
            + "; INSERT INTO "
            + insert.table()
            + " ("
            + String.join(", ", insert.columns())
            + ") VALUES ("
            + insert.placeholders()
            + ") ON CONFLICT DO NOTHING; SET LOCAL lock_timeout TO DEFAULT";
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      insert.bind(statement, 1);
      return insertCount(statement);
    }
  }

  /** Runs {@code SET; INSERT; SET} and answers the insert's row count (the second result). */
  private static int insertCount(PreparedStatement statement) throws SQLException {
    statement.execute();
    statement.getMoreResults();
    int count = statement.getUpdateCount();
    if (count < 0) {
      throw new IllegalStateException("the insert between two SET LOCAL gave no row count");
    }
    return count;
  }

  private static long millis(Duration timeout) {
    return Math.max(1, timeout.toMillis());
  }

  @Override
  public void prepare(Connection connection, XaXid xid) throws SQLException {
    // PREPARE TRANSACTION in a transaction that had already failed (work that swallowed an error)
    // rolls it back without raising anything, and outside a transaction prepares nothing. pgjdbc
    // knows the transaction's state from the server's last ReadyForQuery: when it says "open and
    // not failed", PREPARE TRANSACTION either prepares or raises, and nothing needs asking after.
    // In any other state (or another driver), the list of prepared transactions tells.
    String state = transactionState(connection);
    if ("FAILED".equals(state)) {
      SQLException failed = rolledBackInstead(xid);
      abandonQuietly(connection, failed);
      throw failed;
    }
    try (Statement statement = connection.createStatement()) {
      statement.execute("PREPARE TRANSACTION '" + xid.postgresName() + "'");
    } catch (SQLException e) {
      abandonQuietly(connection, e);
      throw e;
    }
    connection.setAutoCommit(true);
    if (!"OPEN".equals(state) && !isPrepared(connection, xid)) {
      throw rolledBackInstead(xid);
    }
  }

  private static SQLException rolledBackInstead(XaXid xid) {
    return new SQLException(
        "branch "
            + xid
            + " was rolled back instead of prepared: its transaction had failed before"
            + " PREPARE TRANSACTION (did the work catch an SQLException and go on?)",
        "40000");
  }

  /**
   * pgjdbc's view of the connection's transaction ({@code IDLE}, {@code OPEN}, {@code FAILED}), or
   * null for another driver. By name, so that no pgjdbc class is touched without pgjdbc.
   */
  private static String transactionState(Connection connection) throws SQLException {
    if (!PGJDBC || !connection.isWrapperFor(BaseConnection.class)) {
      return null;
    }
    return connection.unwrap(BaseConnection.class).getTransactionState().name();
  }

  private static void abandonQuietly(Connection connection, Throwable cause) {
    try {
      connection.rollback();
      connection.setAutoCommit(true);
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  @Override
  public void abandon(Connection connection, XaXid xid) throws SQLException {
    connection.rollback();
    connection.setAutoCommit(true);
  }

  @Override
  public boolean commit(Connection connection, XaXid xid) throws SQLException {
    return finish(connection, "COMMIT PREPARED '" + xid.postgresName() + "'");
  }

  @Override
  public boolean rollback(Connection connection, XaXid xid) throws SQLException {
    return finish(connection, "ROLLBACK PREPARED '" + xid.postgresName() + "'");
  }

  private static boolean finish(Connection connection, String sql) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(sql);
      return true;
    } catch (SQLException e) {
      if (UNDEFINED_OBJECT.equals(e.getSQLState())) {
        return false;
      }
      throw e;
    }
  }

  @Override
  public boolean isPrepared(Connection connection, XaXid xid) throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(PREPARED)) {
      statement.setString(1, xid.postgresName());
      try (ResultSet rows = statement.executeQuery()) {
        return rows.next();
      }
    }
  }

  @Override
  public List<Prepared> recover(Connection connection, int limit) throws SQLException {
    List<Prepared> out = new ArrayList<>();
    try (PreparedStatement statement =
        connection.prepareStatement(
            "SELECT gid, prepared FROM pg_prepared_xacts WHERE database = current_database()"
                + " AND gid LIKE 'pledge/%' ORDER BY prepared LIMIT ?")) {
      statement.setInt(1, limit);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          XaXid xid = XaXid.fromPostgresName(rows.getString(1));
          Timestamp prepared = rows.getTimestamp(2);
          if (xid != null) {
            out.add(new Prepared(xid, prepared == null ? null : prepared.toInstant()));
          }
        }
      }
    }
    return out;
  }

  private static boolean pgjdbcPresent() {
    try {
      Class.forName(
          "org.postgresql.core.BaseConnection", false, PostgresXaResource.class.getClassLoader());
      return true;
    } catch (ClassNotFoundException | LinkageError e) {
      return false;
    }
  }

  @Override
  public void lockTimeout(Connection connection, Duration timeout) throws SQLException {
    // SET LOCAL: it ends with the transaction at the latest, so a pooled connection never keeps it.
    try (Statement statement = connection.createStatement()) {
      statement.execute(
          timeout == null
              ? "SET LOCAL lock_timeout TO DEFAULT"
              : "SET LOCAL lock_timeout = " + millis(timeout));
    }
  }
}
