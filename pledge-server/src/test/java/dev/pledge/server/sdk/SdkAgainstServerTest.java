package dev.pledge.server.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.pledge.client.BranchRefusedException;
import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.PledgeRejectedException;
import dev.pledge.client.PledgeUnavailableException;
import dev.pledge.client.Submitted;
import dev.pledge.client.TccTransaction;
import dev.pledge.client.TransactionView;
import dev.pledge.client.barrier.Barrier;
import dev.pledge.client.barrier.BusinessRefusal;
import dev.pledge.client.inbox.Inbox;
import dev.pledge.client.participant.Participant;
import dev.pledge.client.participant.ParticipantRequest;
import dev.pledge.core.Op;
import dev.pledge.core.RetryPolicy;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * The Java SDK (pledge-client) against the real coordinator (runtime, API, JDK HTTP server, with
 * the in-memory log) and real participants on loopback: every mode from code, the participant
 * endpoints behind the barrier on SQLite, the msg check-back answered from the barrier, the
 * deliveries through the inbox. Every wait is bounded.
 */
class SdkAgainstServerTest {
  private static final Duration WAIT = Duration.ofSeconds(20);

  private InProcessCoordinator coordinator;
  private HttpServer services;
  private String base;
  private PledgeClient pledge;
  private SQLiteDataSource db;
  private Barrier barrier;
  private Inbox inbox;
  private String gid;

  @BeforeEach
  void start(TestInfo test) throws IOException, SQLException {
    gid = test.getTestMethod().orElseThrow().getName();
    RetryPolicy policy =
        new RetryPolicy(
            Duration.ofMillis(50), Duration.ofMillis(500), 2.0, 0.2, Duration.ofSeconds(2), 10);
    coordinator = InProcessCoordinator.start(policy);
    pledge = PledgeClient.create(PledgeClientConfig.of(coordinator.url()));

    Path dir = Files.createTempDirectory("sdk-it-");
    SQLiteConfig config = new SQLiteConfig();
    config.setJournalMode(SQLiteConfig.JournalMode.WAL);
    config.setBusyTimeout(10_000);
    db = new SQLiteDataSource(config);
    db.setUrl("jdbc:sqlite:" + dir.resolve("participant.db"));
    try (Connection c = db.getConnection();
        Statement s = c.createStatement()) {
      s.execute("CREATE TABLE stock (sku TEXT PRIMARY KEY, qty INTEGER NOT NULL)");
      s.execute("INSERT INTO stock VALUES ('A', 10)");
      s.execute("CREATE TABLE orders (id TEXT PRIMARY KEY)");
      s.execute("CREATE TABLE shipments (order_id TEXT NOT NULL)");
    }
    barrier = Barrier.create(db);
    inbox = Inbox.create(db);
    Participant participant = Participant.create(barrier);
    services = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    services.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    for (Op op : List.of(Op.ACTION, Op.TRY, Op.PREPARE)) {
      services.createContext("/" + op.label(), participant.op(op, SdkAgainstServerTest::take));
    }
    for (Op op : List.of(Op.COMPENSATE, Op.CANCEL, Op.ROLLBACK)) {
      services.createContext("/" + op.label(), participant.op(op, SdkAgainstServerTest::giveBack));
    }
    for (Op op : List.of(Op.CONFIRM, Op.COMMIT)) {
      services.createContext("/" + op.label(), participant.op(op, (c, r) -> {}));
    }
    services.createContext("/check", participant.checkBack());
    services.createContext(
        "/inbox",
        Participant.deliveries(
            inbox.handler((c, m) -> {
              try (PreparedStatement s = c.prepareStatement("INSERT INTO shipments VALUES (?)")) {
                s.setString(1, m.key());
                s.executeUpdate();
              }
            })));
    services.start();
    base = "http://127.0.0.1:" + services.getAddress().getPort();
  }

  @AfterEach
  void stop() {
    pledge.close();
    coordinator.close();
    services.stop(0);
  }

  /** Takes {@code qty} of A; more than is left is a business refusal. */
  private static void take(Connection c, ParticipantRequest request) throws SQLException {
    int qty = request.payload().path("qty").asInt();
    try (PreparedStatement s =
        c.prepareStatement("UPDATE stock SET qty = qty - ? WHERE sku = 'A' AND qty >= ?")) {
      s.setInt(1, qty);
      s.setInt(2, qty);
      if (s.executeUpdate() == 0) {
        throw new BusinessRefusal("out of stock");
      }
    }
  }

  private static void giveBack(Connection c, ParticipantRequest request) throws SQLException {
    try (PreparedStatement s =
        c.prepareStatement("UPDATE stock SET qty = qty + ? WHERE sku = 'A'")) {
      s.setInt(1, request.payload().path("qty").asInt());
      s.executeUpdate();
    }
  }

  private long query(String sql) throws SQLException {
    try (Connection c = db.getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    }
  }

