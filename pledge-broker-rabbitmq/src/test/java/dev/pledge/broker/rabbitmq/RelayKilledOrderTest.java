package dev.pledge.broker.rabbitmq;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.GetResponse;
import dev.pledge.client.outbox.Outbox;
import dev.pledge.testkit.process.ChildProcess;
import java.nio.file.Path;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * The outbox relay ({@link RelayChild}: the SDK's relay and the RabbitMQ sink) killed with {@code
 * -9} while it publishes, and a new relay process started on the same outbox: every row reaches the
 * queue (some twice: acknowledged by the broker but not yet marked when the kill came), and for
 * each key the first copies arrive in commit order.
 */
class RelayKilledOrderTest {
  private static final String POSTGRES = "jdbc:postgresql://127.0.0.1:5432/";
  private static final int MESSAGES = 300;
  private static final int KEYS = 5;

  @TempDir Path logs;

  @Test
  void relayKilledMidStream_losesNothing_andKeepsEveryKeysOrder() throws Exception {
    String name = "relay-killed-" + Long.toString(ThreadLocalRandom.current().nextLong() >>> 1, 36);
    String database = "pledge_brokers_" + name.replace('-', '_');
    String target =
        RabbitMqBroker.target(RabbitMqBroker.HOST, RabbitMqBroker.PORT, name).toString();
    execute(POSTGRES + "postgres", "CREATE DATABASE " + database);
    PGSimpleDataSource db = new PGSimpleDataSource();
    db.setUrl(POSTGRES + database);
    db.setUser("postgres");
    Outbox outbox = Outbox.create(db);
    try (Connection admin = RabbitMqBroker.connect("relay-killed");
        Channel channel = admin.createChannel()) {
      channel.exchangeDeclare(name, BuiltinExchangeType.TOPIC, true);
      channel.queueDeclare(name, true, false, false, null);
      channel.queueBind(name, name, "#");
      try {
        Map<String, List<String>> expected = new LinkedHashMap<>();
        // Half the rows committed, the relay killed once some are on the queue; the other half
        // committed while no relay runs.
        commit(outbox, db, 0, MESSAGES / 2, expected);
        try (ChildProcess first = relay(target, database, "first")) {
          first.awaitLineStartingWith("RELAYING", Duration.ofSeconds(60));
          await()
              .atMost(Duration.ofSeconds(60))
              .pollInterval(Duration.ofMillis(5))
              .until(() -> channel.messageCount(name) >= MESSAGES / 10);
          first.kill9();
        }
        long beforeKill = channel.messageCount(name);
        commit(outbox, db, MESSAGES / 2, MESSAGES, expected);
        try (ChildProcess second = relay(target, database, "second")) {
          second.awaitLineStartingWith("RELAYING", Duration.ofSeconds(60));
          await()
              .atMost(Duration.ofSeconds(90))
              .until(() ->
                  count(db, "SELECT COUNT(*) FROM pledge_outbox WHERE published_micros IS NULL")
                      == 0);
        }

        List<String[]> arrived = new ArrayList<>();
        GetResponse got;
        while ((got = channel.basicGet(name, true)) != null) {
          arrived.add(
              new String[] {
                got.getProps().getMessageId(),
                String.valueOf(got.getProps().getHeaders().get("pledge-key"))
              });
        }
        for (Map.Entry<String, List<String>> key : expected.entrySet()) {
          List<String> firsts = new ArrayList<>();
          for (String[] message : arrived) {
            if (message[1].equals(key.getKey()) && !firsts.contains(message[0])) {
              firsts.add(message[0]);
            }
          }
          assertThat(firsts)
              .as("first arrivals of key %s in commit order", key.getKey())
              .containsExactlyElementsOf(key.getValue());
        }
        System.out.printf(
            "relay killed with %d of %d on the queue; %d arrived in all (%d duplicates)%n",
            beforeKill, MESSAGES / 2, arrived.size(), arrived.size() - MESSAGES);
      } finally {
        channel.queueDelete(name);
        channel.exchangeDelete(name);
        execute(POSTGRES + "postgres", "DROP DATABASE IF EXISTS " + database + " WITH (FORCE)");
      }
    }
  }

  /** Commits rows {@code from} to {@code to}, one local transaction each, and notes their order. */
  private static void commit(
      Outbox outbox, PGSimpleDataSource db, int from, int to, Map<String, List<String>> expected)
      throws SQLException {
    for (int i = from; i < to; i++) {
      String key = "k" + (i % KEYS);
      try (java.sql.Connection c = db.getConnection()) {
        c.setAutoCommit(false);
        String id = outbox.publish(c, "orders", key, "{\"i\":" + i + "}", Map.of());
        c.commit();
        expected.computeIfAbsent(key, k -> new ArrayList<>()).add(id);
      }
    }
  }

  private ChildProcess relay(String target, String database, String which) {
    return ChildProcess.startJava(
        "relay-" + which,
        ChildProcess.testClasspath(),
        List.of(),
        RelayChild.class.getName(),
        List.of(POSTGRES + database, target),
        logs.resolve(which + ".log"));
  }

  private static long count(PGSimpleDataSource db, String sql) throws SQLException {
    try (java.sql.Connection c = db.getConnection();
        Statement s = c.createStatement();
        ResultSet rows = s.executeQuery(sql)) {
      rows.next();
      return rows.getLong(1);
    }
  }

  private static void execute(String url, String sql) throws SQLException {
    try (java.sql.Connection c = DriverManager.getConnection(url, "postgres", "");
        Statement s = c.createStatement()) {
      s.execute(sql);
    }
  }
}
