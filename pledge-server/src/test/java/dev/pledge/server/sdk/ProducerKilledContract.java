package dev.pledge.server.sdk;

import static org.assertj.core.api.Assertions.assertThat;

import com.sun.net.httpserver.HttpServer;
import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.TransactionView;
import dev.pledge.client.barrier.Barrier;
import dev.pledge.client.participant.Participant;
import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Engine;
import dev.pledge.server.api.Api;
import dev.pledge.server.http.HttpApiServer;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.HttpEffects;
import dev.pledge.server.runtime.ServerRuntime;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.server.runtime.TestRuntimes;
import dev.pledge.testkit.InMemoryAuditLog;
import dev.pledge.testkit.InMemorySubscriptionStore;
import dev.pledge.testkit.InMemoryTransactionLog;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import javax.sql.DataSource;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

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

  private ServerRuntime coordinator;
  private HttpApiServer server;
  private HttpServer producer;
  private PledgeClient pledge;
  private DataSource db;
  private String url;
  private String gid;
  private Process child;

  @BeforeEach
  void start(TestInfo test) throws IOException, SQLException {
    gid = test.getTestMethod().orElseThrow().getName();
    RetryPolicy policy =
        new RetryPolicy(
            Duration.ofMillis(100), Duration.ofSeconds(1), 2.0, 0.2, Duration.ofSeconds(5), 10);
    InMemoryTransactionLog log = new InMemoryTransactionLog();
    Subscriptions subscriptions = new Subscriptions(new InMemorySubscriptionStore());
    coordinator =
        TestRuntimes.start(
            new Engine(Limits.DEFAULT, policy),
            log,
            new HttpEffects(policy.callTimeout(), AllowList.loopbackOnly()),
            subscriptions,
            Duration.ofMillis(100));
    server =
        HttpApiServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            new Api(
                coordinator,
                log,
                Limits.DEFAULT,
                subscriptions,
                AllowList.loopbackOnly(),
                new InMemoryAuditLog(),
                PledgeClient::newGid));
    pledge = PledgeClient.create(PledgeClientConfig.of("http://127.0.0.1:" + server.port()));
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
    if (child != null && child.isAlive()) {
      child.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
    }
    pledge.close();
    server.close();
    coordinator.close();
    producer.stop(0);
  }

  /** Runs the child until it prints {@code expected}, then kills it with SIGKILL. */
  private void runChildAndKill(String when, String expected) throws Exception {
    String java = ProcessHandle.current().info().command().orElse("java");
    child =
        new ProcessBuilder(
                List.of(
                    java,
                    "-cp",
                    System.getProperty("java.class.path"),
                    ProducerChild.class.getName(),
                    "http://127.0.0.1:" + server.port(),
                    "http://127.0.0.1:" + producer.getAddress().getPort() + "/check",
                    url,
                    gid,
                    when))
            .redirectError(ProcessBuilder.Redirect.DISCARD)
            .start();
    BufferedReader out =
        new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
    String line =
        CompletableFuture.supplyAsync(
                () -> {
                  try {
                    return out.readLine();
                  } catch (IOException e) {
                    return "read failed: " + e;
                  }
                })
            .get(WAIT.toSeconds(), TimeUnit.SECONDS);
    assertThat(line).isEqualTo(expected + " " + gid);
    child.destroyForcibly(); // SIGKILL: nothing runs in the child after this
    assertThat(child.waitFor(10, TimeUnit.SECONDS)).isTrue();
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
