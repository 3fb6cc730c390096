package dev.pledge.client.xa;

import dev.pledge.client.barrier.Barrier;
import dev.pledge.client.sql.Dialect;
import dev.pledge.client.xa.spi.XaResource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.locks.ReentrantLock;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The participant's side of {@code xa}: each branch is a real transaction of the service's
 * PostgreSQL or MariaDB database, prepared by {@link #prepare}, and committed or rolled back by its
 * xid ({@link XaXid}) when the coordinator's decision arrives ({@link #commit}, {@link #rollback})
 * or when {@link XaRecovery} finds it prepared after a crash.
 *
 * <p>Design. The branch's work runs in the caller's code on a plain {@link Connection} between
 * {@link XaResource#begin} and {@link XaResource#prepare}. Its first statement inserts the row
 * {@code (gid, branch, "prepare")} into the barrier table {@code pledge_barrier}, inside the
 * branch: the row becomes visible exactly when the branch commits. That one row answers everything
 * a prepared transaction alone cannot:
 *
 * <ul>
 *   <li>a prepare that arrives again after its branch committed finds the row: it runs nothing and
 *       votes yes ({@link XaOutcome#ALREADY_COMMITTED}); one that arrives while the branch is
 *       prepared finds the prepared transaction and votes yes ({@link XaOutcome#ALREADY_PREPARED});
 *   <li>a rollback rolls the prepared transaction back, then commits the row with reason {@code
 *       rollback} (a mark): a prepare overtaken by its rollback finds it and votes no ({@link
 *       XaOutcome#ROLLED_BACK_BEFORE}), so it never leaves a prepared transaction behind;
 *   <li>a commit that finds no prepared transaction tells "committed before" (the row, reason
 *       {@code prepare}) from a heuristic rollback (no row, or the mark), which it records ({@link
 *       XaIncident}) and throws ({@link XaHeuristicException}); a rollback that finds the branch
 *       committed records a heuristic commit the same way.
 * </ul>
 *
 * <p>Calls for one branch are serialised in this process (a striped lock), so a duplicate prepare
 * never waits on the row lock of its own prepared twin. Across processes that share the database,
 * row-lock waits of the barrier's statements are bounded by {@code lockTimeout}: a call that hits
 * it fails with an {@link SQLException} (unknown to the coordinator, which calls again).
 *
 * <p>Tables (created by {@link #create} when missing): {@code pledge_barrier}; {@code pledge_xa_gid
 * (gtrid, gid)}, for gids longer than 64 characters, committed before their branch begins; {@code
 * pledge_xa_incident}. Thread-safe; one instance per database.
 *
 * <p>Round trips per call, for a gid of up to 64 characters (a longer one adds the {@code
 * pledge_xa_gid} upsert to a prepare): a PostgreSQL prepare makes three (the barrier row with its
 * lock bound and the check for a prepared twin, the caller's work, {@code PREPARE TRANSACTION}) on
 * a pooled connection; a MariaDB prepare makes five ({@code XA START}, the barrier row under {@code
 * SET STATEMENT}, the work, {@code XA END}, {@code XA PREPARE}) on a new connection it then closes,
 * plus its connect and close. A commit makes one on either, on MariaDB on a connection kept for
 * commits and rollbacks (at most 16 idle, closed by {@link #close}); a rollback makes four (the
 * prepared transaction's rollback; begin, barrier mark, commit of the mark).
 */
public final class XaBranches implements AutoCloseable {
  public static final String GIDS_TABLE = "pledge_xa_gid";
  public static final String INCIDENTS_TABLE = "pledge_xa_incident";

  /** The default bound on a barrier statement's row-lock wait. */
  public static final Duration DEFAULT_LOCK_TIMEOUT = Duration.ofSeconds(5);

  static final String PREPARE_OP = "prepare";
  static final String REASON_PREPARE = "prepare";
  static final String REASON_ROLLBACK = "rollback";
  private static final Logger LOG = LoggerFactory.getLogger(XaBranches.class);
  private static final int STRIPES = 256;
  private static final List<String> BARRIER_COLUMNS =
      List.of("gid", "branch", "op", "reason", "created_micros");

  /** The branch's share of the caller's work, on the branch's connection. */
  @FunctionalInterface
  public interface Work {
    void run(Connection connection) throws SQLException;
  }

  /**
   * A prepared branch found in the database.
   *
   * @param gid its global transaction, or null when the gtrid is a hash whose gid is not in {@code
   *     pledge_xa_gid}
   * @param preparedAt when it was prepared, or null when the database does not say
   */
  public record PreparedBranch(XaXid xid, String gid, Instant preparedAt) {
    public String branch() {
      return xid.bqual();
    }
  }

  private final DataSource dataSource;
  private final Dialect dialect;
  private final XaResource resource;
  private final Clock clock;
  private final Duration lockTimeout;
  private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
  private final FinishingConnections finishers;
  private final String insertIncident;

  private XaBranches(
      DataSource dataSource,
      Dialect dialect,
      XaResource resource,
      Clock clock,
      Duration lockTimeout) {
    this.dataSource = dataSource;
    this.dialect = dialect;
    this.resource = resource;
    this.clock = clock;
    this.lockTimeout = lockTimeout;
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new ReentrantLock();
    }
    // MariaDB: the connection a branch was prepared on must be closed for real, so dataSource
    // opens a new one each time; commits and rollbacks may reuse theirs. PostgreSQL's dataSource
    // is the application's pool, which this must not drain by keeping connections.
    this.finishers = new FinishingConnections(dataSource, dialect == Dialect.MARIADB ? 16 : 0);
    this.insertIncident =
        dialect.insertUnlessPresent(
            INCIDENTS_TABLE, "gid, branch, kind, detail, recorded_micros", "?, ?, ?, ?, ?");
  }

  /**
   * Branches on the PostgreSQL or MariaDB database behind {@code dataSource}: finds the dialect,
   * creates the tables when missing.
   *
   * @throws IllegalArgumentException for a database without prepared transactions (SQLite)
   */
  public static XaBranches create(DataSource dataSource) {
    return create(dataSource, Clock.systemUTC(), DEFAULT_LOCK_TIMEOUT);
  }

  /**
   * As {@link #create(DataSource)}, with the clock that stamps rows and the bound on the barrier's
   * row-lock waits (100 ms to 1 min).
   */
  public static XaBranches create(DataSource dataSource, Clock clock, Duration lockTimeout) {
    Objects.requireNonNull(dataSource, "dataSource");
    try (Connection connection = dataSource.getConnection()) {
      Dialect dialect = Dialect.of(connection);
      XaResource resource =
          switch (dialect) {
            case POSTGRESQL -> new PostgresXaResource();
            case MARIADB -> new MariaDbXaResource();
            case SQLITE ->
                throw new IllegalArgumentException(
                    "xa needs prepared transactions: PostgreSQL or MariaDB, not SQLite");
          };
      return create(dataSource, dialect, resource, clock, lockTimeout, connection);
    } catch (SQLException e) {
      throw new IllegalStateException("could not prepare the xa tables: " + e, e);
    }
  }

  static XaBranches create(
      DataSource dataSource,
      Dialect dialect,
      XaResource resource,
      Clock clock,
      Duration lockTimeout,
      Connection connection)
      throws SQLException {
    Objects.requireNonNull(clock, "clock");
    Objects.requireNonNull(lockTimeout, "lockTimeout");
    if (lockTimeout.compareTo(Duration.ofMillis(100)) < 0
        || lockTimeout.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException("lockTimeout must be 100 ms to 1 min, was " + lockTimeout);
    }
    migrate(connection, dialect);
    return new XaBranches(dataSource, dialect, resource, clock, lockTimeout);
  }

  /**
   * Closes the idle connections kept for commits and rollbacks (MariaDB). Calls after it still
   * work, on new connections.
   */
  @Override
  public void close() {
    finishers.close();
  }

  public Dialect dialect() {
    return dialect;
  }

  /** The database's prepared transactions, as this participant drives them. */
  public XaResource resource() {
    return resource;
  }

  /**
   * The coordinator's {@code prepare} of branch {@code branch} of {@code gid}: begins the branch,
   * runs {@code work} in it, and prepares it.
   *
   * @return a yes vote ({@link XaOutcome#votedYes()}), or {@link XaOutcome#ROLLED_BACK_BEFORE}
   * @throws dev.pledge.client.barrier.BusinessRefusal from {@code work}: rolled back, a no vote
   * @throws SQLException when the database failed: rolled back, nothing prepared; unknown to the
   *     coordinator, which calls again
   */
  public XaOutcome prepare(String gid, String branch, Work work) throws SQLException {
    Objects.requireNonNull(work, "work");
    XaXid xid = XaXid.of(gid, branch);
    ReentrantLock lock = lock(xid);
    lock.lock();
    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(true);
      if (xid.hashed()) {
        rememberGid(connection, xid, gid);
      }
      // The barrier row is the branch's first statement; begin answers how many it inserted.
      int inserted =
          resource.begin(connection, xid, barrierRow(gid, branch, REASON_PREPARE), lockTimeout);
      if (inserted < 0) {
        log(gid, branch, "prepare", XaOutcome.ALREADY_PREPARED);
        return XaOutcome.ALREADY_PREPARED;
      }
      boolean ended = false;
      try {
        if (inserted == 0) {
          resource.lockTimeout(connection, lockTimeout);
          String reason = reason(connection, gid, branch, true);
          resource.lockTimeout(connection, null);
          resource.abandon(connection, xid);
          ended = true;
          XaOutcome outcome =
              REASON_PREPARE.equals(reason)
                  ? XaOutcome.ALREADY_COMMITTED
                  : XaOutcome.ROLLED_BACK_BEFORE;
          log(gid, branch, "prepare", outcome);
          return outcome;
        }
        work.run(connection);
        ended = true; // prepare() either prepares or abandons
        resource.prepare(connection, xid);
        log(gid, branch, "prepare", XaOutcome.PREPARED);
        return XaOutcome.PREPARED;
      } catch (SQLException | RuntimeException | Error e) {
        if (!ended) {
          abandonQuietly(connection, xid, e);
        }
        unboundQuietly(connection, e);
        throw e;
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * The coordinator's {@code commit}: commits the prepared branch.
   *
   * @return {@link XaOutcome#COMMITTED}, or {@link XaOutcome#ALREADY_COMMITTED} for a repeat
   * @throws XaHeuristicException when the branch is neither prepared nor committed (recorded)
   * @throws SQLException when the database failed; the coordinator calls again
   */
  public XaOutcome commit(String gid, String branch) throws SQLException {
    XaXid xid = XaXid.of(gid, branch);
    ReentrantLock lock = lock(xid);
    lock.lock();
    try {
      return finishers.call(connection -> commit(connection, gid, branch, xid));
    } finally {
      lock.unlock();
    }
  }

  private XaOutcome commit(Connection connection, String gid, String branch, XaXid xid)
      throws SQLException {
    if (resource.commit(connection, xid)) {
      log(gid, branch, "commit", XaOutcome.COMMITTED);
      return XaOutcome.COMMITTED;
    }
    String reason = reason(connection, gid, branch, false);
    if (REASON_PREPARE.equals(reason)) {
      log(gid, branch, "commit", XaOutcome.ALREADY_COMMITTED);
      return XaOutcome.ALREADY_COMMITTED;
    }
    throw new XaHeuristicException(
        record(
            connection,
            gid,
            branch,
            XaIncident.Kind.HEURISTIC_ROLLBACK,
            reason == null
                ? "the decision is commit, but the branch is neither prepared nor committed here:"
                    + " it was rolled back outside Pledge, or never prepared"
                : "the decision is commit, but the branch was rolled back here before it arrived"
                    + " (by a rollback, or by recovery as a branch no log knew)"));
  }

  /**
   * The coordinator's {@code rollback}: rolls back the prepared branch, if there is one, and leaves
   * the mark that makes a later prepare of the branch vote no.
   *
   * @return {@link XaOutcome#ROLLED_BACK} or {@link XaOutcome#NOTHING_PREPARED}
   * @throws XaHeuristicException when the branch had committed (recorded)
   * @throws SQLException when the database failed, or a prepare of the branch is in progress on
   *     another connection (the lock timeout); the coordinator calls again
   */
  public XaOutcome rollback(String gid, String branch) throws SQLException {
    return rollback(gid, branch, null);
  }

  /** As {@link #rollback(String, String)}; recovery's presumed abort also records {@code why}. */
  XaOutcome rollback(String gid, String branch, XaIncident.Kind why) throws SQLException {
    XaXid xid = XaXid.of(gid, branch);
    ReentrantLock lock = lock(xid);
    lock.lock();
    try {
      return finishers.call(connection -> rollback(connection, gid, branch, xid, why));
    } finally {
      lock.unlock();
    }
  }

  private XaOutcome rollback(
      Connection connection, String gid, String branch, XaXid xid, XaIncident.Kind why)
      throws SQLException {
    boolean rolledBack = resource.rollback(connection, xid);
    String reason;
    connection.setAutoCommit(false);
    try {
      if (resource.insert(connection, barrierRow(gid, branch, REASON_ROLLBACK), lockTimeout) == 1) {
        reason = REASON_ROLLBACK;
      } else {
        resource.lockTimeout(connection, lockTimeout);
        reason = reason(connection, gid, branch, true);
        resource.lockTimeout(connection, null);
      }
      connection.commit();
    } catch (SQLException | RuntimeException e) {
      rollbackQuietly(connection, e);
      unboundQuietly(connection, e);
      throw e;
    } finally {
      connection.setAutoCommit(true);
    }
    if (REASON_PREPARE.equals(reason)) {
      throw new XaHeuristicException(
          record(
              connection,
              gid,
              branch,
              XaIncident.Kind.HEURISTIC_COMMIT,
              "the decision is rollback, but the branch had committed here"));
    }
    XaOutcome outcome = rolledBack ? XaOutcome.ROLLED_BACK : XaOutcome.NOTHING_PREPARED;
    if (why != null) {
      record(
          connection,
          gid,
          branch,
          why,
          "prepared branch "
              + xid
              + " that no coordinator log knows, rolled back by recovery after its bound");
    }
    log(gid, branch, "rollback", outcome);
    return outcome;
  }

  /**
   * Recovery's presumed abort of a prepared branch whose hashed gtrid has no {@code pledge_xa_gid}
   * row (so no gid to ask any log about, nor to mark): rolls it back by its xid and records an
   * incident under the gtrid.
   */
  void rollbackUnmapped(XaXid xid) throws SQLException {
    ReentrantLock lock = lock(xid);
    lock.lock();
    try {
      finishers.call(connection -> {
        if (resource.rollback(connection, xid)) {
          record(
              connection,
              xid.gtrid(),
              xid.bqual(),
              XaIncident.Kind.UNKNOWN_ROLLED_BACK,
              "prepared branch "
                  + xid
                  + " whose gid is not in "
                  + GIDS_TABLE
                  + ", rolled back by recovery after its bound");
        }
        return null;
      });
    } finally {
      lock.unlock();
    }
  }

  /**
   * Pledge's prepared branches in this database (on MariaDB: on this server), at most {@code
   * limit}, each with its gid when it can be known.
   */
  public List<PreparedBranch> prepared(int limit) throws SQLException {
    if (limit < 1) {
      throw new IllegalArgumentException("limit must be at least 1, was " + limit);
    }
    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(true);
      List<PreparedBranch> out = new ArrayList<>();
      for (XaResource.Prepared prepared : resource.recover(connection, limit)) {
        XaXid xid = prepared.xid();
        out.add(new PreparedBranch(xid, gidOf(connection, xid), prepared.preparedAt()));
      }
      return out;
    }
  }

  /** The incidents recorded in this database, newest first, at most {@code limit}. */
  public List<XaIncident> incidents(int limit) throws SQLException {
    if (limit < 1 || limit > 10_000) {
      throw new IllegalArgumentException("limit must be 1 to 10000, was " + limit);
    }
    List<XaIncident> out = new ArrayList<>();
    try (Connection connection = dataSource.getConnection();
        PreparedStatement statement =
            connection.prepareStatement(
                "SELECT gid, branch, kind, detail, recorded_micros FROM "
                    + INCIDENTS_TABLE
                    + " ORDER BY recorded_micros DESC, gid, branch LIMIT ?")) {
      statement.setInt(1, limit);
      try (ResultSet rows = statement.executeQuery()) {
        while (rows.next()) {
          out.add(
              new XaIncident(
                  rows.getString(1),
                  rows.getString(2),
                  XaIncident.Kind.fromCode(rows.getString(3)),
                  rows.getString(4),
                  Instant.EPOCH.plus(rows.getLong(5), ChronoUnit.MICROS)));
        }
      }
    }
    return out;
  }

  /**
   * Deletes the {@code pledge_xa_gid} rows older than {@code retention} whose branch is no longer
   * prepared (a prepare refreshes its row, so a live branch is never older than its transaction's
   * timeout); answers how many.
   */
  int forgetGids(Duration retention, Set<XaXid> stillPrepared) throws SQLException {
    long cutoff = micros(clock.instant().minus(retention));
    Set<String> keep = new HashSet<>();
    stillPrepared.forEach(xid -> keep.add(xid.gtrid()));
    List<String> old = new ArrayList<>();
    try (Connection connection = dataSource.getConnection()) {
      connection.setAutoCommit(true);
      try (PreparedStatement select =
          connection.prepareStatement(
              "SELECT gtrid FROM " + GIDS_TABLE + " WHERE created_micros < ? LIMIT 1000")) {
        select.setLong(1, cutoff);
        try (ResultSet rows = select.executeQuery()) {
          while (rows.next()) {
            if (!keep.contains(rows.getString(1))) {
              old.add(rows.getString(1));
            }
          }
        }
      }
      int deleted = 0;
      try (PreparedStatement delete =
          connection.prepareStatement(
              "DELETE FROM " + GIDS_TABLE + " WHERE gtrid = ? AND created_micros < ?")) {
        for (String gtrid : old) {
          delete.setString(1, gtrid);
          delete.setLong(2, cutoff);
          deleted += delete.executeUpdate();
        }
      }
      return deleted;
    }
  }

  private void rememberGid(Connection connection, XaXid xid, String gid) throws SQLException {
    String sql =
        switch (dialect) {
          case POSTGRESQL ->
              "INSERT INTO "
                  + GIDS_TABLE
                  + " (gtrid, gid, created_micros) VALUES (?, ?, ?)"
                  + " ON CONFLICT (gtrid) DO UPDATE SET created_micros = EXCLUDED.created_micros";
          case MARIADB ->
              "INSERT INTO "
                  + GIDS_TABLE
                  + " (gtrid, gid, created_micros) VALUES (?, ?, ?)"
                  + " ON DUPLICATE KEY UPDATE created_micros = VALUES(created_micros)";
          case SQLITE -> throw new IllegalStateException("xa is not built on SQLite");
        };
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, xid.gtrid());
      statement.setString(2, gid);
      statement.setLong(3, micros(clock.instant()));
      statement.executeUpdate();
    }
  }

  private String gidOf(Connection connection, XaXid xid) throws SQLException {
    if (!xid.hashed()) {
      return xid.gtrid();
    }
    try (PreparedStatement statement =
        connection.prepareStatement("SELECT gid FROM " + GIDS_TABLE + " WHERE gtrid = ?")) {
      statement.setString(1, xid.gtrid());
      try (ResultSet rows = statement.executeQuery()) {
        return rows.next() ? rows.getString(1) : null;
      }
    }
  }

  /** The branch's barrier row {@code (gid, branch, "prepare", reason)}, stamped now. */
  private XaResource.RowInsert barrierRow(String gid, String branch, String reason) {
    return new XaResource.RowInsert(
        Barrier.TABLE,
        BARRIER_COLUMNS,
        List.of(gid, branch, PREPARE_OP, reason, micros(clock.instant())));
  }

  /**
   * The reason of the branch's barrier row, or null. {@code locking}: a locking read, which sees
   * the latest committed row also inside a transaction whose snapshot is older (MariaDB).
   */
  private String reason(Connection connection, String gid, String branch, boolean locking)
      throws SQLException {
    String sql =
        "SELECT reason FROM "
            + Barrier.TABLE
            + " WHERE gid = ? AND branch = ? AND op = ?"
            + (!locking
                ? ""
                : switch (dialect) {
                  case POSTGRESQL -> " FOR SHARE";
                  case MARIADB -> " LOCK IN SHARE MODE";
                  case SQLITE -> "";
                });
    try (PreparedStatement statement = connection.prepareStatement(sql)) {
      statement.setString(1, gid);
      statement.setString(2, branch);
      statement.setString(3, PREPARE_OP);
      try (ResultSet rows = statement.executeQuery()) {
        return rows.next() ? rows.getString(1) : null;
      }
    }
  }

  private XaIncident record(
      Connection connection, String gid, String branch, XaIncident.Kind kind, String detail)
      throws SQLException {
    Instant now = clock.instant();
    try (PreparedStatement statement = connection.prepareStatement(insertIncident)) {
      statement.setString(1, gid);
      statement.setString(2, branch);
      statement.setString(3, kind.code());
      statement.setString(4, detail);
      statement.setLong(5, micros(now));
      statement.executeUpdate();
    }
    LOG.warn("xa incident {} gid={} branch={}: {}", kind.code(), gid, branch, detail);
    return new XaIncident(gid, branch, kind, detail, now);
  }

  private void abandonQuietly(Connection connection, XaXid xid, Throwable cause) {
    try {
      resource.abandon(connection, xid);
    } catch (SQLException | RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  /** After a failure: the database's own lock wait again, for the next user of the connection. */
  private void unboundQuietly(Connection connection, Throwable cause) {
    if (dialect != Dialect.MARIADB) {
      return; // PostgreSQL's SET LOCAL ended with the transaction
    }
    try {
      resource.lockTimeout(connection, null);
    } catch (SQLException | RuntimeException e) {
      cause.addSuppressed(e);
    }
  }

  private static void rollbackQuietly(Connection connection, Throwable cause) {
    try {
      connection.rollback();
    } catch (SQLException e) {
      cause.addSuppressed(e);
    }
  }

  private ReentrantLock lock(XaXid xid) {
    return stripes[Math.floorMod(xid.hashCode(), STRIPES)];
  }

  private static long micros(Instant instant) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, instant);
  }

  private static void log(String gid, String branch, String op, XaOutcome outcome) {
    LOG.debug("xa gid={} branch={} op={} -> {}", gid, branch, op, outcome);
  }

  /**
   * Creates the tables {@code pledge_barrier}, {@code pledge_xa_gid}, {@code pledge_xa_incident}.
   */
  public static void migrate(Connection connection, Dialect dialect) throws SQLException {
    Barrier.migrate(connection, dialect);
    String suffix = dialect == Dialect.MARIADB ? " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" : "";
    boolean autoCommit = connection.getAutoCommit();
    connection.setAutoCommit(true);
    try (Statement statement = connection.createStatement()) {
      statement.execute(
          "CREATE TABLE IF NOT EXISTS "
              + GIDS_TABLE
              + " (gtrid VARCHAR(64) NOT NULL PRIMARY KEY, gid VARCHAR(128) NOT NULL,"
              + " created_micros BIGINT NOT NULL)"
              + suffix);
      statement.execute(
          "CREATE TABLE IF NOT EXISTS "
              + INCIDENTS_TABLE
              + " (gid VARCHAR(128) NOT NULL, branch VARCHAR(64) NOT NULL,"
              + " kind VARCHAR(32) NOT NULL, detail VARCHAR(1000) NOT NULL,"
              + " recorded_micros BIGINT NOT NULL, PRIMARY KEY (gid, branch, kind))"
              + suffix);
    } finally {
      connection.setAutoCommit(autoCommit);
    }
  }
}
