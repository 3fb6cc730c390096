package dev.pledge.client.xa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.client.barrier.BusinessRefusal;
import dev.pledge.client.testing.TestDatabase;
import dev.pledge.client.xa.spi.Decisions.Decision;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The participant's side of xa ({@link XaBranches}) and its recovery ({@link XaRecovery}) on a real
 * database: prepare, commit, rollback and their repeats, a rollback that overtakes its prepare,
 * refusals, heuristic outcomes, and recovery matching prepared branches to the log's decisions.
 * Decisions are a map the test fills (the coordinator's side is tested against the real server in
 * pledge-server); gids the test did not make are "unreachable" to it, so it never touches another
 * test's branches.
 */
public abstract class XaBranchesContract {
  private TestDatabase database;
  private XaBranches branches;
  private MutableClock clock;
  private String gid;
  private final List<String[]> used = new ArrayList<>();
  private final Map<String, Decision> log = new HashMap<>();
  private final AtomicInteger ran = new AtomicInteger();

  protected abstract TestDatabase database();

  @BeforeEach
  void setUp(TestInfo test) {
    database = database();
    database.execute(
        "CREATE TABLE IF NOT EXISTS xa_branch_rows (id VARCHAR(200) PRIMARY KEY, n INT)");
    clock = new MutableClock(Instant.now());
    branches = XaBranches.create(database.dataSource(), clock, Duration.ofSeconds(2));
    gid =
        test.getTestMethod().orElseThrow().getName()
            + "-"
            + UUID.randomUUID().toString().substring(0, 8);
  }

  @AfterEach
  void rollBackLeftovers() throws SQLException {
    try (Connection connection = database.dataSource().getConnection()) {
      for (String[] branch : used) {
        branches.resource().rollback(connection, XaXid.of(branch[0], branch[1]));
      }
    }
    branches.close();
  }

  /** The work of branch {@code branch}: inserts row {@code gid/branch} and counts the runs. */
  private XaBranches.Work insert(String gid, String branch) {
    used.add(new String[] {gid, branch});
    return connection -> {
      ran.incrementAndGet();
      try (PreparedStatement statement =
          connection.prepareStatement("INSERT INTO xa_branch_rows (id, n) VALUES (?, 1)")) {
        statement.setString(1, gid + "/" + branch);
        statement.executeUpdate();
      }
    };
  }

  private long rows(String gid, String branch) {
    return database.queryLong(
        "SELECT COUNT(*) FROM xa_branch_rows WHERE id = '" + gid + "/" + branch + "'");
  }

  private boolean prepared(String gid, String branch) throws SQLException {
    try (Connection connection = database.dataSource().getConnection()) {
      return branches.resource().isPrepared(connection, XaXid.of(gid, branch));
    }
  }

  private XaRecovery recovery() {
    return XaRecovery.create(
        branches,
        g -> log.getOrDefault(g, Decision.UNREACHABLE),
        XaRecoveryConfig.defaults().withUnknownAfter(Duration.ofMinutes(10)),
        clock);
  }

  @Test
  void prepareThenCommit_appliesTheWorkOnce_andRepeatsChangeNothing() throws SQLException {
    assertThat(branches.prepare(gid, "01", insert(gid, "01"))).isEqualTo(XaOutcome.PREPARED);
    assertThat(prepared(gid, "01")).isTrue();
    assertThat(rows(gid, "01")).isZero();

    assertThat(branches.prepare(gid, "01", insert(gid, "01")))
        .isEqualTo(XaOutcome.ALREADY_PREPARED);
    assertThat(branches.commit(gid, "01")).isEqualTo(XaOutcome.COMMITTED);
    assertThat(branches.commit(gid, "01")).isEqualTo(XaOutcome.ALREADY_COMMITTED);
    assertThat(branches.prepare(gid, "01", insert(gid, "01")))
        .isEqualTo(XaOutcome.ALREADY_COMMITTED);

    assertThat(ran).hasValue(1);
    assertThat(rows(gid, "01")).isEqualTo(1);
    assertThat(prepared(gid, "01")).isFalse();
  }

