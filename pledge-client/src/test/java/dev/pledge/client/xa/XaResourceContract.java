package dev.pledge.client.xa;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.client.testing.TestDatabase;
import dev.pledge.client.xa.spi.XaResource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * The contract of {@link XaResource}: what every database's prepared transactions must do for xa.
 * Each implementation runs it against its real database in a few lines. Every branch a test
 * prepares has a gid unique to the run; whatever a test leaves prepared is rolled back after it.
 */
public abstract class XaResourceContract {
  private TestDatabase database;
  private XaResource resource;
  private String gid;
  private final List<XaXid> used = new ArrayList<>();

  /** The database under test, with {@code pledge_xa_test}'s privileges. */
  protected abstract TestDatabase database();

  @BeforeEach
  void setUp(TestInfo test) throws SQLException {
    database = database();
    database.execute(
        "CREATE TABLE IF NOT EXISTS xa_resource_rows (id VARCHAR(200) PRIMARY KEY, n INT)");
    try (Connection connection = database.dataSource().getConnection()) {
      resource = XaBranches.create(database.dataSource()).resource();
    }
    gid =
        test.getTestMethod().orElseThrow().getName()
            + "-"
            + UUID.randomUUID().toString().substring(0, 8);
  }

  @AfterEach
  void rollBackLeftovers() throws SQLException {
    try (Connection connection = database.dataSource().getConnection()) {
      for (XaXid xid : used) {
        resource.rollback(connection, xid);
      }
    }
  }

  private XaXid xid(String branch) {
    return xid(gid, branch);
  }

  private XaXid xid(String gid, String branch) {
    XaXid xid = XaXid.of(gid, branch);
    used.add(xid);
    return xid;
  }

  private void insert(Connection connection, String id) throws SQLException {
    try (PreparedStatement statement =
        connection.prepareStatement("INSERT INTO xa_resource_rows (id, n) VALUES (?, 1)")) {
      statement.setString(1, id);
      statement.executeUpdate();
    }
  }

  private long rows(String id) {
    return database.queryLong("SELECT COUNT(*) FROM xa_resource_rows WHERE id = '" + id + "'");
  }

