package dev.pledge.client.xa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.client.testing.TestDatabase;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class MariaDbXaResourceTest extends XaResourceContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.mariadbXa();
  }

  /**
   * MariaDB keeps a prepared branch attached to the session that prepared it until that session
   * disconnects (what a pooled connection never does): meanwhile another session's commit must be a
   * failure the coordinator retries, never "not prepared" (which the SDK would record as a
   * heuristic rollback). Once the session is gone, the commit goes through.
   */
  @Test
  void branchStillAttachedToItsSession_isNotTakenForNotPrepared() throws SQLException {
    TestDatabase database = database();
    database.execute(
        "CREATE TABLE IF NOT EXISTS xa_resource_rows (id VARCHAR(200) PRIMARY KEY, n INT)");
    MariaDbXaResource resource = new MariaDbXaResource();
    String id = "attached-" + UUID.randomUUID().toString().substring(0, 8);
    XaXid xid = XaXid.of(id, "01");
    Connection preparing = database.dataSource().getConnection();
    try {
      assertThat(resource.begin(preparing, xid)).isTrue();
      try (Statement statement = preparing.createStatement()) {
        statement.executeUpdate("INSERT INTO xa_resource_rows (id, n) VALUES ('" + id + "', 1)");
      }
      resource.prepare(preparing, xid);
      try (Connection other = database.dataSource().getConnection()) {
        assertThat(resource.isPrepared(other, xid)).isTrue();
        assertThatThrownBy(() -> resource.commit(other, xid))
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("still attached");
        assertThatThrownBy(() -> resource.rollback(other, xid))
            .isInstanceOf(SQLException.class)
            .hasMessageContaining("still attached");
      }
    } finally {
      preparing.close();
    }
    try (Connection other = database.dataSource().getConnection()) {
      assertThat(resource.commit(other, xid)).isTrue();
      assertThat(resource.isPrepared(other, xid)).isFalse();
    }
    assertThat(database.queryLong("SELECT COUNT(*) FROM xa_resource_rows WHERE id = '" + id + "'"))
        .isEqualTo(1);
  }
}