  private List<String> opStatuses(TransactionView view) {
    List<String> out = new ArrayList<>();
    for (TransactionView.Branch b : view.branches()) {
      for (TransactionView.OpView op : b.ops()) {
        out.add(b.branchId() + "/" + op.op() + "=" + op.status());
      }
    }
    return out;
  }

  @Test
  void saga_whoseStepsSucceed_commits() throws SQLException {
    TransactionView done =
        pledge
            .saga(gid)
            .step("1", base + "/action", base + "/compensate", Map.of("qty", 2))
            .step("2", base + "/action", base + "/compensate", "{\"qty\":3}")
            .run(WAIT);
    assertThat(done.committed()).isTrue();
    assertThat(opStatuses(done))
        .containsExactly(
            "1/action=succeeded", "1/compensate=idle", "2/action=succeeded", "2/compensate=idle");
    assertThat(query("SELECT qty FROM stock")).isEqualTo(5);
  }

  @Test
  void saga_whoseSecondStepIsRefused_abortsAndCompensatesEverything() throws SQLException {
    TransactionView done =
        pledge
            .saga(gid)
            .step("1", base + "/action", base + "/compensate", Map.of("qty", 4))
            .step("2", base + "/action", base + "/compensate", Map.of("qty", 100))
            .run(WAIT);
    assertThat(done.aborted()).isTrue();
    assertThat(query("SELECT qty FROM stock")).isEqualTo(10);
    // The refused step's compensation was a null compensation at the barrier.
    assertThat(
            query(
                "SELECT COUNT(*) FROM pledge_barrier WHERE gid = '"
                    + gid
                    + "' AND branch = '2' AND op = 'action' AND reason = 'compensate'"))
        .isEqualTo(1);
  }

  @Test
  void saga_asADag_runsTheJoinAfterBothBranches() {
    TransactionView done =
        pledge
            .saga(gid)
            .step("a", base + "/action", base + "/compensate", Map.of("qty", 1))
            .step("b", base + "/action", base + "/compensate", Map.of("qty", 1))
            .step("c", base + "/action", base + "/compensate", Map.of("qty", 1))
            .after("a", "b")
            .run(WAIT);
    assertThat(done.committed()).isTrue();
  }

  @Test
  void sagaSubmittedTwice_isOneTransaction() {
    var saga = pledge.saga(gid).step("1", base + "/action", base + "/compensate", Map.of("qty", 1));
    Submitted first = saga.submit();
    Submitted again = saga.submit();
    assertThat(again.gid()).isEqualTo(first.gid());
    assertThat(pledge.await(gid, WAIT).committed()).isTrue();
  }

  @Test
  void twoPhase_commits() throws SQLException {
    TransactionView done =
        pledge
            .twoPhase(gid)
            .branch("1", base + "/prepare", base + "/commit", base + "/rollback", Map.of("qty", 1))
            .run(WAIT);
    assertThat(done.committed()).isTrue();
    assertThat(query("SELECT qty FROM stock")).isEqualTo(9);
  }

  @Test
  void tcc_whoseTriesSucceed_commitsAndConfirms() throws SQLException {
    try (TccTransaction tcc = pledge.tcc(gid).timeout(Duration.ofSeconds(30)).begin()) {
      tcc.branch("1", base + "/try", base + "/confirm", base + "/cancel", Map.of("qty", 2));
      tcc.branch("2", base + "/try", base + "/confirm", base + "/cancel", Map.of("qty", 2));
      tcc.commit();
    }
    TransactionView done = pledge.await(gid, WAIT);
    assertThat(done.committed()).isTrue();
    assertThat(opStatuses(done))
        .containsExactly(
            // The initiator calls each try itself, so the coordinator shows it idle.
            "1/try=idle",
            "1/confirm=succeeded",
            "1/cancel=idle",
            "2/try=idle",
            "2/confirm=succeeded",
            "2/cancel=idle");
    assertThat(query("SELECT qty FROM stock")).isEqualTo(6);
  }

  @Test
  void tcc_whoseTryIsRefused_throwsAKnownOutcome_andClosingAbortsAndCancels() throws SQLException {
    assertThatThrownBy(
            () -> {
              try (TccTransaction tcc = pledge.tcc(gid).begin()) {
                tcc.branch(
                    "1", base + "/try", base + "/confirm", base + "/cancel", Map.of("qty", 3));
                tcc.branch(
                    "2", base + "/try", base + "/confirm", base + "/cancel", Map.of("qty", 50));
                tcc.commit();
              }
            })
        .isInstanceOfSatisfying(
            BranchRefusedException.class,
            e -> {
              assertThat(e.outcomeKnown()).isTrue();
              assertThat(e.branchId()).isEqualTo("2");
            });
    assertThat(pledge.await(gid, WAIT).aborted()).isTrue();
    assertThat(query("SELECT qty FROM stock")).isEqualTo(10);
  }

