package dev.pledge.client.xa.spi;

import dev.pledge.client.xa.XaXid;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;

/**
 * One database's prepared transactions: how a branch begins on a connection, is prepared (made
 * durable, its locks held, detached from the connection), and is later committed or rolled back by
 * its xid from any connection, also after the participant or the database restarted. PostgreSQL
 * ({@code PREPARE TRANSACTION}) and MariaDB ({@code XA PREPARE}) implement it; {@code
 * XaResourceContract} in the test-jar is the suite each implementation passes.
 *
 * <p>Every method takes a connection in auto-commit mode, and leaves it in auto-commit mode, except
 * that between {@link #begin} answering true and {@link #prepare} or {@link #abandon} the
 * connection carries the branch's work. Every failure of the database is an {@link SQLException};
 * none leaves a branch half prepared: after {@link #prepare} throws, the branch is either prepared
 * (and {@link #isPrepared} says so) or gone.
 */
public interface XaResource {

  /**
   * Begins branch {@code xid} on {@code connection}: the statements that follow, until {@link
   * #prepare} or {@link #abandon}, are its work.
   *
   * @return false, having begun nothing, when {@code xid} is already prepared
   * @throws SQLException when the database failed, or a branch {@code xid} is in progress on
   *     another connection
   */
  boolean begin(Connection connection, XaXid xid) throws SQLException;

  /**
   * Begins branch {@code xid} on {@code connection} and runs {@code first} as its first statement,
   * that statement's row-lock waits bounded by {@code lockTimeout} and those of the statements
   * after it at the database's default: the same as {@link #begin(Connection, XaXid)}, then {@link
   * #insert} in the branch, in as few round trips as the database allows (PostgreSQL: one, which
   * also tells whether the branch is prepared; MariaDB: two).
   *
   * @return the number of rows {@code first} inserted (0 or 1) with the branch begun, or -1 having
   *     begun nothing when {@code xid} is already prepared
   * @throws SQLException as {@link #begin(Connection, XaXid)} and {@link #insert}; nothing is begun
   *     then (what was begun is abandoned), and the connection is in auto-commit mode
   */
  int begin(Connection connection, XaXid xid, RowInsert first, Duration lockTimeout)
      throws SQLException;

  /**
   * Runs {@code insert} in the connection's current transaction (or alone in auto-commit mode), its
   * row-lock waits bounded by {@code lockTimeout}, and leaves the statements after it at the
   * database's default wait, without extra round trips: on MariaDB {@code SET STATEMENT
   * innodb_lock_wait_timeout=… FOR INSERT …}; on PostgreSQL {@code SET LOCAL lock_timeout}, the
   * insert and the reset sent together.
   *
   * @return the number of rows inserted: 0 when a row with the same key was there
   * @throws SQLException when the database failed, or the wait hit the bound
   */
  int insert(Connection connection, RowInsert insert, Duration lockTimeout) throws SQLException;

  /**
   * Ends the work begun on {@code connection} and prepares it. When it returns, the branch survives
   * the connection's close and the database's crash, and holds its locks until {@link #commit} or
   * {@link #rollback}.
   *
   * @throws SQLException when the database refused or failed; nothing is prepared then unless
   *     {@link #isPrepared} says so (the answer to the prepare was lost)
   */
  void prepare(Connection connection, XaXid xid) throws SQLException;

  /** Rolls back the branch begun on {@code connection} and not prepared. */
  void abandon(Connection connection, XaXid xid) throws SQLException;

  /**
   * Commits the prepared branch {@code xid}.
   *
   * @return false when no branch {@code xid} is prepared (committed or rolled back before, or never
   *     prepared); nothing changed then
   */
  boolean commit(Connection connection, XaXid xid) throws SQLException;

  /**
   * Rolls back the prepared branch {@code xid}.
   *
   * @return false when no branch {@code xid} is prepared; nothing changed then
   */
  boolean rollback(Connection connection, XaXid xid) throws SQLException;

  /** Whether branch {@code xid} is prepared in this database now. */
  boolean isPrepared(Connection connection, XaXid xid) throws SQLException;

  /**
   * Pledge's prepared branches (not another program's), at most {@code limit}, oldest first where
   * the database knows their age: on PostgreSQL those of the connection's database; on MariaDB,
   * whose XA transactions belong to the server, those of every database on it.
   */
  List<Prepared> recover(Connection connection, int limit) throws SQLException;

  /**
   * Bounds how long the statements that follow on {@code connection} wait for a row lock (null: the
   * database's default again). Inside a branch it bounds the branch's own waits.
   */
  void lockTimeout(Connection connection, Duration timeout) throws SQLException;

  /**
   * One row to insert unless a row with the same key is there ({@code ON CONFLICT DO NOTHING},
   * {@code INSERT IGNORE}).
   *
   * @param table the table, a trusted SQL name
   * @param columns its column names, trusted SQL names
   * @param values one JDBC parameter per column
   */
  record RowInsert(String table, List<String> columns, List<Object> values) {
    public RowInsert {
      columns = List.copyOf(columns);
      values = Collections.unmodifiableList(new ArrayList<>(values));
      if (columns.isEmpty() || columns.size() != values.size()) {
        throw new IllegalArgumentException(
            "columns and values must be as many and not none, were " + columns + " and " + values);
      }
    }

    /** {@code ?, ?, …}, one per column. */
    public String placeholders() {
      return String.join(", ", Collections.nCopies(columns.size(), "?"));
    }

    /** Binds the values to parameters {@code from}, {@code from + 1}, …; answers the next index. */
    public int bind(PreparedStatement statement, int from) throws SQLException {
      int index = from;
      for (Object value : values) {
        statement.setObject(index++, value);
      }
      return index;
    }
  }

  /**
   * A prepared branch as the database lists it.
   *
   * @param preparedAt when it was prepared, or null when the database does not say (MariaDB)
   */
  record Prepared(XaXid xid, Instant preparedAt) {}
}
