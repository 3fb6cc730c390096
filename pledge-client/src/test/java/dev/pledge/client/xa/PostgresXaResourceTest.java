package dev.pledge.client.xa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.client.testing.TestDatabase;
import dev.pledge.client.xa.spi.XaResource;
import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.UUID;
import org.junit.jupiter.api.Test;

class PostgresXaResourceTest extends XaResourceContract {
  @Override
  protected TestDatabase database() {
    return TestDatabase.postgresXa();
  }

  @Test
  void prepare_ofATransactionThatFailed_throws_andLeavesNothingPrepared() throws SQLException {
    TestDatabase database = database();
    XaResource resource = XaBranches.create(database.dataSource()).resource();
    XaXid xid = XaXid.of("failed-" + UUID.randomUUID().toString().substring(0, 8), "01");
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(resource.begin(connection, xid)).isTrue();
      try (Statement statement = connection.createStatement()) {
        statement.execute("SELECT 1");
        assertThatThrownBy(() -> statement.execute("SELECT * FROM no_such_table_xa"))
            .isInstanceOf(SQLException.class); // swallowed: the transaction has failed
      }
      assertThatThrownBy(() -> resource.prepare(connection, xid))
          .isInstanceOf(SQLException.class)
          .hasMessageContaining("rolled back instead of prepared");
      assertThat(connection.getAutoCommit()).isTrue();
      assertThat(resource.isPrepared(connection, xid)).isFalse();
      try (Statement statement = connection.createStatement()) {
        statement.execute("SELECT 1"); // the connection is usable again
      }
    }
  }
}
