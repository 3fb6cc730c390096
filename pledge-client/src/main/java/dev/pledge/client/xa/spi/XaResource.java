package dev.pledge.client.xa.spi;

import dev.pledge.client.xa.XaXid;
import java.sql.Connection;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
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
   * A prepared branch as the database lists it.
   *
   * @param preparedAt when it was prepared, or null when the database does not say (MariaDB)
   */
  record Prepared(XaXid xid, Instant preparedAt) {}
}
