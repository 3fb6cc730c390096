package dev.pledge.server.xa;

import com.sun.net.httpserver.HttpServer;
import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.participant.XaParticipant;
import dev.pledge.client.xa.XaBranches;
import dev.pledge.client.xa.XaRecovery;
import dev.pledge.client.xa.XaRecoveryConfig;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.sql.PreparedStatement;
import java.time.Clock;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import javax.sql.DataSource;
import org.mariadb.jdbc.MariaDbDataSource;
import org.postgresql.ds.PGSimpleDataSource;

/**
 * A participant service in a process of its own, for {@link XaCrashTest}: two xa branches, {@code
 * /pg/…} on PostgreSQL and {@code /maria/…} on MariaDB, each inserting the row {@code gid/branch}
 * into {@code xa_crash_rows}; xa recovery against the coordinator at start and every second.
 *
 * <p>Arguments: port, coordinator URL, PostgreSQL JDBC URL, MariaDB JDBC URL, and a fault: {@code
 * none}, {@code hold-commits} (the first commit call of each branch prints {@code COMMIT-ARRIVED
 * <branch>} and is held for a minute without committing, so that the test can kill this process or
 * the coordinator after the decision and before any commit), or {@code hold-maria-prepare} (every
 * prepare call of {@code maria} prints {@code PREPARE-ARRIVED maria} and is held for a minute
 * without running anything, while {@code pg} prepares, so that the test can kill the coordinator
 * after a prepare and before the decision). Prints {@code READY} when it serves.
 */
public final class XaParticipantChild {
  private XaParticipantChild() {}

  public static void main(String[] args) throws Exception {
    int port = Integer.parseInt(args[0]);
    URI coordinator = URI.create(args[1]);
    PGSimpleDataSource pg = new PGSimpleDataSource();
    pg.setUrl(args[2]);
    pg.setUser("postgres");
    DataSource maria = new MariaDbDataSource(args[3]);
    boolean holdCommits = args[4].equals("hold-commits");
    boolean holdMariaPrepare = args[4].equals("hold-maria-prepare");

    PledgeClient client = PledgeClient.create(PledgeClientConfig.of(coordinator));
    HttpServer server =
        HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), port), 64);
    server.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    Set<String> held = ConcurrentHashMap.newKeySet();
    for (String name : new String[] {"pg", "maria"}) {
      XaBranches branches = XaBranches.create(name.equals("pg") ? pg : maria);
      XaParticipant xa = XaParticipant.create(branches);
      XaRecovery recovery =
          XaRecovery.create(
              branches,
              XaRecovery.coordinator(client),
              XaRecoveryConfig.defaults().withPeriod(Duration.ofSeconds(1)),
              Clock.systemUTC());
      if (holdCommits || holdMariaPrepare) {
        recovery.runOnce(); // only at start: a periodic run would commit what the test holds
      } else {
        recovery.start();
      }
      var prepare =
          xa.prepare((connection, request) -> {
            try (PreparedStatement insert =
                connection.prepareStatement("INSERT INTO xa_crash_rows (id) VALUES (?)")) {
              insert.setString(1, request.gid() + "/" + request.branch());
              insert.executeUpdate();
            }
          });
      boolean holdPrepare = holdMariaPrepare && name.equals("maria");
      server.createContext(
          "/" + name + "/prepare",
          exchange -> {
            if (holdPrepare) {
              say("PREPARE-ARRIVED " + name);
              try {
                Thread.sleep(Duration.ofMinutes(1));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              exchange.sendResponseHeaders(503, -1);
              exchange.close();
              return;
            }
            prepare.handle(exchange);
          });
      var commit = xa.commit();
      server.createContext(
          "/" + name + "/commit",
          exchange -> {
            String key = exchange.getRequestHeaders().getFirst("Pledge-Gid") + "/" + name;
            if (holdCommits && held.add(key)) {
              say("COMMIT-ARRIVED " + name);
              try {
                Thread.sleep(Duration.ofMinutes(1));
              } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
              }
              exchange.sendResponseHeaders(503, -1);
              exchange.close();
              return;
            }
            commit.handle(exchange);
          });
      server.createContext("/" + name + "/rollback", xa.rollback());
    }
    server.start();
    say("READY");
  }

  private static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