  @Test
  void rollback_discardsAPreparedBranch_andALatePrepareVotesNo() throws SQLException {
    assertThat(branches.prepare(gid, "01", insert(gid, "01"))).isEqualTo(XaOutcome.PREPARED);

    assertThat(branches.rollback(gid, "01")).isEqualTo(XaOutcome.ROLLED_BACK);
    assertThat(branches.rollback(gid, "01")).isEqualTo(XaOutcome.NOTHING_PREPARED);
    assertThat(branches.prepare(gid, "01", insert(gid, "01")))
        .isEqualTo(XaOutcome.ROLLED_BACK_BEFORE);

    assertThat(ran).hasValue(1);
    assertThat(rows(gid, "01")).isZero();
    assertThat(prepared(gid, "01")).isFalse();
  }

  @Test
  void rollbackBeforePrepare_leavesAMark_andThePrepareRunsNothing() throws SQLException {
    assertThat(branches.rollback(gid, "01")).isEqualTo(XaOutcome.NOTHING_PREPARED);

    XaOutcome late = branches.prepare(gid, "01", insert(gid, "01"));

    assertThat(late).isEqualTo(XaOutcome.ROLLED_BACK_BEFORE);
    assertThat(late.votedYes()).isFalse();
    assertThat(ran).hasValue(0);
    assertThat(prepared(gid, "01")).isFalse();
  }

  @Test
  void refusedWork_preparesNothing_andMayBeAskedAgain() throws SQLException {
    XaBranches.Work refuse =
        connection -> {
          insert(gid, "01").run(connection);
          throw new BusinessRefusal("out of stock");
        };
    assertThatThrownBy(() -> branches.prepare(gid, "01", refuse))
        .isInstanceOf(BusinessRefusal.class)
        .hasMessage("out of stock");
    assertThat(prepared(gid, "01")).isFalse();
    assertThat(rows(gid, "01")).isZero();

    assertThat(branches.prepare(gid, "01", insert(gid, "01"))).isEqualTo(XaOutcome.PREPARED);
    assertThat(branches.rollback(gid, "01")).isEqualTo(XaOutcome.ROLLED_BACK);
  }

  @Test
  void failingWork_preparesNothing_andLeavesTheConnectionClean() throws SQLException {
    XaBranches.Work broken =
        connection -> {
          try (PreparedStatement statement =
              connection.prepareStatement("INSERT INTO no_such_table_xa VALUES (1)")) {
            statement.executeUpdate();
          }
        };
    used.add(new String[] {gid, "01"});
    assertThatThrownBy(() -> branches.prepare(gid, "01", broken)).isInstanceOf(SQLException.class);
    assertThat(prepared(gid, "01")).isFalse();

    assertThat(branches.prepare(gid, "01", insert(gid, "01"))).isEqualTo(XaOutcome.PREPARED);
    assertThat(branches.commit(gid, "01")).isEqualTo(XaOutcome.COMMITTED);
    assertThat(rows(gid, "01")).isEqualTo(1);
  }

  @Test
  void commitOfARolledBackBranch_isAHeuristicRollback_recordedAndThrown() throws SQLException {
    branches.prepare(gid, "01", insert(gid, "01"));
    branches.rollback(gid, "01");

    assertThatThrownBy(() -> branches.commit(gid, "01"))
        .isInstanceOf(XaHeuristicException.class)
        .hasMessageContaining("heuristic-rollback of " + gid + "/01");

    assertThat(branches.incidents(10_000))
        .filteredOn(incident -> incident.gid().equals(gid))
        .extracting(XaIncident::branch, XaIncident::kind)
        .containsExactly(
            org.assertj.core.groups.Tuple.tuple("01", XaIncident.Kind.HEURISTIC_ROLLBACK));
  }

  @Test
  void rollbackOfACommittedBranch_isAHeuristicCommit_recordedAndThrown() throws SQLException {
    branches.prepare(gid, "01", insert(gid, "01"));
    branches.commit(gid, "01");

    assertThatThrownBy(() -> branches.rollback(gid, "01")).isInstanceOf(XaHeuristicException.class);

    assertThat(branches.incidents(10_000))
        .filteredOn(incident -> incident.gid().equals(gid))
        .extracting(XaIncident::kind)
        .containsExactly(XaIncident.Kind.HEURISTIC_COMMIT);
    assertThat(rows(gid, "01")).isEqualTo(1);
  }

