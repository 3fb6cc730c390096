package dev.pledge.server.threepc;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.TransactionView;
import dev.pledge.client.barrier.BusinessRefusal;
import dev.pledge.client.barrier.LocalTransactions;
import dev.pledge.client.participant.ParticipantRequest;
import dev.pledge.client.participant.ThreePcParticipant;
import dev.pledge.client.participant.ThreePcParticipant.Phase;
import dev.pledge.client.sql.Dialect;
import dev.pledge.core.Op;
import dev.pledge.server.ServerProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * 3pc from the SDK's {@code PledgeClient.threePhase(gid)} against the real coordinator ({@code
 * pledge server} in a process of its own, on its SQLite log, killed with {@code -9} where a test
 * says so) and two branches served by the SDK's {@link ThreePcParticipant} on SQLite in this JVM,
 * with its timers running on the real clock. The participant can hold every call of one op of one
 * branch without answering it, so that the coordinator can be killed at a known point; a held call
 * never reaches the participant. Every wait is bounded; nothing asserts how long anything took.
 */
class ThreePcAgainstServerTest {
  private static final Duration WAIT = Duration.ofSeconds(90);
  private static final Duration LONG = Duration.ofMinutes(10);
  private static final List<String> BRANCHES = List.of("b1", "b2");

  @TempDir Path dir;
  private final List<ServerProcess> processes = new ArrayList<>();
  private final CountDownLatch release = new CountDownLatch(1);
  private final Set<String> arrived = ConcurrentHashMap.newKeySet();
  private volatile String held; // "op branch" held, or null
  private SQLiteDataSource db;
  private ThreePcParticipant participant;
  private HttpServer services;
  private int coordinatorPort;
  private int starts;
  private String gid;

  @BeforeEach
  void setUp(TestInfo test) throws Exception {
    gid = test.getTestMethod().orElseThrow().getName();
    coordinatorPort = ServerProcess.freePort();
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setBusyTimeout(10_000);
    db = new SQLiteDataSource(config);
    db.setUrl("jdbc:sqlite:" + dir.resolve("participant.db"));
    try (Connection c = db.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE effects (gid TEXT NOT NULL, branch TEXT NOT NULL, what TEXT NOT NULL)");
      ThreePcParticipant.migrate(c, Dialect.SQLITE);
    }
  }

  @AfterEach
  void stop() throws InterruptedException {
    release.countDown();
    if (participant != null) {
      participant.close();
    }
    if (services != null) {
      services.stop(0);
    }
    for (ServerProcess process : processes) {
      process.close();
    }
  }

  @Test
  void commitPath_everyBranchCommitsOnTheCoordinatorsWord() throws Exception {
    startParticipant(LONG, LONG);
    startCoordinator();
    TransactionView done;
    try (PledgeClient pledge = client()) {
      done = builder(pledge, false).run(WAIT);
    }
    assertThat(done.status()).isEqualTo("committed");
    assertThat(done.mode()).isEqualTo("3pc");
    assertThat(done.flag()).isNull();
    for (String branch : BRANCHES) {
      assertThat(participant.state(gid, branch))
          .isEqualTo(new ThreePcParticipant.State(Phase.COMMITTED, null, false));
    }
    assertThat(effects("committed")).isEqualTo(2);
    assertThat(effects("released")).isZero();
  }

  @Test
  void abortPath_aNoVote_abortsEveryBranch() throws Exception {
    startParticipant(LONG, LONG);
    startCoordinator();
    TransactionView done;
    try (PledgeClient pledge = client()) {
      done = builder(pledge, true).run(WAIT);
    }
    assertThat(done.status()).isEqualTo("aborted");
    assertThat(done.flag()).isNull();
    for (String branch : BRANCHES) {
      ThreePcParticipant.State state = participant.state(gid, branch);
      assertThat(state.phase()).as(branch).isEqualTo(Phase.ABORTED);
      assertThat(state.selfDecided()).as(branch).isFalse();
    }
    assertThat(effects("held")).as("b1 voted yes, b2 refused").isEqualTo(1);
    assertThat(effects("released")).as("b1's hold released").isEqualTo(1);
    assertThat(effects("committed")).isZero();
  }

