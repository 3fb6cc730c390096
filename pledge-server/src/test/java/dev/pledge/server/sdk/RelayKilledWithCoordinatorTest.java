package dev.pledge.server.sdk;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.sun.net.httpserver.HttpServer;
import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.inbox.Inbox;
import dev.pledge.client.inbox.InboxOutcome;
import dev.pledge.client.outbox.CoordinatorSink;
import dev.pledge.client.outbox.Outbox;
import dev.pledge.client.outbox.OutboxRelay;
import dev.pledge.client.outbox.RelayConfig;
import dev.pledge.client.outbox.RelayListener;
import dev.pledge.client.participant.Participant;
import dev.pledge.core.RetryPolicy;
import dev.pledge.testkit.process.ChildProcess;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The outbox relay in a real child JVM ({@link CoordinatorRelayChild}) on PostgreSQL, publishing to
 * a real coordinator ({@link CoordinatorSink}), killed with {@code -9} in the middle of a batch,
 * when the coordinator has committed (and delivered) rows that the relay has not marked: a new
 * relay publishes them again under the same gid (answered with the committed transaction), and the
 * subscriber's inbox (on PostgreSQL too) runs each message's effect exactly once, although the
 * subscriber also loses the acknowledgement of every 7th message's first delivery after committing
 * it (so the coordinator delivers those again).
 */
class RelayKilledWithCoordinatorTest {
  private static final int ROWS = 200;
  private static final Duration WAIT = Duration.ofSeconds(120);

  private final String url =
      System.getenv()
          .getOrDefault(
              "PLEDGE_TEST_SDK_POSTGRES_URL", "jdbc:postgresql://127.0.0.1:5432/pledge_sdk_test");
  private InProcessCoordinator coordinator;
  private HttpServer subscriber;
  private PledgeClient pledge;
  private PGSimpleDataSource db;
  @TempDir Path logDir;
  private ChildProcess child;
  private final Set<String> received = ConcurrentHashMap.newKeySet();
  private final AtomicInteger handled = new AtomicInteger();
  private final AtomicInteger duplicates = new AtomicInteger();
  private final AtomicInteger lostAcks = new AtomicInteger();

  @BeforeEach
  void start() throws Exception {
    db = new PGSimpleDataSource();
    db.setUrl(url);
    db.setUser("postgres");
    try (Connection c = db.getConnection();
        Statement s = c.createStatement()) {
      s.execute("DROP TABLE IF EXISTS " + Outbox.TABLE);
      s.execute("DROP TABLE IF EXISTS " + Inbox.TABLE);
      s.execute("DROP TABLE IF EXISTS relay_killed_effect");
      s.execute("CREATE TABLE relay_killed_effect (message_id VARCHAR(200) NOT NULL)");
    }
    RetryPolicy policy =
        new RetryPolicy(
            Duration.ofMillis(50), Duration.ofMillis(500), 2.0, 0.2, Duration.ofSeconds(5), 50);
    coordinator = InProcessCoordinator.start(policy);
    pledge = PledgeClient.create(PledgeClientConfig.of(coordinator.url()));
    Inbox inbox = Inbox.create(db);
    Set<String> droppedOnce = ConcurrentHashMap.newKeySet();
    subscriber = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    subscriber.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    subscriber.createContext(
        "/inbox",
        Participant.deliveries(message -> {
          received.add(message.id());
          InboxOutcome outcome;
          try {
            outcome =
                inbox.handle(
                    message,
                    c -> {
                      try (PreparedStatement insert =
                          c.prepareStatement(
                              "INSERT INTO relay_killed_effect (message_id) VALUES (?)")) {
                        insert.setString(1, message.id());
                        insert.executeUpdate();
                      }
                    });
            Thread.sleep(20); // a consumer with some work: widens the window for the kill
          } catch (SQLException e) {
            throw new IllegalStateException(e);
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
          }
          if (outcome == InboxOutcome.DUPLICATE) {
            duplicates.incrementAndGet();
            return;
          }
          handled.incrementAndGet();
          int n = Integer.parseInt(message.payload().replaceAll("\\D", ""));
          if (n % 7 == 0 && droppedOnce.add(message.id())) {
            lostAcks.incrementAndGet();
            throw new IllegalStateException("acknowledgement lost after the commit");
          }
        }));
    subscriber.createContext("/check", CoordinatorSink.checkBack());
    subscriber.start();
    pledge.subscribe(
        "relay-killed",
        "orders",
        "http://127.0.0.1:" + subscriber.getAddress().getPort() + "/inbox");
  }

