package dev.pledge.client.barrier;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.client.testing.TestDatabase;
import dev.pledge.core.Op;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * What the barrier promises on every database: duplicates do nothing, a compensation with nothing
 * to undo does nothing, a forward op after its compensation does nothing, and all of it also when
 * two connections race. The effect is a row in {@code sdk_reservation} per (gid, branch): a try
 * inserts it, a cancel deletes it, so a hanging reservation is a row left behind.
 */
public abstract class BarrierContract {
  private static final int RACES = 20;

  protected abstract TestDatabase database();

  private TestDatabase db;
  private Barrier barrier;
  private String gid;
  private final ExecutorService threads = Executors.newFixedThreadPool(2);

  @BeforeEach
  void cleanTables(TestInfo test) {
    db = database();
    db.drop(Barrier.TABLE, "sdk_reservation");
    db.execute(
        "CREATE TABLE sdk_reservation (gid VARCHAR(128) NOT NULL, branch VARCHAR(64) NOT NULL,"
            + " PRIMARY KEY (gid, branch))");
    barrier = Barrier.create(db.dataSource());
    gid = test.getTestMethod().orElseThrow().getName();
  }

  @AfterEach
  void stopThreads() throws InterruptedException {
    threads.shutdownNow();
    assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
  }

  private BarrierOutcome reserve(String gid, String branch) throws SQLException {
    return barrier.run(
        new BranchCall(gid, branch, Op.TRY),
        c -> update(c, "INSERT INTO sdk_reservation VALUES (?, ?)", gid, branch, 1));
  }

  private BarrierOutcome release(String gid, String branch) throws SQLException {
    return barrier.run(
        new BranchCall(gid, branch, Op.CANCEL),
        c -> update(c, "DELETE FROM sdk_reservation WHERE gid = ? AND branch = ?", gid, branch, 1));
  }

  private static void update(Connection c, String sql, String gid, String branch, int expected)
      throws SQLException {
    try (PreparedStatement s = c.prepareStatement(sql)) {
      s.setString(1, gid);
      s.setString(2, branch);
      int n = s.executeUpdate();
      if (n != expected) {
        throw new IllegalStateException(sql + " changed " + n + " rows, expected " + expected);
      }
    }
  }

  private long reservations(String gid) {
    return db.queryLong("SELECT COUNT(*) FROM sdk_reservation WHERE gid = '" + gid + "'");
  }

  @Test
  void forward_thenTheSameAgain_runsTheEffectOnce() throws SQLException {
    assertThat(List.of(reserve(gid, "1"), reserve(gid, "1"), reserve(gid, "1")))
        .containsExactly(BarrierOutcome.RAN, BarrierOutcome.DUPLICATE, BarrierOutcome.DUPLICATE);
    assertThat(reservations(gid)).isEqualTo(1);
  }

  @Test
  void compensation_afterItsForward_undoesOnce() throws SQLException {
    assertThat(List.of(reserve(gid, "1"), release(gid, "1"), release(gid, "1")))
        .containsExactly(BarrierOutcome.RAN, BarrierOutcome.RAN, BarrierOutcome.DUPLICATE);
    assertThat(reservations(gid)).isZero();
  }

  @Test
  void compensation_withoutItsForward_isANullCompensation_andTheLateForwardHangsNot()
      throws SQLException {
    assertThat(List.of(release(gid, "1"), release(gid, "1"), reserve(gid, "1"), reserve(gid, "1")))
        .containsExactly(
            BarrierOutcome.NULL_COMPENSATION,
            BarrierOutcome.DUPLICATE,
            BarrierOutcome.HANGING,
            BarrierOutcome.HANGING);
    assertThat(reservations(gid)).isZero();
  }

  @Test
  void forward_refused_leavesNoRow_soARetryChecksAgain() throws SQLException {
    BranchCall call = new BranchCall(gid, "1", Op.ACTION);
    assertThatThrownBy(() ->
            barrier.run(
                call,
                c -> {
                  update(c, "INSERT INTO sdk_reservation VALUES (?, ?)", gid, "1", 1);
                  throw new BusinessRefusal("out of stock");
                }))
        .isInstanceOf(BusinessRefusal.class)
        .hasMessage("out of stock");
    assertThat(reservations(gid)).isZero();
    assertThat(
            barrier.run(
                call, c -> update(c, "INSERT INTO sdk_reservation VALUES (?, ?)", gid, "1", 1)))
        .isEqualTo(BarrierOutcome.RAN);
    assertThat(reservations(gid)).isEqualTo(1);
  }

  @Test
  void compensation_afterARefusedForward_isANullCompensation() throws SQLException {
    assertThatThrownBy(() ->
            barrier.run(
                new BranchCall(gid, "1", Op.PREPARE),
                c -> {
                  throw new BusinessRefusal("no");
                }))
        .isInstanceOf(BusinessRefusal.class);
    assertThat(
            barrier.run(
                new BranchCall(gid, "1", Op.ROLLBACK),
                c -> {
                  throw new AssertionError("nothing to undo");
                }))
        .isEqualTo(BarrierOutcome.NULL_COMPENSATION);
  }

