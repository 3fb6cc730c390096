package dev.pledge.server.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.TransactionView;
import dev.pledge.client.barrier.Barrier;
import dev.pledge.client.participant.Participant;
import dev.pledge.core.RetryPolicy;
import dev.pledge.testkit.process.ChildProcess;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.Executors;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.api.io.TempDir;

/**
 * A msg producer (a real child JVM, {@link ProducerChild}) killed with {@code -9} before and after
 * its local commit, never having sent its commit: the coordinator's check-back, answered from the
 * producer's barrier by its check-back handler (here in the test JVM, on the same database, as a
 * restarted producer would serve it), decides: rolled back before, committed after. Run on SQLite,
 * PostgreSQL and MariaDB by the subclasses; on the servers the dead process's connection still
 * holds the barrier's row until the server notices the socket closed, and the check-back waits for
 * that.
 */
abstract class ProducerKilledContract {
  /** The producer's database, as a JDBC URL the child can open too ({@link ProducerChild#open}). */
  protected abstract String jdbcUrl() throws IOException;

  private static final Duration WAIT = Duration.ofSeconds(60);

  private InProcessCoordinator coordinator;
  private HttpServer producer;
  private PledgeClient pledge;
  private DataSource db;
  private String url;
  private String gid;
  @TempDir Path logDir;
  private ChildProcess child;

  @BeforeEach
  void start(TestInfo test) throws IOException, SQLException {
    gid = test.getTestMethod().orElseThrow().getName();
    RetryPolicy policy =
        new RetryPolicy(
            Duration.ofMillis(100), Duration.ofSeconds(1), 2.0, 0.2, Duration.ofSeconds(5), 10);
    coordinator = InProcessCoordinator.start(policy);
    pledge = PledgeClient.create(PledgeClientConfig.of(coordinator.url()));
    url = jdbcUrl();
    db = ProducerChild.open(url);
    try (Connection c = db.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + Barrier.TABLE);
      s.execute("DROP TABLE IF EXISTS producer_killed_order");
      s.execute("CREATE TABLE producer_killed_order (id VARCHAR(128) PRIMARY KEY)");
    }
    producer = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    producer.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    producer.createContext("/check", Participant.create(Barrier.create(db)).checkBack());
    producer.start();
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (child != null) {
      child.close();
    }
    pledge.close();
    coordinator.close();
    producer.stop(0);
  }

  /** Runs the child until it prints {@code expected}, then kills it with SIGKILL. */
  private void runChildAndKill(String when, String expected) throws Exception {
    child =
        ChildProcess.startJava(
            "producer",
            ProducerChild.class.getName(),
            List.of(
                coordinator.url(),
                "http://127.0.0.1:" + producer.getAddress().getPort() + "/check",
                url,
                gid,
                when),
            logDir.resolve("producer.log"));
    assertThat(child.awaitLineAfter(0, WAIT)).isEqualTo(expected + " " + gid);
    child.kill9(); // SIGKILL: nothing runs in the child after this
    assertThat(child.exitValue()).isEqualTo(137);
  }

  private long orders() throws SQLException {
    try (Connection c = db.getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery("SELECT COUNT(*) FROM producer_killed_order")) {
      r.next();
      return r.getLong(1);
    }
  }

  @Test
  void killedAfterItsLocalCommit_theCheckBackCommitsTheMessage() throws Exception {
    runChildAndKill("after", "LOCAL-COMMITTED");

    TransactionView done = pledge.await(gid, WAIT);

    assertThat(done.committed()).isTrue();
    assertThat(orders()).isEqualTo(1);
  }

  @Test
  void killedInsideItsLocalTransaction_theCheckBackRollsTheMessageBack() throws Exception {
    runChildAndKill("before", "IN-LOCAL-TRANSACTION");

    TransactionView done = pledge.await(gid, WAIT);

    assertThat(done.aborted()).isTrue();
    assertThat(orders()).isZero();
    // The dead transaction's work is gone, and a late retry of it could not commit now.
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      org.assertj.core.api.Assertions.assertThatThrownBy(
              () -> Barrier.create(db).prepareMessage(c, gid))
          .isInstanceOf(dev.pledge.client.barrier.MessageRolledBackException.class);
      c.rollback();
    }
  }
}