  /**
   * The coordinator is killed after both branches are pre-committed and before any do-commit is
   * answered: each branch commits by itself after its commit timeout, with no coordinator; the
   * coordinator, restarted, finds {@code committing}, sends do-commit again, hears agreement and
   * ends {@code committed} without a flag.
   */
  @Test
  void coordinatorKilledAfterPreCommit_theBranchesCommitByThemselves_andItConverges()
      throws Exception {
    startParticipant(LONG, Duration.ofSeconds(2));
    startCoordinator();
    held = Op.DO_COMMIT.label() + " *";
    submit(false);
    await("both do-commits arrive").atMost(WAIT).until(() -> arrivedAll(Op.DO_COMMIT));
    for (String branch : BRANCHES) {
      assertThat(participant.state(gid, branch).phase()).isEqualTo(Phase.PRE_COMMITTED);
    }

    kill(processes.getLast());
    await("both commit by themselves").atMost(WAIT).until(() -> allIn(Phase.COMMITTED));
    for (String branch : BRANCHES) {
      assertThat(participant.state(gid, branch).selfDecided()).as(branch).isTrue();
    }
    assertThat(effects("committed")).isEqualTo(2);

    held = null;
    startCoordinator();
    TransactionView done = awaitFinal();
    assertThat(done.status()).isEqualTo("committed");
    assertThat(done.flag()).as("the branches' outcome agrees with the decision").isNull();
    assertThat(effects("committed")).as("once each").isEqualTo(2);
    assertThat(effects("released")).isZero();
  }

  /**
   * The coordinator is killed while b2's can-commit is unanswered and b1 has voted yes: b1, which
   * never hears pre-commit, aborts by itself after its abort timeout while the coordinator is down;
   * the coordinator, restarted, finds the transaction {@code begun} (no pre-commit decision was
   * logged), aborts it, and ends {@code aborted} without a flag: nothing is left {@code
   * committing}.
   */
  @Test
  void coordinatorKilledBeforeThePreCommitDecision_aVotedBranchAbortsByItself_andItConverges()
      throws Exception {
    startParticipant(Duration.ofSeconds(2), LONG);
    startCoordinator();
    held = Op.CAN_COMMIT.label() + " b2";
    submit(false);
    await("b2's can-commit arrives and b1 votes yes")
        .atMost(WAIT)
        .until(() -> arrived.contains(Op.CAN_COMMIT.label() + " b2") && voted("b1"));

    kill(processes.getLast());
    await("b1 aborts by itself")
        .atMost(WAIT)
        .until(() -> participant.state(gid, "b1").phase() == Phase.ABORTED);
    assertThat(participant.state(gid, "b1").selfDecided()).isTrue();
    assertThat(participant.state(gid, "b2")).as("b2 never voted").isNull();
    assertThat(effects("released")).isEqualTo(1);

    held = null;
    startCoordinator();
    TransactionView done = awaitFinal();
    assertThat(done.status()).isEqualTo("aborted");
    assertThat(done.flag()).as("b1's abort agrees with the decision").isNull();
    for (String branch : BRANCHES) {
      assertThat(participant.state(gid, branch).phase()).as(branch).isEqualTo(Phase.ABORTED);
    }
    assertThat(effects("held")).isEqualTo(1);
    assertThat(effects("released")).as("b1's hold released once").isEqualTo(1);
    assertThat(effects("committed")).isZero();
  }

  // ---- the participant ----

