package dev.pledge.client.barrier;

import dev.pledge.client.sql.Dialect;
import dev.pledge.core.Op;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.List;
import java.util.Objects;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The participant barrier: table {@code pledge_barrier(gid, branch, op, reason, created_micros)} in
 * the participant's own database, written in the same local transaction as the op's effect.
 *
 * <p>The scheme (DTM's, see docs/protocol.md, "The barrier") rests on one primitive, an insert that
 * does nothing when the row exists and waits for a concurrent transaction holding the same key:
 *
 * <ol>
 *   <li>A compensation ({@code compensate}, {@code cancel}, {@code rollback}) first inserts its
 *       forward op's row. If that inserts, the forward op never ran here: nothing to undo ({@link
 *       BarrierOutcome#NULL_COMPENSATION}), and the row now blocks the forward op if it arrives
 *       late.
 *   <li>Every op inserts its own row. If that inserts nothing, the op ran before ({@link
 *       BarrierOutcome#DUPLICATE}), or, for a forward op whose row a compensation wrote, it arrived
 *       after its compensation ({@link BarrierOutcome#HANGING}). Either way the effect does not
 *       run.
 *   <li>Otherwise the effect runs, and commits with the rows.
 * </ol>
 *
 * <p>Because the primary key serialises the inserts, this holds also when a forward op and its
 * compensation race on two connections: the second waits for the first to commit or roll back, then
 * sees its row or not. A forward op whose effect throws {@link BusinessRefusal} (or anything else)
 * is rolled back with its row, so a retry checks again.
 *
 * <p>For {@code msg} producers, {@link #prepareMessage} and {@link #checkBack} are the same scheme
 * on the row {@code (gid, "00", "msg")}: the local transaction inserts it with reason {@code msg};
 * a check-back inserts it with reason {@code rollback}, which succeeds only if the local
 * transaction never committed, and then stops it from ever committing.
 *
 * <p>Thread-safe; one instance per database.
 */
public final class Barrier {
  /** The table's name. */
  public static final String TABLE = "pledge_barrier";

  static final String MSG_BRANCH = "00";
  static final String MSG_OP = "msg";
  static final String MSG_ROLLBACK = "rollback";
  private static final Logger LOG = LoggerFactory.getLogger(Barrier.class);

  /** The effect of an op, run on the barrier's connection inside its local transaction. */
  @FunctionalInterface
  public interface Effect {
    void run(Connection connection) throws SQLException;
  }

  private final DataSource dataSource;
  private final Dialect dialect;
  private final Clock clock;
  private final String insert;
  private final String reasonOf;

  private Barrier(DataSource dataSource, Dialect dialect, Clock clock) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.clock = clock;
    this.insert =
        dialect.insertUnlessPresent(
            TABLE, "gid, branch, op, reason, created_micros", "?, ?, ?, ?, ?");
    // A locking read sees the latest committed row even inside a transaction whose snapshot is
    // older (MariaDB's REPEATABLE READ).
    this.reasonOf =
        "SELECT reason FROM "
            + TABLE
            + " WHERE gid = ? AND branch = ? AND op = ?"
            + switch (dialect) {
              case POSTGRESQL -> " FOR SHARE";
              case MARIADB -> " LOCK IN SHARE MODE";
              case SQLITE -> "";
            };
  }

  /**
   * A barrier on the database behind {@code dataSource}: finds its dialect and creates the table if
   * it is missing.
   */
  public static Barrier create(DataSource dataSource) {
    return create(dataSource, Clock.systemUTC());
  }

  public static Barrier create(DataSource dataSource, Clock clock) {
    Objects.requireNonNull(dataSource, "dataSource");
    Objects.requireNonNull(clock, "clock");
    try (Connection connection = dataSource.getConnection()) {
      Dialect dialect = Dialect.of(connection);
      migrate(connection, dialect);
      return new Barrier(dataSource, dialect, clock);
    } catch (SQLException e) {
      throw new IllegalStateException("could not prepare table " + TABLE + ": " + e, e);
    }
  }

  /**
   * A barrier for callers that bring their own connection and transaction (a Spring-managed one, a
   * service's single SQLite connection): only the methods that take a {@link Connection} work; the
   * table must exist ({@link #migrate}).
   */
  public static Barrier create(Dialect dialect) {
    return new Barrier(null, Objects.requireNonNull(dialect, "dialect"), Clock.systemUTC());
  }

  public Dialect dialect() {
    return dialect;
  }

  private DataSource dataSource() {
    if (dataSource == null) {
      throw new IllegalStateException(
          "this barrier was created without a DataSource: use the methods that take a Connection");
    }
    return dataSource;
  }

  /**
   * Runs one op in a local transaction of its own, on a connection from the data source: the
   * barrier's rows and the effect commit together, or neither does.
   *
   * @throws BusinessRefusal from a forward op's effect; nothing was committed
   * @throws SQLException when the database failed; nothing was committed, the op is to be retried
   */
  public BarrierOutcome run(BranchCall call, Effect effect) throws SQLException {
    try (Connection connection = dataSource().getConnection()) {
      boolean autoCommit = connection.getAutoCommit();
      connection.setAutoCommit(false);
      try {
        BarrierOutcome outcome = run(connection, call, effect);
        connection.commit();
        return outcome;
      } catch (SQLException | RuntimeException | Error e) {
        rollbackQuietly(connection, e);
        throw e;
      } finally {
        connection.setAutoCommit(autoCommit);
      }
    }
  }

  /**
   * Runs one op in the caller's transaction (a Spring-managed one, say): the caller commits, or
   * rolls back when this throws. The connection must not be in auto-commit mode.
   */
  public BarrierOutcome run(Connection connection, BranchCall call, Effect effect)
      throws SQLException {
    Objects.requireNonNull(call, "call");
    Objects.requireNonNull(effect, "effect");
    if (connection.getAutoCommit()) {
      throw new IllegalStateException(
          "the barrier needs a transaction: the connection is in auto-commit mode");
    }
    Op forward = call.forwardOfCompensation();
    if (forward != null && insert(connection, call.gid(), call.branch(), forward, call.op())) {
      insert(connection, call.gid(), call.branch(), call.op(), call.op());
      log(call, BarrierOutcome.NULL_COMPENSATION);
      return BarrierOutcome.NULL_COMPENSATION;
    }
    if (!insert(connection, call.gid(), call.branch(), call.op(), call.op())) {
      String reason = reason(connection, call.gid(), call.branch(), call.op().label());
      BarrierOutcome outcome =
          reason == null || reason.equals(call.op().label())
              ? BarrierOutcome.DUPLICATE
              : BarrierOutcome.HANGING;
      log(call, outcome);
      return outcome;
    }
    try {
      effect.run(connection);
    } catch (BusinessRefusal refusal) {
      if (!call.op().isForward()) {
        throw new IllegalStateException(
            call.op().label()
                + " of "
                + call.gid()
                + "/"
                + call.branch()
                + " refused, but only a forward op may refuse: "
                + refusal.getMessage(),
            refusal);
      }
      throw refusal;
    }
    log(call, BarrierOutcome.RAN);
    return BarrierOutcome.RAN;
  }

  /**
   * In a {@code msg} producer's local transaction, before its work: marks the transaction as
   * committing with the work.
   *
   * @throws MessageRolledBackException when a check-back already answered {@code rolled_back}
   */
  public void prepareMessage(Connection connection, String gid) throws SQLException {
    new BranchCall(gid, MSG_BRANCH, Op.ACTION); // checks the gid
    if (connection.getAutoCommit()) {
      throw new IllegalStateException(
          "the barrier needs a transaction: the connection is in auto-commit mode");
    }
    if (!insert(connection, gid, MSG_BRANCH, MSG_OP, MSG_OP)) {
      throw new MessageRolledBackException(gid);
    }
  }

  /**
   * Answers a check-back for {@code gid}, definitively: {@code committed} when the local
   * transaction committed, else {@code rolled_back}, after which that transaction can no longer
   * commit. Waits for a local transaction of the same gid still in progress.
   */
  public CheckBackStatus checkBack(String gid) throws SQLException {
    new BranchCall(gid, MSG_BRANCH, Op.ACTION); // checks the gid
    try (Connection connection = dataSource.getConnection()) {
      boolean autoCommit = connection.getAutoCommit();
      connection.setAutoCommit(false);
      try {
        CheckBackStatus status;
        if (insert(connection, gid, MSG_BRANCH, MSG_OP, MSG_ROLLBACK)) {
          status = CheckBackStatus.ROLLED_BACK;
        } else {
          String reason = reason(connection, gid, MSG_BRANCH, MSG_OP);
          status = MSG_OP.equals(reason) ? CheckBackStatus.COMMITTED : CheckBackStatus.ROLLED_BACK;
        }
        connection.commit();
        LOG.debug("check-back gid={} -> {}", gid, status.label());
        return status;
      } catch (SQLException | RuntimeException e) {
        rollbackQuietly(connection, e);
        throw e;
      } finally {
        connection.setAutoCommit(autoCommit);
      }
    }
  }

  /**
   * Answers a check-back in the caller's transaction, which must commit before the answer is sent
   * (a {@code rolled_back} answer is only definitive once its row is committed).
   */
  public CheckBackStatus checkBack(Connection connection, String gid) throws SQLException {
    new BranchCall(gid, MSG_BRANCH, Op.ACTION); // checks the gid
    if (insert(connection, gid, MSG_BRANCH, MSG_OP, MSG_ROLLBACK)) {
      return CheckBackStatus.ROLLED_BACK;
    }
    String reason = reason(connection, gid, MSG_BRANCH, MSG_OP);
    return MSG_OP.equals(reason) ? CheckBackStatus.COMMITTED : CheckBackStatus.ROLLED_BACK;
  }

  private boolean insert(Connection connection, String gid, String branch, Op op, Op reason)
      throws SQLException {
    return insert(connection, gid, branch, op.label(), reason.label());
  }

  private boolean insert(Connection connection, String gid, String branch, String op, String reason)
      throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(insert)) {
      statement.setString(1, gid);
      statement.setString(2, branch);
      statement.setString(3, op);
      statement.setString(4, reason);
      statement.setLong(5, ChronoUnit.MICROS.between(Instant.EPOCH, clock.instant()));
      return statement.executeUpdate() == 1;
    }
  }

  private String reason(Connection connection, String gid, String branch, String op)
      throws SQLException {
    try (PreparedStatement statement = connection.prepareStatement(reasonOf)) {
      statement.setString(1, gid);
      statement.setString(2, branch);
      statement.setString(3, op);
      try (ResultSet rows = statement.executeQuery()) {
        return rows.next() ? rows.getString(1) : null;
      }
    }
  }

  private static void log(BranchCall call, BarrierOutcome outcome) {
    LOG.debug(
        "barrier gid={} branch={} op={} -> {}",
        call.gid(),
        call.branch(),
        call.op().label(),
        outcome);
  }

  private static void rollbackQuietly(Connection connection, Throwable cause) {
    try {
      connection.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  /**
   * Creates table {@code pledge_barrier} if it is missing (idempotent). Commits on the connection.
   */
  public static void migrate(Connection connection, Dialect dialect) throws SQLException {
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(true);
    try (Statement statement = connection.createStatement()) {
      for (String ddl : ddl(dialect)) {
        statement.execute(ddl);
      }
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }

  static List<String> ddl(Dialect dialect) {
    String columns =
        """
        gid VARCHAR(128) NOT NULL,
        branch VARCHAR(64) NOT NULL,
        op VARCHAR(16) NOT NULL,
        reason VARCHAR(16) NOT NULL,
        created_micros BIGINT NOT NULL,
        PRIMARY KEY (gid, branch, op))\
        """;
    return switch (dialect) {
      case POSTGRESQL, SQLITE -> List.of("CREATE TABLE IF NOT EXISTS pledge_barrier (" + columns);
      case MARIADB ->
          List.of(
              "CREATE TABLE IF NOT EXISTS pledge_barrier ("
                  + columns
                  + " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4");
    };
  }
}
