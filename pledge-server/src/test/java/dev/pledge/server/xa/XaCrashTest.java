package dev.pledge.server.xa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.TransactionView;
import dev.pledge.server.ServerProcess;
import dev.pledge.testkit.process.ChildProcess;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * xa across two real databases, with real processes killed with {@code -9}: the coordinator ({@code
 * pledge server} on its SQLite log) and a participant service ({@link XaParticipantChild}) with one
 * branch on PostgreSQL and one on MariaDB. The participant holds the first commit call of each
 * branch, so the kill falls after the decision is logged and before any branch committed; the
 * branches are then prepared transactions in {@code pg_prepared_xacts} and {@code XA RECOVER}.
 * After the killed processes are restarted, the transaction commits, both rows exist, and neither
 * database has a prepared transaction of the test's gid left. The rollback side: the participant
 * holds MariaDB's prepare while PostgreSQL's branch is prepared, and the coordinator is killed
 * before it can decide; restarted, it finds the transaction undecided, presumes abort, and every
 * branch is rolled back, again with nothing prepared left.
 */
class XaCrashTest {
  private static final Duration WAIT = Duration.ofSeconds(120);
  private static final String PG_URL =
      env("PLEDGE_TEST_XA_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/pledge_xa_test");
  private static final String MARIA_URL =
      env("PLEDGE_TEST_XA_MARIADB_URL", "jdbc:mariadb://127.0.0.1:3306/pledge_xa_test?user=root");

  @TempDir Path dataDir;
  private final List<ChildProcess> processes = new ArrayList<>();
  private ServerProcess coordinator;
  private ChildProcess participant;
  private int participantLinesRead;
  private int coordinatorPort;
  private int participantPort;
  private String gid;

  @BeforeEach
  void setUp(TestInfo test) throws Exception {
    // Short enough (at most 64) to be the xid's gtrid itself, so the test can read it in the lists.
    String name = test.getTestMethod().orElseThrow().getName();
    gid = name.substring(0, name.indexOf('_')) + "-" + UUID.randomUUID().toString().substring(0, 8);
    coordinatorPort = ServerProcess.freePort();
    participantPort = ServerProcess.freePort();
    for (String url : List.of(PG_URL, MARIA_URL)) {
      try (Connection c = connect(url);
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE IF NOT EXISTS xa_crash_rows (id VARCHAR(200) PRIMARY KEY)");
      }
    }
  }

  @AfterEach
  void stop() throws Exception {
    for (ChildProcess process : processes) {
      process.close();
    }
    // Whatever a failed run left prepared would hold locks: roll it back.
    try (Connection c = connect(PG_URL);
        Statement s = c.createStatement()) {
      for (String xid : pgPrepared()) {
        s.execute("ROLLBACK PREPARED '" + xid + "'");
      }
    }
  }

  @Test
  void participantKilledAfterPrepare_beforeCommit_commitsWhenItComesBack() throws Exception {
    startCoordinator();
    startParticipant("hold-commits");
    submitAndAwaitCommitCalls();

    kill(participant);
    startParticipant("none");

    assertCommittedEverywhere();
  }

  @Test
  void coordinatorKilledAfterTheDecision_beforeAnyCommit_commitsWhenItComesBack() throws Exception {
    startCoordinator();
    startParticipant("hold-commits");
    submitAndAwaitCommitCalls();

    kill(coordinator);
    startCoordinator();

    assertCommittedEverywhere();
  }

  @Test
  void bothKilled_afterTheDecision_beforeAnyCommit_commitWhenTheyComeBack() throws Exception {
    startCoordinator();
    startParticipant("hold-commits");
    submitAndAwaitCommitCalls();

    kill(coordinator);
    kill(participant);
    startParticipant("none");
    startCoordinator();

    assertCommittedEverywhere();
  }

  @Test
  void coordinatorKilledAfterAPrepare_beforeTheDecision_rollsBackWhenItComesBack()
      throws Exception {
    startCoordinator();
    startParticipant("hold-maria-prepare");
    submitAndAwaitOnePrepared();

    kill(coordinator);
    startCoordinator();

    assertRolledBackEverywhere();
  }

  @Test
  void bothKilled_afterAPrepare_beforeTheDecision_rollBackWhenTheyComeBack() throws Exception {
    startCoordinator();
    startParticipant("hold-maria-prepare");
    submitAndAwaitOnePrepared();

    kill(coordinator);
    kill(participant);
    startParticipant("none");
    startCoordinator();

    assertRolledBackEverywhere();
  }

  /** PostgreSQL's branch prepared, MariaDB's prepare held: no decision can be logged yet. */
  private void submitAndAwaitOnePrepared() throws Exception {
    submit();
    assertThat(nextLine()).isEqualTo("PREPARE-ARRIVED maria");
    await("PostgreSQL's branch prepared")
        .atMost(WAIT)
        .until(() -> pgPrepared().equals(List.of("pledge/" + gid + "/pg")));
    assertThat(mariaPrepared()).isEmpty();
    assertThat(rows()).isZero();
  }

