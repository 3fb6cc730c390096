package dev.pledge.client.participant;

import com.sun.net.httpserver.HttpHandler;
import dev.pledge.client.barrier.BusinessRefusal;
import dev.pledge.client.barrier.LocalTransactions;
import dev.pledge.client.sql.Dialect;
import dev.pledge.core.Op;
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
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A participant's side of {@code 3pc} (docs/protocols/3pc.md): the coordinator's {@code
 * can-commit}, {@code pre-commit}, {@code do-commit} and {@code abort}, and the participant's own
 * timers.
 *
 * <ul>
 *   <li>{@code can-commit} runs the caller's tentative work and votes yes ({@code 200}), or no
 *       ({@code 409}) when the work throws {@link BusinessRefusal}. A yes vote starts the <em>abort
 *       timeout</em>.
 *   <li>{@code pre-commit} makes a branch that voted yes pre-committed and starts its <em>commit
 *       timeout</em>.
 *   <li>{@code do-commit} commits (the caller's {@link Work#commit}); {@code abort} aborts ({@link
 *       Work#abort}), also before any vote, which makes a later {@code can-commit} vote no.
 *   <li><b>Timers</b> ({@link #runDue}, every period once {@link #startTimers}): a branch that only
 *       voted yes and heard nothing before its abort timeout <b>aborts by itself</b>; a
 *       pre-committed branch that heard no {@code do-commit} before its commit timeout <b>commits
 *       by itself</b>. Both are recorded ({@link State#selfDecided()}) and logged.
 *   <li>A {@code pre-commit} or {@code do-commit} for a branch that aborted, or an {@code abort}
 *       for one that committed, is answered {@code 409}: a heuristic outcome the coordinator flags.
 * </ul>
 *
 * <p>Each branch's state is a row of {@code pledge_3pc} (created by {@link #migrate}) in the
 * service's own database, moved by a compare-and-set {@code UPDATE} in the same local transaction
 * as the caller's work, so a timer and a coordinator's call racing for one branch cannot both win,
 * and the vote, the state and the timers survive a crash of the participant. The timers' deadlines
 * are stored as times of the participant's {@link Clock}; a participant that was down past a
 * deadline acts on it at its first {@link #runDue} after the restart.
 *
 * <p>3pc is safe only if the abort timeout exceeds the transaction's timeout plus the longest time
 * the coordinator can be down or cut off plus the time to get a retried message through; under a
 * network partition the outcome can be mixed (docs/protocols/3pc.md). Thread-safe.
 */
public final class ThreePcParticipant implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(ThreePcParticipant.class);

  public static final String TABLE = "pledge_3pc";
  private static final int DUE_PER_RUN = 500;

  /** The caller's side of a branch, each run in the local transaction that moves its state. */
  public interface Work {
    /**
     * {@code can-commit}: does the work tentatively (holds the stock, the money); throw {@link
     * BusinessRefusal} to vote no.
     */
    void canCommit(Connection connection, ParticipantRequest request) throws SQLException;

    /** Makes the tentative work of {@code (gid, branch)} final: by do-commit or by the timer. */
    void commit(Connection connection, String gid, String branch) throws SQLException;

    /** Undoes the tentative work of {@code (gid, branch)}: by abort or by the timer. */
    void abort(Connection connection, String gid, String branch) throws SQLException;
  }

  /** Where a branch is. */
  public enum Phase {
    VOTED("voted"),
    PRE_COMMITTED("pre-committed"),
    COMMITTED("committed"),
    ABORTED("aborted");

    private final String code;

    Phase(String code) {
      this.code = code;
    }

    public String code() {
      return code;
    }

    static Phase of(String code) {
      for (Phase phase : values()) {
        if (phase.code.equals(code)) {
          return phase;
        }
      }
      throw new IllegalStateException("unknown 3pc state " + code);
    }
  }

  /**
   * A branch's state.
   *
   * @param deadline when its timer fires (voted: abort; pre-committed: commit), or null when final
   * @param selfDecided whether the participant ended it by itself (a timer), not the coordinator
   */
  public record State(Phase phase, Instant deadline, boolean selfDecided) {}

  /**
   * The timeouts.
   *
   * @param abortTimeout how long a branch that voted yes waits for pre-commit, do-commit or abort
   * @param commitTimeout how long a pre-committed branch waits for do-commit
   */
  public record Timeouts(Duration abortTimeout, Duration commitTimeout) {
    public Timeouts {
      Objects.requireNonNull(abortTimeout, "abortTimeout");
      Objects.requireNonNull(commitTimeout, "commitTimeout");
      if (abortTimeout.isNegative() || abortTimeout.isZero()) {
        throw new IllegalArgumentException("abortTimeout must be positive, was " + abortTimeout);
      }
      if (commitTimeout.isNegative() || commitTimeout.isZero()) {
        throw new IllegalArgumentException("commitTimeout must be positive, was " + commitTimeout);
      }
    }
  }

  private final LocalTransactions transactions;
  private final Dialect dialect;
  private final Work work;
  private final Timeouts timeouts;
  private final Clock clock;
  private final String insert;
  private ScheduledExecutorService timers;

  private ThreePcParticipant(
      LocalTransactions transactions, Dialect dialect, Work work, Timeouts timeouts, Clock clock) {
    this.transactions = transactions;
    this.dialect = dialect;
    this.work = work;
    this.timeouts = timeouts;
    this.clock = clock;
    this.insert =
        dialect.insertUnlessPresent(
            TABLE,
            "gid, branch, state, deadline_micros, self_decided, updated_micros",
            "?, ?, ?, ?, 0, ?");
  }

  /**
   * A participant whose states and work go through {@code transactions} on a database of {@code
   * dialect}; call {@link #migrate} once first. The clock stamps the deadlines (a test's clock can
   * be moved by hand).
   */
  public static ThreePcParticipant create(
      LocalTransactions transactions, Dialect dialect, Work work, Timeouts timeouts, Clock clock) {
    return new ThreePcParticipant(
        Objects.requireNonNull(transactions, "transactions"),
        Objects.requireNonNull(dialect, "dialect"),
        Objects.requireNonNull(work, "work"),
        Objects.requireNonNull(timeouts, "timeouts"),
        Objects.requireNonNull(clock, "clock"));
  }

  /** Creates {@code pledge_3pc} when missing. */
  public static void migrate(Connection connection, Dialect dialect) throws SQLException {
    try (Statement statement = connection.createStatement()) {
      statement.execute(
          "CREATE TABLE IF NOT EXISTS "
              + TABLE
              + " (gid VARCHAR(128) NOT NULL, branch VARCHAR(64) NOT NULL,"
              + " state VARCHAR(16) NOT NULL, deadline_micros BIGINT,"
              + " self_decided SMALLINT NOT NULL, updated_micros BIGINT NOT NULL,"
              + " PRIMARY KEY (gid, branch))"
              + (dialect == Dialect.MARIADB ? " ENGINE=InnoDB DEFAULT CHARSET=utf8mb4" : ""));
    }
  }

  public Timeouts timeouts() {
    return timeouts;
  }

  // ---- the coordinator's ops ----

  /** {@code POST} handler of {@code op} (one of the four 3pc ops). */
  public HttpHandler handler(Op op) {
    Objects.requireNonNull(op, "op");
    return exchange ->
        Participant.serve(exchange, "POST", (headers, body) -> answer(op, headers, body));
  }

  /** Answers one call of {@code op} (header names lower case). */
  public Answer answer(Op op, Map<String, String> headers, byte[] body) {
    List<String> problems = new ArrayList<>();
    ParticipantRequest request = Participant.parse(op, headers, body, problems);
    if (request == null) {
      return Answer.error(400, "invalid_request", String.join("; ", problems));
    }
    if (request.mode() != dev.pledge.core.Mode.THREE_PC) {
      return Answer.error(400, "invalid_request", "this endpoint serves 3pc ops");
    }
    try {
      return switch (op) {
        case CAN_COMMIT -> canCommit(request);
        case PRE_COMMIT -> preCommit(request.gid(), request.branch());
        case DO_COMMIT -> doCommit(request.gid(), request.branch());
        case ABORT -> abort(request.gid(), request.branch());
        default -> Answer.error(400, "invalid_request", op.label() + " is not a 3pc op");
      };
    } catch (SQLException e) {
      LOG.warn(
          "3pc {} of {}/{}: database failed: {}",
          op.label(),
          request.gid(),
          request.branch(),
          e.toString());
      return Answer.error(503, "unavailable", "the database failed: " + e.getMessage());
    }
  }

  private Answer canCommit(ParticipantRequest request) throws SQLException {
    String gid = request.gid();
    String branch = request.branch();
    boolean[] inserted = new boolean[1];
    try {
      transactions.inTransaction(c -> {
        try (PreparedStatement statement = c.prepareStatement(insert)) {
          statement.setString(1, gid);
          statement.setString(2, branch);
          statement.setString(3, Phase.VOTED.code());
          statement.setLong(4, micros(clock.instant().plus(timeouts.abortTimeout())));
          statement.setLong(5, micros(clock.instant()));
          inserted[0] = statement.executeUpdate() == 1;
        }
        if (inserted[0]) {
          work.canCommit(c, request);
        }
      });
    } catch (BusinessRefusal refusal) {
      // The vote is no: the branch is aborted (a later op finds it so).
      transactions.inTransaction(c -> {
        try (PreparedStatement statement = c.prepareStatement(insert)) {
          statement.setString(1, gid);
          statement.setString(2, branch);
          statement.setString(3, Phase.ABORTED.code());
          statement.setNull(4, java.sql.Types.BIGINT);
          statement.setLong(5, micros(clock.instant()));
          statement.executeUpdate();
        }
      });
      return Answer.error(409, "refused", String.valueOf(refusal.getMessage()));
    }
    if (inserted[0]) {
      return outcome("voted");
    }
    State state = state(gid, branch);
    return switch (state.phase()) {
      case VOTED, PRE_COMMITTED, COMMITTED -> outcome("duplicate");
      case ABORTED -> Answer.error(409, "aborted", "the branch was aborted before this vote");
    };
  }

  private Answer preCommit(String gid, String branch) throws SQLException {
    if (move(gid, branch, Phase.VOTED, Phase.PRE_COMMITTED, timeouts.commitTimeout(), false)) {
      return outcome("pre_committed");
    }
    State state = state(gid, branch);
    if (state == null) {
      return Answer.error(409, "not_voted", "pre-commit of a branch that never voted");
    }
    return switch (state.phase()) {
      case PRE_COMMITTED, COMMITTED -> outcome("duplicate");
      case ABORTED -> heuristic("pre-commit", state);
      case VOTED -> throw new SQLException("the state of " + gid + "/" + branch + " moved");
    };
  }

  private Answer doCommit(String gid, String branch) throws SQLException {
    if (move(gid, branch, Phase.PRE_COMMITTED, Phase.COMMITTED, null, false)
        || move(gid, branch, Phase.VOTED, Phase.COMMITTED, null, false)) {
      return outcome("committed");
    }
    State state = state(gid, branch);
    if (state == null) {
      return Answer.error(409, "not_voted", "do-commit of a branch that never voted");
    }
    return switch (state.phase()) {
      case COMMITTED -> outcome("duplicate");
      case ABORTED -> heuristic("do-commit", state);
      case VOTED, PRE_COMMITTED ->
          throw new SQLException("the state of " + gid + "/" + branch + " moved");
    };
  }

  private Answer abort(String gid, String branch) throws SQLException {
    if (move(gid, branch, Phase.VOTED, Phase.ABORTED, null, false)
        || move(gid, branch, Phase.PRE_COMMITTED, Phase.ABORTED, null, false)) {
      return outcome("aborted");
    }
    boolean[] inserted = new boolean[1];
    transactions.inTransaction(c -> {
      try (PreparedStatement statement = c.prepareStatement(insert)) {
        statement.setString(1, gid);
        statement.setString(2, branch);
        statement.setString(3, Phase.ABORTED.code());
        statement.setNull(4, java.sql.Types.BIGINT);
        statement.setLong(5, micros(clock.instant()));
        inserted[0] = statement.executeUpdate() == 1;
      }
    });
    if (inserted[0]) {
      return outcome("null_abort");
    }
    State state = state(gid, branch);
    return switch (state.phase()) {
      case ABORTED -> outcome("duplicate");
      case COMMITTED -> heuristic("abort", state);
      case VOTED, PRE_COMMITTED ->
          throw new SQLException("the state of " + gid + "/" + branch + " moved");
    };
  }

  private static Answer heuristic(String op, State state) {
    return Answer.error(
        409,
        state.phase() == Phase.ABORTED ? "heuristic_rollback" : "heuristic_commit",
        op
            + " of a branch that "
            + (state.phase() == Phase.ABORTED ? "aborted" : "committed")
            + (state.selfDecided() ? " by itself after its timeout" : ""));
  }

  // ---- the timers ----

  /**
   * Fires every timer whose deadline has passed by the clock: a branch that only voted yes aborts
   * by itself, a pre-committed one commits by itself. Answers how many it ended.
   */
  public int runDue() throws SQLException {
    long now = micros(clock.instant());
    List<String[]> due = new ArrayList<>();
    transactions.inTransaction(c -> {
      try (PreparedStatement statement =
          c.prepareStatement(
              "SELECT gid, branch, state FROM "
                  + TABLE
                  + " WHERE state IN (?, ?) AND deadline_micros <= ?"
                  + " ORDER BY deadline_micros LIMIT "
                  + DUE_PER_RUN)) {
        statement.setString(1, Phase.VOTED.code());
        statement.setString(2, Phase.PRE_COMMITTED.code());
        statement.setLong(3, now);
        try (ResultSet rows = statement.executeQuery()) {
          while (rows.next()) {
            due.add(new String[] {rows.getString(1), rows.getString(2), rows.getString(3)});
          }
        }
      }
    });
    int ended = 0;
    for (String[] row : due) {
      Phase from = Phase.of(row[2]);
      Phase to = from == Phase.VOTED ? Phase.ABORTED : Phase.COMMITTED;
      if (move(row[0], row[1], from, to, null, true)) {
        ended++;
        LOG.warn(
            "3pc {}/{}: {} by itself: {} and no word from the coordinator within {}",
            row[0],
            row[1],
            to == Phase.ABORTED ? "aborted" : "committed",
            from == Phase.VOTED ? "voted yes" : "pre-committed",
            from == Phase.VOTED ? timeouts.abortTimeout() : timeouts.commitTimeout());
      }
    }
    return ended;
  }

  /** Runs {@link #runDue} every {@code period} on a thread of its own, until {@link #close}. */
  public synchronized void startTimers(Duration period) {
    Objects.requireNonNull(period, "period");
    if (timers != null) {
      throw new IllegalStateException("the timers are running");
    }
    timers =
        Executors.newSingleThreadScheduledExecutor(r -> {
          Thread thread = new Thread(r, "pledge-3pc-timers");
          thread.setDaemon(true);
          return thread;
        });
    timers.scheduleWithFixedDelay(
        () -> {
          try {
            runDue();
          } catch (SQLException | RuntimeException e) {
            LOG.warn("3pc timers: {}", e.toString());
          }
        },
        0,
        period.toMillis(),
        TimeUnit.MILLISECONDS);
  }

  @Override
  public synchronized void close() {
    if (timers != null) {
      timers.shutdownNow();
      timers = null;
    }
  }

  // ---- state ----

  /** The state of {@code (gid, branch)}, or null when it never heard of it. */
  public State state(String gid, String branch) throws SQLException {
    State[] out = new State[1];
    transactions.inTransaction(c -> {
      try (PreparedStatement statement =
          c.prepareStatement(
              "SELECT state, deadline_micros, self_decided FROM "
                  + TABLE
                  + " WHERE gid = ? AND branch = ?")) {
        statement.setString(1, gid);
        statement.setString(2, branch);
        try (ResultSet rows = statement.executeQuery()) {
          if (rows.next()) {
            long deadline = rows.getLong(2);
            boolean noDeadline = rows.wasNull();
            out[0] =
                new State(
                    Phase.of(rows.getString(1)),
                    noDeadline ? null : Instant.EPOCH.plus(deadline, ChronoUnit.MICROS),
                    rows.getInt(3) != 0);
          }
        }
      }
    });
    return out[0];
  }

  /**
   * Moves {@code (gid, branch)} from {@code from} to {@code to} if it is in {@code from}, with the
   * caller's work for the move, in one local transaction; {@code timer}: the new deadline (null for
   * a final state). Answers whether it moved.
   */
  private boolean move(
      String gid, String branch, Phase from, Phase to, Duration timer, boolean selfDecided)
      throws SQLException {
    boolean[] moved = new boolean[1];
    transactions.inTransaction(c -> {
      try (PreparedStatement statement =
          c.prepareStatement(
              "UPDATE "
                  + TABLE
                  + " SET state = ?, deadline_micros = ?, self_decided = ?, updated_micros = ?"
                  + " WHERE gid = ? AND branch = ? AND state = ?")) {
        statement.setString(1, to.code());
        if (timer == null) {
          statement.setNull(2, java.sql.Types.BIGINT);
        } else {
          statement.setLong(2, micros(clock.instant().plus(timer)));
        }
        statement.setInt(3, selfDecided ? 1 : 0);
        statement.setLong(4, micros(clock.instant()));
        statement.setString(5, gid);
        statement.setString(6, branch);
        statement.setString(7, from.code());
        moved[0] = statement.executeUpdate() == 1;
      }
      if (moved[0]) {
        if (to == Phase.COMMITTED) {
          work.commit(c, gid, branch);
        } else if (to == Phase.ABORTED) {
          work.abort(c, gid, branch);
        }
      }
    });
    return moved[0];
  }

  private static Answer outcome(String outcome) {
    return Answer.json(200, "{\"outcome\":\"" + outcome + "\"}");
  }

  private static long micros(Instant instant) {
    return ChronoUnit.MICROS.between(Instant.EPOCH, instant);
  }

  /** For messages. */
  @Override
  public String toString() {
    return "ThreePcParticipant[" + dialect + ", " + timeouts + "]";
  }
}