  @Test
  void confirm_runsOnce_andMayNotRefuse() throws SQLException {
    List<String> effects = new ArrayList<>();
    BranchCall confirm = new BranchCall(gid, "1", Op.CONFIRM);
    assertThat(barrier.run(confirm, c -> effects.add("confirm"))).isEqualTo(BarrierOutcome.RAN);
    assertThat(barrier.run(confirm, c -> effects.add("confirm")))
        .isEqualTo(BarrierOutcome.DUPLICATE);
    assertThat(effects).containsExactly("confirm");
    assertThatThrownBy(() ->
            barrier.run(
                new BranchCall(gid, "2", Op.COMMIT),
                c -> {
                  throw new BusinessRefusal("no");
                }))
        .isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("only a forward op may refuse");
  }

  @Test
  void tryAndCancel_racingOnTwoConnections_neverLeaveAReservation() throws Exception {
    List<List<BarrierOutcome>> seen = new ArrayList<>();
    for (int i = 0; i < RACES; i++) {
      String race = gid + "-" + i;
      CyclicBarrier start = new CyclicBarrier(2);
      Future<BarrierOutcome> tried =
          threads.submit(() -> {
            start.await(10, TimeUnit.SECONDS);
            return reserve(race, "1");
          });
      Future<BarrierOutcome> cancelled =
          threads.submit(() -> {
            start.await(10, TimeUnit.SECONDS);
            return release(race, "1");
          });
      List<BarrierOutcome> pair =
          List.of(tried.get(30, TimeUnit.SECONDS), cancelled.get(30, TimeUnit.SECONDS));
      seen.add(pair);
      assertThat(pair)
          .as("race %d: (try, cancel)", i)
          .isIn(
              List.of(BarrierOutcome.RAN, BarrierOutcome.RAN),
              List.of(BarrierOutcome.HANGING, BarrierOutcome.NULL_COMPENSATION));
      assertThat(reservations(race)).as("race %d: %s", i, pair).isZero();
    }
    assertThat(seen).hasSize(RACES);
  }

  @Test
  void theSameOp_onTwoConnectionsAtOnce_runsTheEffectOnce() throws Exception {
    for (int i = 0; i < RACES; i++) {
      String race = gid + "-" + i;
      CyclicBarrier start = new CyclicBarrier(2);
      List<Future<BarrierOutcome>> both = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        both.add(
            threads.submit(() -> {
              start.await(10, TimeUnit.SECONDS);
              return reserve(race, "1");
            }));
      }
      List<BarrierOutcome> outcomes = new ArrayList<>();
      for (Future<BarrierOutcome> f : both) {
        outcomes.add(f.get(30, TimeUnit.SECONDS));
      }
      assertThat(outcomes)
          .as("race %d", i)
          .containsExactlyInAnyOrder(BarrierOutcome.RAN, BarrierOutcome.DUPLICATE);
      assertThat(reservations(race)).isEqualTo(1);
    }
  }

  @Test
  void checkBack_afterTheLocalCommit_answersCommitted() throws SQLException {
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      barrier.prepareMessage(c, gid);
      c.commit();
    }
    assertThat(barrier.checkBack(gid)).isEqualTo(CheckBackStatus.COMMITTED);
    assertThat(barrier.checkBack(gid)).isEqualTo(CheckBackStatus.COMMITTED);
  }

  @Test
  void checkBack_withoutALocalCommit_answersRolledBack_andTheLateLocalTransactionCannotCommit()
      throws SQLException {
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      barrier.prepareMessage(c, gid);
      c.rollback();
    }
    assertThat(barrier.checkBack(gid)).isEqualTo(CheckBackStatus.ROLLED_BACK);
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      assertThatThrownBy(() -> barrier.prepareMessage(c, gid))
          .isInstanceOf(MessageRolledBackException.class)
          .hasMessageContaining(gid);
      c.rollback();
    }
    assertThat(barrier.checkBack(gid)).isEqualTo(CheckBackStatus.ROLLED_BACK);
  }

  @Test
  void checkBack_duringTheLocalTransaction_waitsForItsCommit() throws Exception {
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      barrier.prepareMessage(c, gid);
      Future<CheckBackStatus> asked = threads.submit(() -> barrier.checkBack(gid));
      c.commit();
      assertThat(asked.get(30, TimeUnit.SECONDS)).isEqualTo(CheckBackStatus.COMMITTED);
    }
  }

  @Test
  void badCalls_areRefusedNamingTheField() {
    assertThatThrownBy(() -> new BranchCall("a b", "1", Op.TRY)).hasMessageContaining("gid");
    assertThatThrownBy(() -> new BranchCall("g", "", Op.TRY)).hasMessageContaining("branch");
    assertThatThrownBy(() -> new BranchCall("g", "1", Op.CHECK)).hasMessageContaining("check");
  }
}