  private void assertRolledBackEverywhere() throws Exception {
    TransactionView done;
    try (PledgeClient pledge = client()) {
      done = pledge.await(gid, WAIT);
    }
    assertThat(done.status()).isEqualTo("aborted");
    assertThat(rows()).isZero();
    assertThat(pgPrepared()).isEmpty();
    assertThat(mariaPrepared()).isEmpty();
  }

  private void submit() {
    String base = "http://127.0.0.1:" + participantPort;
    try (PledgeClient pledge = client()) {
      pledge
          .xa(gid)
          .timeout(Duration.ofSeconds(60))
          .branch("pg", base + "/pg/prepare", base + "/pg/commit", base + "/pg/rollback", null)
          .branch(
              "maria",
              base + "/maria/prepare",
              base + "/maria/commit",
              base + "/maria/rollback",
              null)
          .submit();
    }
  }

  private void submitAndAwaitCommitCalls() throws Exception {
    submit();
    List<String> arrived = new ArrayList<>();
    for (int i = 0; i < 2; i++) {
      arrived.add(nextLine());
    }
    assertThat(arrived).containsExactlyInAnyOrder("COMMIT-ARRIVED pg", "COMMIT-ARRIVED maria");
    // The decision is logged and no branch has committed: both are prepared transactions.
    assertThat(pgPrepared()).containsExactly("pledge/" + gid + "/pg");
    assertThat(mariaPrepared()).containsExactly(gid + "maria");
    assertThat(rows()).isZero();
  }

  private void assertCommittedEverywhere() throws Exception {
    TransactionView done;
    try (PledgeClient pledge = client()) {
      done = pledge.await(gid, WAIT);
    }
    assertThat(done.status()).isEqualTo("committed");
    assertThat(rows()).isEqualTo(2);
    assertThat(pgPrepared()).isEmpty();
    assertThat(mariaPrepared()).isEmpty();
  }

  private PledgeClient client() {
    return PledgeClient.create(
        new PledgeClientConfig(
            URI.create("http://127.0.0.1:" + coordinatorPort),
            Duration.ofSeconds(2),
            Duration.ofSeconds(45),
            60,
            Duration.ofMillis(100),
            Duration.ofSeconds(1)));
  }

  private long rows() throws SQLException {
    long total = 0;
    for (String url : List.of(PG_URL, MARIA_URL)) {
      try (Connection c = connect(url);
          PreparedStatement s =
              c.prepareStatement("SELECT COUNT(*) FROM xa_crash_rows WHERE id LIKE ?")) {
        s.setString(1, gid + "/%");
        try (ResultSet r = s.executeQuery()) {
          r.next();
          total += r.getLong(1);
        }
      }
    }
    return total;
  }

  private List<String> pgPrepared() throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = connect(PG_URL);
        PreparedStatement s =
            c.prepareStatement("SELECT gid FROM pg_prepared_xacts WHERE gid LIKE ?")) {
      s.setString(1, "pledge/" + gid + "/%");
      try (ResultSet r = s.executeQuery()) {
        while (r.next()) {
          out.add(r.getString(1));
        }
      }
    }
    return out;
  }

  /** {@code XA RECOVER}'s data (gtrid then bqual) of the test's gid. */
  private List<String> mariaPrepared() throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = connect(MARIA_URL);
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("XA RECOVER")) {
      while (r.next()) {
        String data = new String(r.getBytes("data"), StandardCharsets.US_ASCII);
        if (data.startsWith(gid)) {
          out.add(data);
        }
      }
    }
    return out;
  }

  private static Connection connect(String url) throws SQLException {
    return url.startsWith("jdbc:postgresql:")
        ? DriverManager.getConnection(url, "postgres", "")
        : DriverManager.getConnection(url);
  }

  private void startCoordinator() {
    coordinator =
        ServerProcess.start(coordinatorPort, dataDir, null, dataDir.resolve("server.log"));
    processes.add(coordinator.child());
  }

  private void startParticipant(String fault) {
    Path log = dataDir.resolve("participant.log");
    participant =
        ChildProcess.startJava(
            "participant",
            XaParticipantChild.class.getName(),
            List.of(
                Integer.toString(participantPort),
                "http://127.0.0.1:" + coordinatorPort,
                PG_URL,
                MARIA_URL,
                fault),
            log);
    processes.add(participant);
    participantLinesRead = 0;
    assertThat(nextLine()).as("participant start; log in " + log).isEqualTo("READY");
  }

  /** The participant's next line of output, waited for up to {@link #WAIT}. */
  private String nextLine() {
    return participant.awaitLineAfter(participantLinesRead++, WAIT);
  }

  /** SIGKILL: nothing runs in the process after this. */
  private static void kill(ServerProcess server) {
    kill(server.child());
  }

  /** SIGKILL: nothing runs in the process after this. */
  private static void kill(ChildProcess process) {
    process.kill9();
    assertThat(process.exitValue()).isEqualTo(137);
  }

  private static String env(String name, String fallback) {
    String value = System.getenv(name);
    return value == null || value.isEmpty() ? fallback : value;
  }
}