  private void startParticipant(Duration abortTimeout, Duration commitTimeout) throws IOException {
    ReentrantLock one = new ReentrantLock(); // SQLite: one writer at a time
    LocalTransactions transactions =
        work -> {
          one.lock();
          try (Connection c = db.getConnection()) {
            c.setAutoCommit(false);
            try {
              work.run(c);
              c.commit();
            } catch (SQLException | RuntimeException e) {
              c.rollback();
              throw e;
            }
          } finally {
            one.unlock();
          }
        };
    participant =
        ThreePcParticipant.create(
            transactions,
            Dialect.SQLITE,
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
            new ThreePcParticipant.Timeouts(abortTimeout, commitTimeout),
            Clock.systemUTC());
    participant.startTimers(Duration.ofMillis(100));
    services = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 64);
    services.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    for (Op op : List.of(Op.CAN_COMMIT, Op.PRE_COMMIT, Op.DO_COMMIT, Op.ABORT)) {
      services.createContext("/" + op.label(), holding(op, participant.handler(op)));
    }
    services.start();
  }

  /** Passes a call on, unless it is of the op and branch held: then it is never answered. */
  private HttpHandler holding(Op op, HttpHandler inner) {
    return exchange -> {
      String branch = exchange.getRequestHeaders().getFirst("Pledge-Branch");
      String key = op.label() + " " + branch;
      String hold = held;
      if (hold != null && (hold.equals(key) || hold.equals(op.label() + " *"))) {
        arrived.add(key);
        holdOn(exchange);
        return;
      }
      inner.handle(exchange);
    };
  }

  private void holdOn(HttpExchange exchange) throws IOException {
    try {
      release.await(5, TimeUnit.MINUTES);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    exchange.sendResponseHeaders(503, -1);
    exchange.close();
  }

  private boolean arrivedAll(Op op) {
    return BRANCHES.stream().allMatch(b -> arrived.contains(op.label() + " " + b));
  }

  private boolean voted(String branch) throws SQLException {
    ThreePcParticipant.State state = participant.state(gid, branch);
    return state != null && state.phase() == Phase.VOTED;
  }

  private boolean allIn(Phase phase) throws SQLException {
    for (String branch : BRANCHES) {
      ThreePcParticipant.State state = participant.state(gid, branch);
      if (state == null || state.phase() != phase) {
        return false;
      }
    }
    return true;
  }

  private static void effect(Connection c, String gid, String branch, String what)
      throws SQLException {
    try (PreparedStatement s = c.prepareStatement("INSERT INTO effects VALUES (?, ?, ?)")) {
      s.setString(1, gid);
      s.setString(2, branch);
      s.setString(3, what);
      s.executeUpdate();
    }
  }

  private long effects(String what) throws SQLException {
    try (Connection c = db.getConnection();
        PreparedStatement s =
            c.prepareStatement("SELECT COUNT(*) FROM effects WHERE gid = ? AND what = ?")) {
      s.setString(1, gid);
      s.setString(2, what);
      try (ResultSet r = s.executeQuery()) {
        r.next();
        return r.getLong(1);
      }
    }
  }

  // ---- the coordinator ----

  private dev.pledge.client.ThreePhaseBuilder builder(PledgeClient pledge, boolean b2Refuses) {
    String base = "http://127.0.0.1:" + services.getAddress().getPort();
    return pledge
        .threePhase(gid)
        .timeout(Duration.ofSeconds(60))
        .branch(
            "b1",
            base + "/can-commit",
            base + "/pre-commit",
            base + "/do-commit",
            base + "/abort",
            null)
        .branch(
            "b2",
            base + "/can-commit",
            base + "/pre-commit",
            base + "/do-commit",
            base + "/abort",
            b2Refuses ? Map.of("refuse", true) : null);
  }

  private void submit(boolean b2Refuses) {
    try (PledgeClient pledge = client()) {
      builder(pledge, b2Refuses).submit();
    }
  }

  private TransactionView awaitFinal() {
    try (PledgeClient pledge = client()) {
      return pledge.await(gid, WAIT);
    }
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

  private void startCoordinator() {
    processes.add(
        ServerProcess.start(
            coordinatorPort,
            dir.resolve("coordinator"),
            null,
            dir.resolve("server-" + ++starts + ".log")));
  }

  /** SIGKILL: nothing runs in the process after this. */
  private static void kill(ServerProcess server) {
    server.kill();
    assertThat(server.child().exitValue()).isEqualTo(137);
  }
}
