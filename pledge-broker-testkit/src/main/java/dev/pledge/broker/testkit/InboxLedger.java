package dev.pledge.broker.testkit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.client.inbox.Inbox;
import dev.pledge.client.inbox.InboxOutcome;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageHandler;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A consumer's database for the exactly-once tests: the SDK's inbox and an effect table (one row
 * per effect, no unique key, so a duplicate effect would show) in PostgreSQL's {@code
 * pledge_broker_test} (or the database of {@code PLEDGE_BROKER_TEST_POSTGRES_URL}). Its handler can
 * lose the acknowledgement of chosen messages once, after their effect committed, as a consumer
 * killed between its commit and its ack would. One class for the RabbitMQ, Kafka and NATS modules'
 * tests.
 */
public final class InboxLedger implements AutoCloseable {
  private static final String URL =
      System.getenv()
          .getOrDefault(
              "PLEDGE_BROKER_TEST_POSTGRES_URL",
              "jdbc:postgresql://127.0.0.1:5432/pledge_broker_test");

  private final PGSimpleDataSource dataSource = new PGSimpleDataSource();
  private final String table;
  private final Inbox inbox;
  private final Set<String> loseAckOnce;
  private final Set<String> lost = ConcurrentHashMap.newKeySet();
  private final AtomicInteger deliveries = new AtomicInteger();

  /**
   * A ledger with its effect table {@code effects_<name>}, whose handler loses the acknowledgement
   * of the messages with ids in {@code loseAckOnce} once each.
   */
  public InboxLedger(String name, Set<String> loseAckOnce) {
    dataSource.setUrl(URL);
    dataSource.setUser("postgres");
    this.table = "effects_" + name.replaceAll("[^a-z0-9_]", "_");
    this.loseAckOnce = loseAckOnce;
    execute(
        "CREATE TABLE IF NOT EXISTS "
            + table
            + " (message_id VARCHAR(200) NOT NULL, payload TEXT)");
    this.inbox = Inbox.create(dataSource);
  }

  /** Deliveries handed to {@link #handler()} or {@link #handle}, duplicates included. */
  public int deliveries() {
    return deliveries.get();
  }

  /** The inbox's handler with the effect, losing chosen acknowledgements once. */
  public MessageHandler handler() {
    MessageHandler inner = inbox.handler(this::recordEffect);
    return message -> {
      deliveries.incrementAndGet();
      inner.handle(message);
      if (loseAckOnce.contains(message.id()) && lost.add(message.id())) {
        throw new IllegalStateException("acknowledgement lost after the commit (simulated)");
      }
    };
  }

  /**
   * Handles one message through the inbox, with the same effect as {@link #handler()}, and says
   * whether the effect ran or the inbox recognised a duplicate (for a consumer in a child process,
   * which opens a ledger of the same name: the table is then already there).
   */
  public InboxOutcome handle(TransactionalMessage message) throws SQLException {
    deliveries.incrementAndGet();
    return inbox.handle(message, connection -> recordEffect(connection, message));
  }

  /** The effect: one row per run, in the consumer's transaction. */
  private void recordEffect(Connection connection, TransactionalMessage message)
      throws SQLException {
    try (PreparedStatement insert =
        connection.prepareStatement(
            "INSERT INTO " + table + " (message_id, payload) VALUES (?, ?)")) {
      insert.setString(1, message.id());
      insert.setString(2, message.payload());
      insert.executeUpdate();
    }
  }

  /** Effects, by message id, with how many times each ran. */
  public Map<String, Integer> effects() {
    Map<String, Integer> counts = new TreeMap<>();
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement();
        ResultSet rows =
            s.executeQuery("SELECT message_id, COUNT(*) FROM " + table + " GROUP BY message_id")) {
      while (rows.next()) {
        counts.put(rows.getString(1), rows.getInt(2));
      }
    } catch (SQLException e) {
      throw new IllegalStateException(e);
    }
    return counts;
  }

  /** Every message's effect ran exactly once. */
  public void assertExactlyOnce(List<TransactionalMessage> messages) {
    Map<String, Integer> expected = new TreeMap<>();
    messages.forEach(m -> expected.put(m.id(), 1));
    assertThat(effects()).isEqualTo(expected);
  }

  private void execute(String sql) {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(sql);
    } catch (SQLException e) {
      throw new IllegalStateException(
          "PostgreSQL " + URL + " is needed (run scripts/services.sh): " + e, e);
    }
  }

  @Override
  public void close() {
    execute("DROP TABLE IF EXISTS " + table);
  }
}
