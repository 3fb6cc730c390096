package dev.pledge.client.participant;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.client.barrier.BusinessRefusal;
import dev.pledge.client.barrier.LocalTransactions;
import dev.pledge.client.testing.TestDatabase;
import dev.pledge.core.Op;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The participant's side of 3pc and its timers, on a real database, with a clock moved by hand: a
 * branch that only voted yes and hears nothing aborts by itself after its abort timeout; a
 * pre-committed one commits by itself after its commit timeout; the coordinator's late ops then
 * find the outcome (a heuristic {@code 409} where it contradicts them).
 */
public abstract class ThreePcParticipantContract {
  private static final Duration ABORT_TIMEOUT = Duration.ofSeconds(30);
  private static final Duration COMMIT_TIMEOUT = Duration.ofSeconds(5);

  private TestDatabase database;
  private HandClock clock;
  private ThreePcParticipant participant;
  private String gid;

  protected abstract TestDatabase database();

  /** A clock that moves only when told. */
  static final class HandClock extends Clock {
    private volatile Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration by) {
      now = now.plus(by);
    }

    @Override
    public ZoneOffset getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }

    @Override
    public Instant instant() {
      return now;
    }
  }

  @BeforeEach
  void setUp() throws SQLException {
    database = database();
    database.drop(ThreePcParticipant.TABLE, "three_pc_effect");
    database.execute(
        "CREATE TABLE three_pc_effect (gid VARCHAR(128) NOT NULL, branch VARCHAR(64) NOT NULL,"
            + " what VARCHAR(16) NOT NULL)");
    try (Connection c = database.dataSource().getConnection()) {
      ThreePcParticipant.migrate(c, database.dialect());
    }
    clock = new HandClock();
    LocalTransactions transactions = LocalTransactions.of(database.dataSource());
    participant =
        ThreePcParticipant.create(
            transactions,
            database.dialect(),
            new ThreePcParticipant.Work() {
              @Override
              public void canCommit(Connection c, ParticipantRequest request) throws SQLException {
                if (request.payload().path("refuse").asBoolean()) {
                  throw new BusinessRefusal("out of stock");
                }
                effect(c, request.gid(), request.branch(), "held");
              }

              @Override
              public void commit(Connection c, String gid, String branch) throws SQLException {
                effect(c, gid, branch, "committed");
              }

              @Override
              public void abort(Connection c, String gid, String branch) throws SQLException {
                effect(c, gid, branch, "released");
              }
            },
            new ThreePcParticipant.Timeouts(ABORT_TIMEOUT, COMMIT_TIMEOUT),
            clock);
    gid = "g3pc-" + UUID.randomUUID().toString().substring(0, 8);
  }

  private static void effect(Connection c, String gid, String branch, String what)
      throws SQLException {
    try (PreparedStatement statement =
        c.prepareStatement("INSERT INTO three_pc_effect (gid, branch, what) VALUES (?, ?, ?)")) {
      statement.setString(1, gid);
      statement.setString(2, branch);
      statement.setString(3, what);
      statement.executeUpdate();
    }
  }

  private long effects(String what) {
    return database.queryLong(
        "SELECT COUNT(*) FROM three_pc_effect WHERE gid = '" + gid + "' AND what = '" + what + "'");
  }

  private Answer call(Op op, String body) {
    return participant.answer(
        op,
        Map.of(
            "pledge-gid", gid,
            "pledge-branch", "b1",
            "pledge-op", op.label(),
            "pledge-mode", "3pc",
            "pledge-attempt", "1"),
        body.getBytes(StandardCharsets.UTF_8));
  }

  private Answer call(Op op) {
    return call(op, "{}");
  }

  private ThreePcParticipant.State state() throws SQLException {
    return participant.state(gid, "b1");
  }

  @Test
  void votedYes_hearingNothing_abortsByItselfAfterItsAbortTimeout() throws SQLException {
    assertThat(call(Op.CAN_COMMIT).status()).isEqualTo(200);
    assertThat(state().phase()).isEqualTo(ThreePcParticipant.Phase.VOTED);

    clock.advance(ABORT_TIMEOUT.minusSeconds(1));
    assertThat(participant.runDue()).as("before its timeout").isZero();
    assertThat(state().phase()).isEqualTo(ThreePcParticipant.Phase.VOTED);

    clock.advance(Duration.ofSeconds(2));
    assertThat(participant.runDue()).isEqualTo(1);
    assertThat(state())
        .isEqualTo(new ThreePcParticipant.State(ThreePcParticipant.Phase.ABORTED, null, true));
    assertThat(effects("released")).isEqualTo(1);
    assertThat(participant.runDue()).as("a timer fires once").isZero();

    // The coordinator's pre-commit or do-commit arriving after that is a heuristic outcome.
    Answer late = call(Op.PRE_COMMIT);
    assertThat(late.status()).isEqualTo(409);
    assertThat(late.body()).contains("heuristic_rollback").contains("by itself");
    assertThat(call(Op.DO_COMMIT).status()).isEqualTo(409);
    assertThat(effects("committed")).isZero();
    assertThat(call(Op.ABORT).status()).as("an abort agrees").isEqualTo(200);
    assertThat(effects("released")).isEqualTo(1);
  }

  @Test
  void preCommitted_hearingNothing_commitsByItselfAfterItsCommitTimeout() throws SQLException {
    assertThat(call(Op.CAN_COMMIT).status()).isEqualTo(200);
    clock.advance(Duration.ofSeconds(20));
    assertThat(call(Op.PRE_COMMIT).status()).isEqualTo(200);
    assertThat(state().phase()).isEqualTo(ThreePcParticipant.Phase.PRE_COMMITTED);

    clock.advance(COMMIT_TIMEOUT.minusSeconds(1));
    assertThat(participant.runDue()).isZero();
    clock.advance(Duration.ofSeconds(2));
    assertThat(participant.runDue()).isEqualTo(1);
    assertThat(state())
        .isEqualTo(new ThreePcParticipant.State(ThreePcParticipant.Phase.COMMITTED, null, true));
    assertThat(effects("committed")).isEqualTo(1);

    assertThat(call(Op.DO_COMMIT).status()).as("do-commit agrees").isEqualTo(200);
    assertThat(effects("committed")).isEqualTo(1);
    Answer abort = call(Op.ABORT);
    assertThat(abort.status()).isEqualTo(409);
    assertThat(abort.body()).contains("heuristic_commit");
    assertThat(effects("released")).isZero();
  }

  @Test
  void preCommit_replacesTheAbortTimer() throws SQLException {
    assertThat(call(Op.CAN_COMMIT).status()).isEqualTo(200);
    clock.advance(ABORT_TIMEOUT.minusSeconds(2));
    assertThat(call(Op.PRE_COMMIT).status()).isEqualTo(200);
    clock.advance(Duration.ofSeconds(3)); // past the vote's abort deadline, before the commit's
    assertThat(participant.runDue()).isZero();
    assertThat(state().phase()).isEqualTo(ThreePcParticipant.Phase.PRE_COMMITTED);
    assertThat(call(Op.DO_COMMIT).status()).isEqualTo(200);
    assertThat(state())
        .isEqualTo(new ThreePcParticipant.State(ThreePcParticipant.Phase.COMMITTED, null, false));
    clock.advance(Duration.ofMinutes(5));
    assertThat(participant.runDue()).isZero();
    assertThat(effects("committed")).isEqualTo(1);
    assertThat(effects("released")).isZero();
  }

  @Test
  void doCommitAfterAVote_commits_andTheTimersLeaveItAlone() throws SQLException {
    assertThat(call(Op.CAN_COMMIT).status()).isEqualTo(200);
    assertThat(call(Op.CAN_COMMIT).body()).as("a repeated vote").contains("duplicate");
    assertThat(effects("held")).isEqualTo(1);
    assertThat(call(Op.DO_COMMIT).status()).isEqualTo(200);
    clock.advance(Duration.ofMinutes(5));
    assertThat(participant.runDue()).isZero();
    assertThat(state().phase()).isEqualTo(ThreePcParticipant.Phase.COMMITTED);
    assertThat(effects("committed")).isEqualTo(1);
  }

  @Test
  void aRefusal_votesNo_andLeavesNothingToTime() throws SQLException {
    Answer no = call(Op.CAN_COMMIT, "{\"refuse\":true}");
    assertThat(no.status()).isEqualTo(409);
    assertThat(state().phase()).isEqualTo(ThreePcParticipant.Phase.ABORTED);
    assertThat(effects("held")).isZero();
    assertThat(call(Op.ABORT).status()).isEqualTo(200);
    assertThat(effects("released")).as("nothing to undo").isZero();
    clock.advance(Duration.ofMinutes(5));
    assertThat(participant.runDue()).isZero();
  }

  @Test
  void anAbortBeforeTheVote_makesALateVoteANo() throws SQLException {
    Answer abort = call(Op.ABORT);
    assertThat(abort.status()).isEqualTo(200);
    assertThat(abort.body()).contains("null_abort");
    assertThat(call(Op.CAN_COMMIT).status()).isEqualTo(409);
    assertThat(effects("held")).as("the late vote ran nothing").isZero();
    assertThat(effects("released")).isZero();
  }
}
