package dev.pledge.client.xa;

import dev.pledge.client.xa.spi.XaResource;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * MariaDB's XA transactions: {@code XA START xid … XA END xid; XA PREPARE xid}, then {@code XA
 * COMMIT xid} or {@code XA ROLLBACK xid} from another session (MariaDB 10.5 and later keep a
 * prepared XA transaction across a disconnect and a restart). The xid is written as hex literals
 * {@code X'<gtrid>',X'<bqual>',formatID}.
 *
 * <p>A prepared XA transaction stays attached to the session that prepared it until that session
 * disconnects: while it is attached, {@code XA RECOVER} lists it but {@code XA COMMIT} and {@code
 * XA ROLLBACK} from any other session fail with {@code XAER_NOTA} (unknown XID). So the connection
 * a branch was prepared on must be closed for real, not returned to a pool: give {@link XaBranches}
 * a data source that opens a new connection each time ({@code MariaDbDataSource}, not a pool).
 * {@code XA COMMIT} and {@code XA ROLLBACK} leave nothing attached to their session, so {@link
 * XaBranches} keeps the connections of those (at most 16 idle) instead of opening one per call.
 * {@link #commit} and {@link #rollback} tell this case from a branch that is not prepared: an xid
 * that {@code XA RECOVER} still lists is waited for (the preparing session is going away) for up to
 * {@link #ATTACHED_WAIT}, then reported as an {@link SQLException} (the coordinator calls again),
 * never as "not prepared".
 *
 * <p>{@code XA RECOVER} gives no time of preparation: {@link Prepared#preparedAt()} is null, and
 * recovery measures a branch's age from when it first saw it.
 */
final class MariaDbXaResource implements XaResource {
  /** XAER_NOTA: unknown XID. */
  private static final int NOT_A_XID = 1397;

  /** XAER_DUPID: the XID already exists (prepared, or active on another connection). */
  private static final int DUPLICATE_XID = 1440;

  /** How long an end waits for a prepared branch still attached to its preparing session. */
  static final Duration ATTACHED_WAIT = Duration.ofSeconds(2);

  @Override
  public boolean begin(Connection connection, XaXid xid) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute("XA START " + literal(xid));
      return true;
    } catch (SQLException e) {
      if (e.getErrorCode() == DUPLICATE_XID) {
        if (isPrepared(connection, xid)) {
          return false;
        }
        throw new SQLException(
            "branch " + xid + " is in progress on another connection", "40001", e);
      }
      throw e;
    }
  }

  /** Two round trips: {@code XA START}, then the insert under {@code SET STATEMENT}. */
  @Override
  public int begin(Connection connection, XaXid xid, RowInsert first, Duration lockTimeout)
      throws SQLException {
    if (!begin(connection, xid)) {
      return -1;
    }
    try {
      return insert(connection, first, lockTimeout);
    } catch (SQLException | RuntimeException e) {
      try {
        abandon(connection, xid);
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  /**
   * {@code SET STATEMENT innodb_lock_wait_timeout=… FOR INSERT IGNORE …}: the bound holds for this
   * one statement, so the session's own wait is never changed and needs no reset.
   */
  @Override
  public int insert(Connection connection, RowInsert insert, Duration lockTimeout)
      throws SQLException {
    String sql =
        "SET STATEMENT innodb_lock_wait_timeout="
            + seconds(lockTimeout)
            + " FOR INSERT IGNORE INTO "
            + insert.table()
            + " ("
            + String.join(", ", insert.columns())
            + ") VALUES ("
            + insert.placeholders()
            + ")";
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      insert.bind(statement, 1);
      return statement.executeUpdate();
    }
  }

  private static long seconds(Duration timeout) {
    return Math.max(1, timeout.toSeconds());
  }

  @Override
  public void prepare(Connection connection, XaXid xid) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute("XA END " + literal(xid));
      statement.execute("XA PREPARE " + literal(xid));
    } catch (SQLException e) {
      try {
        if (!isPrepared(connection, xid)) {
          abandon(connection, xid);
        }
      } catch (SQLException suppressed) {
        e.addSuppressed(suppressed);
      }
      throw e;
    }
  }

  @Override
  public void abandon(Connection connection, XaXid xid) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      try {
        statement.execute("XA END " + literal(xid));
      } catch (SQLException e) {
        // Already ended (XAER_RMFAIL: the branch is IDLE), or rolled back by a deadlock
        // (XAER_NOTA): the rollback below settles both.
      }
      try {
        statement.execute("XA ROLLBACK " + literal(xid));
      } catch (SQLException e) {
        if (e.getErrorCode() != NOT_A_XID) {
          throw e;
        }
      }
    }
  }

  @Override
  public boolean commit(Connection connection, XaXid xid) throws SQLException {
    return finish(connection, xid, "XA COMMIT " + literal(xid));
  }

  @Override
  public boolean rollback(Connection connection, XaXid xid) throws SQLException {
    return finish(connection, xid, "XA ROLLBACK " + literal(xid));
  }

  private boolean finish(Connection connection, XaXid xid, String sql) throws SQLException {
    long deadline = System.nanoTime() + ATTACHED_WAIT.toNanos();
    long pauseMillis = 5;
    while (true) {
      try (Statement statement = connection.createStatement()) {
        statement.execute(sql);
        return true;
      } catch (SQLException e) {
        if (e.getErrorCode() != NOT_A_XID) {
          throw e;
        }
        if (!isPrepared(connection, xid)) {
          return false;
        }
        // Listed but not ours to end: still attached to the session that prepared it.
        if (System.nanoTime() > deadline) {
          throw new SQLException(
              "branch "
                  + xid
                  + " is prepared but still attached to the session that prepared it after "
                  + ATTACHED_WAIT
                  + " (MariaDB lets another session end it only once that session has"
                  + " disconnected: was its connection returned to a pool instead of closed?)",
              "HY000",
              e);
        }
        sleep(pauseMillis);
        pauseMillis = Math.min(100, pauseMillis * 2);
      }
    }
  }

  private static void sleep(long millis) throws SQLException {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new SQLException("interrupted while waiting for an attached XA branch", e);
    }
  }

  @Override
  public boolean isPrepared(Connection connection, XaXid xid) throws SQLException {
    for (Prepared prepared : recover(connection, Integer.MAX_VALUE)) {
      if (prepared.xid().equals(xid)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public List<Prepared> recover(Connection connection, int limit) throws SQLException {
    List<Prepared> out = new ArrayList<>();
    try (Statement statement = connection.createStatement();
        ResultSet rows = statement.executeQuery("XA RECOVER")) {
      while (rows.next() && out.size() < limit) {
        int format = rows.getInt("formatID");
        int gtridLength = rows.getInt("gtrid_length");
        int bqualLength = rows.getInt("bqual_length");
        byte[] data = rows.getBytes("data");
        if (format != XaXid.FORMAT_ID || data.length != gtridLength + bqualLength) {
          continue;
        }
        XaXid xid =
            XaXid.fromParts(
                format,
                new String(data, 0, gtridLength, StandardCharsets.US_ASCII),
                new String(data, gtridLength, bqualLength, StandardCharsets.US_ASCII));
        if (xid != null) {
          out.add(new Prepared(xid, null));
        }
      }
    }
    return out;
  }

  @Override
  public void lockTimeout(Connection connection, Duration timeout) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(
          timeout == null
              ? "SET SESSION innodb_lock_wait_timeout = DEFAULT"
              : "SET SESSION innodb_lock_wait_timeout = " + seconds(timeout));
    }
  }

  private static String literal(XaXid xid) {
    HexFormat hex = HexFormat.of();
    return "X'"
        + hex.formatHex(xid.gtrid().getBytes(StandardCharsets.US_ASCII))
        + "',X'"
        + hex.formatHex(xid.bqual().getBytes(StandardCharsets.US_ASCII))
        + "',"
        + XaXid.FORMAT_ID;
  }
}
