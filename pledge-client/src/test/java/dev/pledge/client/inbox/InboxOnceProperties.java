package dev.pledge.client.inbox;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.client.testing.TestDatabase;
import dev.pledge.core.TransactionalMessage;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;

/**
 * Handling any delivery sequence (duplicates, reordering) through the inbox has the effect of
 * handling each distinct message once: on the real SQLite, every effect is recorded in a log table,
 * and the log must hold each message exactly once with the balance their sum.
 */
class InboxOnceProperties {
  private static TestDatabase db;
  private static Inbox inbox;
  private static int run;

  @BeforeContainer
  static void open() {
    db = TestDatabase.sqlite();
    db.execute(
        "CREATE TABLE effect_log (message_id VARCHAR(200) NOT NULL, cents BIGINT NOT NULL)",
        "CREATE TABLE balance (run INTEGER NOT NULL PRIMARY KEY, cents BIGINT NOT NULL)");
    inbox = Inbox.create(db.dataSource());
  }

  @AfterContainer
  static void close() {
    db = null;
  }

  record Delivery(int message, int cents) {}

  @Provide
  Arbitrary<List<Delivery>> deliveries() {
    // Up to 12 distinct messages (each with its own amount), delivered 1 to 4 times each, shuffled.
    return Arbitraries.integers()
        .between(1, 12)
        .flatMap(count ->
            Arbitraries.integers()
                .between(1, 1000)
                .list()
                .ofSize(count)
                .flatMap(amounts ->
                    Combinators.combine(
                            Arbitraries.integers().between(1, 4).list().ofSize(count),
                            Arbitraries.randoms())
                        .as((copies, random) -> {
                          List<Delivery> out = new ArrayList<>();
                          for (int i = 0; i < count; i++) {
                            for (int c = 0; c < copies.get(i); c++) {
                              out.add(new Delivery(i, amounts.get(i)));
                            }
                          }
                          java.util.Collections.shuffle(out, random);
                          return out;
                        })));
  }

  @Property(tries = 40)
  void anyDeliverySequence_hasTheEffectOfEachMessageOnce(
      @ForAll("deliveries") List<Delivery> sequence) throws SQLException {
    int current = ++run;
    db.execute("INSERT INTO balance VALUES (" + current + ", 0)");
    Map<String, Integer> distinct = new LinkedHashMap<>();
    for (Delivery delivery : sequence) {
      String id = "r" + current + "-m" + delivery.message();
      distinct.put(id, delivery.cents());
      TransactionalMessage message =
          new TransactionalMessage(
              id, "t", "k", "{\"cents\":" + delivery.cents() + "}", Map.of(), null);
      inbox.handle(message, c -> apply(c, current, id, delivery.cents()));
    }
    long expected = distinct.values().stream().mapToLong(Integer::longValue).sum();
    assertThat(db.queryLong("SELECT cents FROM balance WHERE run = " + current))
        .isEqualTo(expected);
    assertThat(
            db.queryLong(
                "SELECT COUNT(*) FROM effect_log WHERE message_id LIKE 'r" + current + "-%'"))
        .isEqualTo(distinct.size());
    assertThat(
            db.queryLong(
                "SELECT COUNT(DISTINCT message_id) FROM effect_log WHERE message_id LIKE 'r"
                    + current
                    + "-%'"))
        .isEqualTo(distinct.size());
  }

  private static void apply(Connection c, int run, String id, int cents) throws SQLException {
    try (PreparedStatement log = c.prepareStatement("INSERT INTO effect_log VALUES (?, ?)");
        PreparedStatement add =
            c.prepareStatement("UPDATE balance SET cents = cents + ? WHERE run = ?")) {
      log.setString(1, id);
      log.setInt(2, cents);
      log.executeUpdate();
      add.setInt(1, cents);
      add.setInt(2, run);
      add.executeUpdate();
    }
  }
}
