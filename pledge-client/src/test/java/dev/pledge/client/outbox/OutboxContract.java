package dev.pledge.client.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.client.testing.TestDatabase;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * What {@link Outbox#publish} promises on every database: the row exists exactly when the caller's
 * transaction commits, bad input is refused before anything is written, and the migration can run
 * again. Each dialect runs it in a few lines.
 */
public abstract class OutboxContract {
  protected abstract TestDatabase database();

  private TestDatabase db;
  private Outbox outbox;

  @BeforeEach
  void cleanTable() throws SQLException {
    db = database();
    db.drop(Outbox.TABLE);
    outbox = Outbox.create(db.dataSource());
  }

  @Test
  void publish_inACommittedTransaction_writesOneRowWithEverything() throws SQLException {
    String id;
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      id = outbox.publish(c, "orders.created", "order-1", "{\"n\":1}", Map.of("Trace-Id", "t1"));
      c.commit();
    }
    List<String> rows = rows();
    assertThat(rows)
        .containsExactly(
            id + "|orders.created|order-1|order-1|{\"n\":1}|{\"Trace-Id\":\"t1\"}|null");
  }

  @Test
  void publish_inARolledBackTransaction_leavesNothing() throws SQLException {
    try (Connection c = db.dataSource().getConnection()) {
      c.setAutoCommit(false);
      outbox.publish(c, "orders.created", "order-1", "{}", null);
      c.rollback();
    }
    assertThat(rows()).isEmpty();
  }

  @Test
  void publish_withoutKey_ordersByTopic() throws SQLException {
    try (Connection c = db.dataSource().getConnection()) {
      String id = outbox.publish(c, "audit", null, "[1,2]", Map.of());
      assertThat(rows()).containsExactly(id + "|audit|null|audit|[1,2]|{}|null");
    }
  }

  @Test
  void publish_badInput_isRefusedNamingTheField_andWritesNothing() throws SQLException {
    try (Connection c = db.dataSource().getConnection()) {
      assertThatThrownBy(() -> outbox.publish(c, "bad topic", null, "{}", null))
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("topic");
      assertThatThrownBy(() -> outbox.publish(c, "t", null, "{not json", null))
          .hasMessageContaining("payload must be JSON");
      assertThatThrownBy(() -> outbox.publish(c, "t", "k".repeat(1025), "{}", null))
          .hasMessageContaining("key must be at most 1024");
      assertThatThrownBy(() -> outbox.publish(c, "t", null, "{}", Map.of("Pledge-Gid", "x")))
          .hasMessageContaining("headers.Pledge-Gid: reserved");
      assertThatThrownBy(() -> outbox.publish(c, "t", null, "{}", Map.of("a b", "x")))
          .hasMessageContaining("headers: a name must match");
      assertThatThrownBy(
              () -> outbox.publish(c, "t", null, "\"" + "x".repeat(1024 * 1024) + "\"", null))
          .hasMessageContaining("payload must be at most");
    }
    assertThat(rows()).isEmpty();
  }

  @Test
  void migrate_again_keepsTheRows() throws SQLException {
    try (Connection c = db.dataSource().getConnection()) {
      outbox.publish(c, "t", "k", "{}", null);
      Outbox.migrate(c, db.dialect());
    }
    Outbox.create(db.dataSource());
    assertThat(rows()).hasSize(1);
  }

  private List<String> rows() throws SQLException {
    List<String> out = new ArrayList<>();
    try (Connection c = db.dataSource().getConnection();
        PreparedStatement s =
            c.prepareStatement(
                "SELECT id, topic, msg_key, ordering_key, payload, headers, published_micros"
                    + " FROM pledge_outbox ORDER BY seq");
        ResultSet r = s.executeQuery()) {
      while (r.next()) {
        out.add(
            String.join(
                "|",
                r.getString(1),
                r.getString(2),
                String.valueOf(r.getString(3)),
                r.getString(4),
                r.getString(5),
                r.getString(6),
                String.valueOf(r.getObject(7))));
      }
    }
    return out;
  }
}