  @Test
  void tcc_whenTheCallersCodeThrows_isAborted() {
    assertThatThrownBy(
            () -> {
              try (TccTransaction tcc = pledge.tcc(gid).begin()) {
                tcc.branch(
                    "1", base + "/try", base + "/confirm", base + "/cancel", Map.of("qty", 1));
                throw new IllegalStateException("the caller's own failure");
              }
            })
        .hasMessage("the caller's own failure");
    assertThat(pledge.await(gid, WAIT).aborted()).isTrue();
  }

  @Test
  void msg_committedLocally_isDeliveredThroughTheInboxOnce() throws SQLException {
    pledge.subscribe("shipping-" + gid, "orders." + gid, base + "/inbox");
    Submitted submitted =
        pledge
            .msg(gid)
            .checkUrl(base + "/check")
            .message("orders." + gid, "order-7", Map.of("order", 7))
            .commitWith(db, barrier, c -> insertOrder(c, "order-7"));
    assertThat(submitted.status()).isIn("committing", "committed");
    TransactionView done = pledge.await(gid, WAIT);
    assertThat(done.committed()).isTrue();
    await()
        .atMost(WAIT)
        .until(() -> query("SELECT COUNT(*) FROM shipments WHERE order_id = 'order-7'") == 1);
    assertThat(query("SELECT COUNT(*) FROM orders")).isEqualTo(1);
  }

  @Test
  void msg_whoseLocalWorkThrows_isAborted_andNothingCommitsLocally() throws SQLException {
    assertThatThrownBy(() ->
            pledge
                .msg(gid)
                .checkUrl(base + "/check")
                .message("orders.x", "order-8", Map.of("order", 8))
                .commitWith(
                    db,
                    barrier,
                    c -> {
                      insertOrder(c, "order-8");
                      throw new SQLException("constraint violated");
                    }))
        .hasMessage("constraint violated");
    assertThat(pledge.await(gid, WAIT).aborted()).isTrue();
    assertThat(query("SELECT COUNT(*) FROM orders")).isZero();
  }

  @Test
  void msg_committedLocallyButNeverCommittedAtTheCoordinator_isCommittedByCheckBack()
      throws SQLException {
    pledge
        .msg(gid)
        .timeout(Duration.ofSeconds(1))
        .checkUrl(base + "/check")
        .message("orders.y", "order-9", Map.of("order", 9))
        .prepare();
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      barrier.prepareMessage(c, gid);
      insertOrder(c, "order-9");
      c.commit();
    }
    // As if the producer died here, before its commit call.
    assertThat(pledge.await(gid, WAIT).committed()).isTrue();
  }

  @Test
  void msg_preparedButNeverCommittedLocally_isRolledBackByCheckBack() {
    pledge
        .msg(gid)
        .timeout(Duration.ofSeconds(1))
        .checkUrl(base + "/check")
        .message("orders.z", "order-10", Map.of("order", 10))
        .prepare();
    assertThat(pledge.await(gid, WAIT).aborted()).isTrue();
  }

  @Test
  void aRefusedRequest_namesTheField_andItsOutcomeIsKnown() {
    assertThatThrownBy(() ->
            pledge.saga(gid).step("1", "http://example.com/a", base + "/compensate", null).submit())
        .isInstanceOfSatisfying(
            PledgeRejectedException.class,
            e -> {
              assertThat(e.status()).isEqualTo(400);
              assertThat(e.outcomeKnown()).isTrue();
              assertThat(e.fields())
                  .extracting(PledgeRejectedException.FieldError::field)
                  .contains("branches[0].action");
            });
  }

  @Test
  void anUnreachableCoordinator_isInDoubt_afterTheBoundedAttempts() {
    coordinator.closeServer();
    PledgeClient gone =
        PledgeClient.create(
            PledgeClientConfig.of(coordinator.url())
                .withMaxAttempts(3)
                .withBackoff(Duration.ofMillis(10), Duration.ofMillis(20)));
    assertThatThrownBy(
            () -> gone.saga(gid).step("1", base + "/action", base + "/compensate", null).submit())
        .isInstanceOfSatisfying(
            PledgeUnavailableException.class,
            e -> {
              assertThat(e.outcomeKnown()).isFalse();
              assertThat(e.attempts()).isEqualTo(3);
            });
    gone.close();
  }

  @Test
  void participantEndpoints_refuseMissingHeaders_naming_them() throws Exception {
    var http = java.net.http.HttpClient.newHttpClient();
    var response =
        http.send(
            java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/action"))
                .header("Pledge-Gid", gid)
                .header("Pledge-Op", "compensate")
                .POST(java.net.http.HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            java.net.http.HttpResponse.BodyHandlers.ofString());
    assertThat(response.statusCode()).isEqualTo(400);
    assertThat(response.body())
        .contains("Pledge-Branch: required")
        .contains("Pledge-Op: this endpoint serves action, was compensate")
        .contains("Pledge-Attempt: required");
    http.close();
  }

  private static void insertOrder(Connection c, String id) throws SQLException {
    try (PreparedStatement s = c.prepareStatement("INSERT INTO orders VALUES (?)")) {
      s.setString(1, id);
      s.executeUpdate();
    }
  }
}