  @Test
  void aGidOf128Characters_isHashedInTheXid_andFoundAgainByRecovery() throws SQLException {
    String longGid = (gid + ".").repeat(20).substring(0, 128);
    branches.prepare(longGid, "01", insert(longGid, "01"));

    assertThat(branches.prepared(10_000))
        .filteredOn(branch -> XaXid.of(longGid, "01").equals(branch.xid()))
        .singleElement()
        .satisfies(branch -> assertThat(branch.gid()).isEqualTo(longGid));

    log.put(longGid, Decision.COMMIT);
    XaRecovery.Report report = recovery().runOnce();
    assertThat(report.committed()).isEqualTo(1);
    assertThat(rows(longGid, "01")).isEqualTo(1);
  }

  @Test
  void recovery_commitsWhatTheLogCommitted_rollsBackWhatItAborted_andLeavesTheUndecided()
      throws SQLException {
    String committed = gid + "-c";
    String aborted = gid + "-a";
    String undecided = gid + "-u";
    for (String g : List.of(committed, aborted, undecided)) {
      branches.prepare(g, "01", insert(g, "01"));
      branches.prepare(g, "02", insert(g, "02"));
    }
    log.put(committed, Decision.COMMIT);
    log.put(aborted, Decision.ROLL_BACK);
    log.put(undecided, Decision.UNDECIDED);

    XaRecovery.Report report = recovery().runOnce();

    assertThat(report.committed()).isEqualTo(2);
    assertThat(report.rolledBack()).isEqualTo(2);
    assertThat(report.undecided()).isEqualTo(2);
    assertThat(report.heuristic()).isZero();
    assertThat(report.failed()).isZero();
    for (String branch : List.of("01", "02")) {
      assertThat(rows(committed, branch)).isEqualTo(1);
      assertThat(rows(aborted, branch)).isZero();
      assertThat(prepared(committed, branch)).isFalse();
      assertThat(prepared(aborted, branch)).isFalse();
      assertThat(prepared(undecided, branch)).isTrue();
    }
    // The coordinator's own commit arriving after recovery committed: a repeat, not a heuristic.
    assertThat(branches.commit(committed, "01")).isEqualTo(XaOutcome.ALREADY_COMMITTED);
    assertThat(branches.rollback(aborted, "02")).isEqualTo(XaOutcome.NOTHING_PREPARED);
  }

  @Test
  void recovery_rollsBackABranchNoLogKnows_afterItsBound_andReportsIt() throws SQLException {
    branches.prepare(gid, "01", insert(gid, "01"));
    log.put(gid, Decision.UNKNOWN);
    XaRecovery recovery = recovery();

    XaRecovery.Report early = recovery.runOnce();
    assertThat(early.unknownWaiting()).isEqualTo(1);
    assertThat(early.unknownRolledBack()).isZero();
    assertThat(prepared(gid, "01")).isTrue();

    clock.advance(Duration.ofMinutes(11));
    XaRecovery.Report late = recovery.runOnce();

    assertThat(late.unknownRolledBack()).isEqualTo(1);
    assertThat(prepared(gid, "01")).isFalse();
    assertThat(rows(gid, "01")).isZero();
    assertThat(branches.incidents(10_000))
        .filteredOn(incident -> incident.gid().equals(gid))
        .extracting(XaIncident::kind)
        .containsExactly(XaIncident.Kind.UNKNOWN_ROLLED_BACK);
    // Should a coordinator decide commit after all, the branch is a heuristic rollback, shown.
    assertThatThrownBy(() -> branches.commit(gid, "01")).isInstanceOf(XaHeuristicException.class);
  }

  @Test
  void recovery_leavesEverythingPrepared_whenTheCoordinatorCannotBeAsked() throws SQLException {
    branches.prepare(gid, "01", insert(gid, "01"));
    clock.advance(Duration.ofDays(1));

    XaRecovery.Report report = recovery().runOnce();

    assertThat(report.unreachable()).isGreaterThanOrEqualTo(1);
    assertThat(report.unknownRolledBack()).isZero();
    assertThat(prepared(gid, "01")).isTrue();
  }
}
