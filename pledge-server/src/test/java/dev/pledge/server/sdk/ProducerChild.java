package dev.pledge.server.sdk;

import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.barrier.Barrier;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import javax.sql.DataSource;
import org.mariadb.jdbc.MariaDbDataSource;
import org.postgresql.ds.PGSimpleDataSource;
import org.sqlite.SQLiteConfig;
import org.sqlite.SQLiteDataSource;

/**
 * A msg producer in a process of its own, for {@link ProducerKilledContract}: prepares a message at
 * the coordinator, then runs its local transaction (the barrier's row and an order row) and either
 * stops inside it ({@code before}) or just after its commit ({@code after}), says so on stdout, and
 * waits to be killed. Arguments: coordinator URL, check URL, JDBC URL, gid, before|after.
 */
public final class ProducerChild {
  private ProducerChild() {}

  /** The producer's database: SQLite (WAL), PostgreSQL (user postgres) or MariaDB, by URL. */
  static DataSource open(String url) throws SQLException {
    if (url.startsWith("jdbc:sqlite:")) {
      SQLiteConfig config = new SQLiteConfig();
      config.setJournalMode(SQLiteConfig.JournalMode.WAL);
      config.setBusyTimeout(10_000);
      SQLiteDataSource db = new SQLiteDataSource(config);
      db.setUrl(url);
      return db;
    }
    if (url.startsWith("jdbc:postgresql:")) {
      PGSimpleDataSource db = new PGSimpleDataSource();
      db.setUrl(url);
      db.setUser("postgres");
      return db;
    }
    return new MariaDbDataSource(url);
  }

  public static void main(String[] args) throws Exception {
    String coordinator = args[0];
    String checkUrl = args[1];
    String url = args[2];
    String gid = args[3];
    boolean commitLocally = args[4].equals("after");
    DataSource db = open(url);
    Barrier barrier = Barrier.create(db);
    PledgeClient pledge = PledgeClient.create(PledgeClientConfig.of(coordinator));
    pledge
        .msg(gid)
        .timeout(Duration.ofSeconds(1))
        .checkUrl(checkUrl)
        .message("orders.placed", gid, Map.of("order", gid))
        .prepare();
    Connection connection = db.getConnection();
    connection.setAutoCommit(false);
    barrier.prepareMessage(connection, gid);
    try (PreparedStatement insert =
        connection.prepareStatement("INSERT INTO producer_killed_order VALUES (?)")) {
      insert.setString(1, gid);
      insert.executeUpdate();
    }
    if (commitLocally) {
      connection.commit();
      System.out.println("LOCAL-COMMITTED " + gid);
    } else {
      System.out.println("IN-LOCAL-TRANSACTION " + gid);
    }
    System.out.flush();
    new CountDownLatch(1).await(); // until killed with -9: the commit call is never sent
  }
}