  /** Begins {@code xid} on a new connection, inserts row {@code id}, prepares, closes it. */
  private void prepareRow(XaXid xid, String id) throws SQLException {
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(resource.begin(connection, xid)).isTrue();
      insert(connection, id);
      resource.prepare(connection, xid);
      assertThat(connection.getAutoCommit()).isTrue();
    }
  }

  @Test
  void prepared_survivesItsConnection_andCommitsFromAnother() throws SQLException {
    XaXid xid = xid("01");
    prepareRow(xid, gid);

    assertThat(rows(gid)).as("invisible while prepared").isZero();
    try (Connection other = database.dataSource().getConnection()) {
      assertThat(resource.isPrepared(other, xid)).isTrue();
      assertThat(resource.recover(other, 10_000))
          .extracting(XaResource.Prepared::xid)
          .contains(xid);
      assertThat(resource.commit(other, xid)).isTrue();
      assertThat(resource.isPrepared(other, xid)).isFalse();
      assertThat(resource.commit(other, xid)).as("a second commit finds nothing").isFalse();
      assertThat(resource.rollback(other, xid)).isFalse();
    }
    assertThat(rows(gid)).isEqualTo(1);
  }

  @Test
  void rollbackOfAPreparedBranch_discardsItsWork() throws SQLException {
    XaXid xid = xid("01");
    prepareRow(xid, gid);

    try (Connection other = database.dataSource().getConnection()) {
      assertThat(resource.rollback(other, xid)).isTrue();
      assertThat(resource.rollback(other, xid)).isFalse();
      assertThat(resource.commit(other, xid)).isFalse();
      assertThat(resource.isPrepared(other, xid)).isFalse();
    }
    assertThat(rows(gid)).isZero();
  }

  @Test
  void preparedBranch_holdsItsLocks_untilItCommits() throws SQLException {
    database.execute("INSERT INTO xa_resource_rows (id, n) VALUES ('" + gid + "', 0)");
    XaXid xid = xid("01");
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(resource.begin(connection, xid)).isTrue();
      try (PreparedStatement update =
          connection.prepareStatement("UPDATE xa_resource_rows SET n = 5 WHERE id = ?")) {
        update.setString(1, gid);
        assertThat(update.executeUpdate()).isEqualTo(1);
      }
      resource.prepare(connection, xid);
    }
    try (Connection other = database.dataSource().getConnection()) {
      other.setAutoCommit(false);
      resource.lockTimeout(other, Duration.ofSeconds(1));
      assertThatThrownBy(
              () -> {
                try (PreparedStatement update =
                    other.prepareStatement("UPDATE xa_resource_rows SET n = 7 WHERE id = ?")) {
                  update.setString(1, gid);
                  update.executeUpdate();
                }
              })
          .as("the prepared branch holds the row")
          .isInstanceOf(SQLException.class);
      other.rollback();
      resource.lockTimeout(other, null);
      other.setAutoCommit(true);
      assertThat(resource.commit(other, xid)).isTrue();
    }
    assertThat(database.queryLong("SELECT n FROM xa_resource_rows WHERE id = '" + gid + "'"))
        .isEqualTo(5);
  }

  @Test
  void begin_answersFalse_whenTheBranchIsPreparedAlready() throws SQLException {
    XaXid xid = xid("01");
    prepareRow(xid, gid);
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(resource.begin(connection, xid)).isFalse();
      assertThat(connection.getAutoCommit()).isTrue();
    }
  }

  private static XaResource.RowInsert row(String id) {
    return new XaResource.RowInsert("xa_resource_rows", List.of("id", "n"), List.of(id, 1));
  }

  @Test
  void beginWithARow_insertsItInTheBranch_andAnswersMinusOne_whenPreparedAlready()
      throws SQLException {
    XaXid xid = xid("01");
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(resource.begin(connection, xid, row(gid), Duration.ofSeconds(1))).isEqualTo(1);
      resource.prepare(connection, xid);
    }
    assertThat(rows(gid)).as("invisible while prepared").isZero();
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(resource.begin(connection, xid, row(gid + "/again"), Duration.ofSeconds(1)))
          .isEqualTo(-1);
      assertThat(connection.getAutoCommit()).isTrue();
      assertThat(resource.commit(connection, xid)).isTrue();
    }
    assertThat(rows(gid)).isEqualTo(1);
    assertThat(rows(gid + "/again")).as("nothing of the refused begin").isZero();
  }

  @Test
  void beginWithARow_answersZero_whenTheRowIsThere() throws SQLException {
    database.execute("INSERT INTO xa_resource_rows (id, n) VALUES ('" + gid + "', 0)");
    XaXid xid = xid("01");
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(resource.begin(connection, xid, row(gid), Duration.ofSeconds(1))).isZero();
      resource.abandon(connection, xid);
      assertThat(connection.getAutoCommit()).isTrue();
    }
  }

  @Test
  void boundedInsert_waitsNoLongerThanItsBound_forARowAPreparedBranchHolds() throws SQLException {
    XaXid xid = xid("01");
    prepareRow(xid, gid);
    try (Connection other = database.dataSource().getConnection()) {
      other.setAutoCommit(false);
      assertThatThrownBy(() -> resource.insert(other, row(gid), Duration.ofSeconds(1)))
          .as("the prepared branch holds the key")
          .isInstanceOf(SQLException.class);
      other.rollback();
      other.setAutoCommit(true);
      assertThat(resource.insert(other, row(gid + "/free"), Duration.ofSeconds(1))).isEqualTo(1);
      assertThat(resource.insert(other, row(gid + "/free"), Duration.ofSeconds(1))).isZero();
      assertThat(resource.commit(other, xid)).isTrue();
    }
  }

  @Test
  void abandon_leavesNothing_andTheConnectionUsable() throws SQLException {
    XaXid xid = xid("01");
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(resource.begin(connection, xid)).isTrue();
      insert(connection, gid);
      resource.abandon(connection, xid);
      assertThat(connection.getAutoCommit()).isTrue();
      assertThat(resource.isPrepared(connection, xid)).isFalse();
      insert(connection, gid + "-after"); // auto-committed
    }
    assertThat(rows(gid)).isZero();
    assertThat(rows(gid + "-after")).isEqualTo(1);
  }

  @Test
  void aBranchMayBeginAgain_afterItWasAbandoned() throws SQLException {
    XaXid xid = xid("01");
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(resource.begin(connection, xid)).isTrue();
      insert(connection, gid);
      resource.abandon(connection, xid);
    }
    prepareRow(xid, gid);
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(resource.commit(connection, xid)).isTrue();
    }
    assertThat(rows(gid)).isEqualTo(1);
  }

  @Test
  void recover_listsPledgesBranches_byTheirXids_withLongGidsHashed() throws SQLException {
    String longGid = (gid + "-").repeat(10).substring(0, 128);
    XaXid hashed = xid(longGid, "branch-b");
    XaXid plain = xid("r-" + UUID.randomUUID().toString().substring(0, 8), "branch-a");
    prepareRow(plain, gid + "-a");
    prepareRow(hashed, gid + "-b");

    assertThat(plain.hashed()).isFalse();
    assertThat(plain.postgresName()).startsWith("pledge/r-");
    assertThat(hashed.hashed()).isTrue();
    assertThat(hashed.gtrid()).hasSize(44).startsWith("~");
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(resource.recover(connection, 10_000))
          .extracting(XaResource.Prepared::xid)
          .contains(plain, hashed);
      assertThat(resource.recover(connection, 1)).hasSize(1);
    }
  }

  @Test
  void commitAndRollback_ofAnXidNeverPrepared_answerFalse() throws SQLException {
    XaXid xid = xid("never");
    try (Connection connection = database.dataSource().getConnection()) {
      assertThat(resource.commit(connection, xid)).isFalse();
      assertThat(resource.rollback(connection, xid)).isFalse();
      assertThat(resource.isPrepared(connection, xid)).isFalse();
    }
  }
}