  @AfterEach
  void stop() throws InterruptedException {
    if (child != null) {
      child.close();
    }
    pledge.close();
    coordinator.close();
    subscriber.stop(0);
  }

  private long queryLong(String sql) {
    try (Connection c = db.getConnection();
        Statement s = c.createStatement();
        ResultSet r = s.executeQuery(sql)) {
      r.next();
      return r.getLong(1);
    } catch (SQLException e) {
      throw new IllegalStateException(sql, e);
    }
  }

  /** Ids the subscriber has received whose outbox rows are still unmarked. */
  private Set<String> receivedButUnmarked() {
    Set<String> ids = new HashSet<>();
    try (Connection c = db.getConnection();
        Statement s = c.createStatement();
        ResultSet r =
            s.executeQuery("SELECT id FROM pledge_outbox WHERE published_micros IS NULL")) {
      while (r.next()) {
        ids.add(r.getString(1));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    ids.retainAll(received);
    return ids;
  }

  @Test
  void relayKilledMidBatch_losesNothing_andTheInboxRunsEachEffectOnce() throws Exception {
    Outbox outbox = Outbox.create(db);
    List<String> ids = new ArrayList<>();
    try (Connection c = db.getConnection()) {
      c.setAutoCommit(false);
      for (int i = 1; i <= ROWS; i++) {
        ids.add(outbox.publish(c, "orders", "k" + (i % 5), "{\"n\":" + i + "}", Map.of()));
      }
      c.commit();
    }
    String base = "http://127.0.0.1:";
    String checkUrl = base + subscriber.getAddress().getPort() + "/check";
    child =
        ChildProcess.startJava(
            "relay",
            CoordinatorRelayChild.class.getName(),
            List.of(url, base + coordinator.port(), checkUrl),
            logDir.resolve("relay.log"));
    assertThat(child.awaitLineAfter(0, WAIT)).isEqualTo("RELAYING");
    // Mid-batch: a row the coordinator has committed (its message reached the subscriber) that
    // the relay has not marked yet (it marks a batch of 50 once all its publishes are
    // acknowledged).
    await()
        .atMost(WAIT)
        .pollInterval(Duration.ofMillis(5))
        .until(() -> !receivedButUnmarked().isEmpty());
    child.kill9(); // SIGKILL
    assertThat(child.exitValue()).isEqualTo(137);
    assertThat(receivedButUnmarked())
        .as("rows committed at the coordinator, unmarked when the relay died")
        .isNotEmpty();
    assertThat(queryLong("SELECT COUNT(*) FROM pledge_outbox WHERE published_micros IS NULL"))
        .as("rows left for the next relay")
        .isPositive();

    try (CoordinatorSink sink =
            new CoordinatorSink(pledge, checkUrl, Duration.ofSeconds(60), WAIT, 64);
        OutboxRelay relay =
            OutboxRelay.create(db, sink, RelayConfig.defaults(), RelayListener.NONE)) {
      await()
          .atMost(WAIT)
          .until(() -> {
            relay.runOnce();
            return queryLong("SELECT COUNT(*) FROM pledge_outbox WHERE published_micros IS NULL")
                == 0;
          });
    }
    await().atMost(WAIT).until(() -> handled.get() == ROWS);
    assertThat(received).containsExactlyInAnyOrderElementsOf(ids);
    assertThat(queryLong("SELECT COUNT(*) FROM relay_killed_effect")).isEqualTo(ROWS);
    assertThat(queryLong("SELECT COUNT(DISTINCT message_id) FROM relay_killed_effect"))
        .isEqualTo(ROWS);
    // Every lost acknowledgement came back as a duplicate the inbox acknowledged without effect.
    await().atMost(WAIT).until(() -> duplicates.get() >= lostAcks.get());
    assertThat(lostAcks.get()).isPositive();
    for (String id : ids) {
      assertThat(pledge.get(CoordinatorSink.gidFor(id)).committed()).as(id).isTrue();
    }
  }
}
