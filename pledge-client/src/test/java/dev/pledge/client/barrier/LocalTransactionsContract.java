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
import java.util.concurrent.atomic.AtomicReference;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * What every {@link LocalTransactions} promises, on a real database: the work's writes commit
 * together or not at all, its exception reaches the caller unwrapped, and the barrier run inside it
 * (as the participant endpoints, the starter and the {@code msg} producer run it) keeps its
 * guarantees, also when a forward op and its compensation, or two copies of one op, race through it
 * on two threads. Run by {@link LocalTransactions#of} here and by the Spring Boot starter's
 * implementation there, each on PostgreSQL, MariaDB and SQLite.
 */
public abstract class LocalTransactionsContract {
  private static final int RACES = 20;

  protected abstract TestDatabase database();

  /** The implementation under test, over {@code dataSource}. */
  protected abstract LocalTransactions transactions(DataSource dataSource);

  /** The DataSource the implementation and the checks use (a pool around the database's, say). */
  protected DataSource dataSource(TestDatabase db) {
    return db.dataSource();
  }

  private TestDatabase db;
  private DataSource dataSource;
  private LocalTransactions local;
  private Barrier barrier;
  private String gid;
  private final ExecutorService threads = Executors.newFixedThreadPool(2);

  @BeforeEach
  void cleanTables(TestInfo test) {
    db = database();
    db.drop(Barrier.TABLE, "sdk_local_row");
    db.execute(
        "CREATE TABLE sdk_local_row (gid VARCHAR(128) NOT NULL, branch VARCHAR(64) NOT NULL,"
            + " PRIMARY KEY (gid, branch))");
    dataSource = dataSource(db);
    barrier = Barrier.create(dataSource);
    local = transactions(dataSource);
    gid = test.getTestMethod().orElseThrow().getName();
  }

  @AfterEach
  void stopThreads() throws InterruptedException {
    threads.shutdownNow();
    assertThat(threads.awaitTermination(30, TimeUnit.SECONDS)).isTrue();
  }

  private static int insert(Connection c, String gid, String branch) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("INSERT INTO sdk_local_row VALUES (?, ?)")) {
      s.setString(1, gid);
      s.setString(2, branch);
      return s.executeUpdate();
    }
  }

  private static void delete(Connection c, String gid, String branch) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("DELETE FROM sdk_local_row WHERE gid = ? AND branch = ?")) {
      s.setString(1, gid);
      s.setString(2, branch);
      if (s.executeUpdate() != 1) {
        throw new IllegalStateException("a compensation found nothing to undo for " + gid);
      }
    }
  }

  private long rows(String gid) {
    return db.queryLong("SELECT COUNT(*) FROM sdk_local_row WHERE gid = '" + gid + "'");
  }

  private BarrierOutcome through(String gid, Op op) throws SQLException {
    AtomicReference<BarrierOutcome> outcome = new AtomicReference<>();
    local.inTransaction(c ->
        outcome.set(
            barrier.run(
                c,
                new BranchCall(gid, "1", op),
                op == Op.TRY ? w -> insert(w, gid, "1") : w -> delete(w, gid, "1"))));
    return outcome.get();
  }

  @Test
  void work_thatReturns_commitsAllItsWrites_onAConnectionWithoutAutoCommit() throws SQLException {
    AtomicReference<Boolean> autoCommit = new AtomicReference<>();
    local.inTransaction(c -> {
      autoCommit.set(c.getAutoCommit());
      insert(c, gid, "1");
      insert(c, gid, "2");
    });
    assertThat(autoCommit.get()).isFalse();
    assertThat(rows(gid)).isEqualTo(2);
  }

  @Test
  void work_thatThrowsSqlException_rollsBackEverything_andTheCallerGetsThatException() {
    AtomicReference<SQLException> thrown = new AtomicReference<>();
    assertThatThrownBy(() ->
            local.inTransaction(c -> {
              insert(c, gid, "1");
              try {
                insert(c, gid, "1"); // the primary key refuses it
              } catch (SQLException e) {
                thrown.set(e);
                throw e;
              }
            }))
        .isInstanceOf(SQLException.class)
        .satisfies(e -> assertThat(e).isSameAs(thrown.get()));
    assertThat(rows(gid)).isZero();
  }

  @Test
  void work_thatThrowsARuntimeException_rollsBackEverything_andTheCallerGetsThatException() {
    IllegalStateException boom = new IllegalStateException("boom");
    assertThatThrownBy(() ->
            local.inTransaction(c -> {
              insert(c, gid, "1");
              insert(c, gid, "2");
              throw boom;
            }))
        .isSameAs(boom);
    assertThat(rows(gid)).isZero();
  }

  @Test
  void aBarrierOp_whoseTransactionFailsLater_leavesNoBarrierRow_soItsRetryRuns()
      throws SQLException {
    assertThatThrownBy(() ->
            local.inTransaction(c -> {
              barrier.run(c, new BranchCall(gid, "1", Op.TRY), w -> insert(w, gid, "1"));
              throw new IllegalStateException("the caller's code fails after the op");
            }))
        .hasMessageContaining("fails after the op");
    assertThat(db.queryLong("SELECT COUNT(*) FROM pledge_barrier WHERE gid = '" + gid + "'"))
        .isZero();
    assertThat(List.of(through(gid, Op.TRY), through(gid, Op.TRY)))
        .containsExactly(BarrierOutcome.RAN, BarrierOutcome.DUPLICATE);
    assertThat(rows(gid)).isEqualTo(1);
  }

  @Test
  void aCompensationFirst_throughIt_isANullCompensation_andTheLateForwardHangsNot()
      throws SQLException {
    assertThat(List.of(through(gid, Op.CANCEL), through(gid, Op.TRY), through(gid, Op.CANCEL)))
        .containsExactly(
            BarrierOutcome.NULL_COMPENSATION, BarrierOutcome.HANGING, BarrierOutcome.DUPLICATE);
    assertThat(rows(gid)).isZero();
  }

  @Test
  void tryAndCancel_racingThroughIt_onTwoThreads_neverLeaveARow() throws Exception {
    for (int i = 0; i < RACES; i++) {
      String race = gid + "-" + i;
      CyclicBarrier start = new CyclicBarrier(2);
      Future<BarrierOutcome> tried =
          threads.submit(() -> {
            start.await(10, TimeUnit.SECONDS);
            return through(race, Op.TRY);
          });
      Future<BarrierOutcome> cancelled =
          threads.submit(() -> {
            start.await(10, TimeUnit.SECONDS);
            return through(race, Op.CANCEL);
          });
      List<BarrierOutcome> pair =
          List.of(tried.get(30, TimeUnit.SECONDS), cancelled.get(30, TimeUnit.SECONDS));
      assertThat(pair)
          .as("race %d: (try, cancel)", i)
          .isIn(
              List.of(BarrierOutcome.RAN, BarrierOutcome.RAN),
              List.of(BarrierOutcome.HANGING, BarrierOutcome.NULL_COMPENSATION));
      assertThat(rows(race)).as("race %d: %s", i, pair).isZero();
    }
  }

  @Test
  void theSameOp_racingThroughIt_onTwoThreads_runsOnce() throws Exception {
    for (int i = 0; i < RACES; i++) {
      String race = gid + "-" + i;
      CyclicBarrier start = new CyclicBarrier(2);
      List<Future<BarrierOutcome>> both = new ArrayList<>();
      for (int t = 0; t < 2; t++) {
        both.add(
            threads.submit(() -> {
              start.await(10, TimeUnit.SECONDS);
              return through(race, Op.TRY);
            }));
      }
      List<BarrierOutcome> outcomes = new ArrayList<>();
      for (Future<BarrierOutcome> f : both) {
        outcomes.add(f.get(30, TimeUnit.SECONDS));
      }
      assertThat(outcomes)
          .as("race %d", i)
          .containsExactlyInAnyOrder(BarrierOutcome.RAN, BarrierOutcome.DUPLICATE);
      assertThat(rows(race)).isEqualTo(1);
    }
  }
}
