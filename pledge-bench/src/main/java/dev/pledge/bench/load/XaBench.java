package dev.pledge.bench.load;

import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.TransactionView;
import dev.pledge.client.participant.XaParticipant;
import dev.pledge.client.xa.XaBranches;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.mariadb.jdbc.MariaDbDataSource;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code pledge bench xa}: the same N-branch work ({@code --branches}, 2 by default: one row
 * inserted per branch, alternately on PostgreSQL and MariaDB, all committed or none; see {@link
 * XaPeers}) four ways, one after the other in the same run on the same databases:
 *
 * <ul>
 *   <li><b>R2</b>: raw prepared transactions without a coordinator: {@code BEGIN; INSERT; PREPARE
 *       TRANSACTION} on PostgreSQL and {@code XA START; INSERT; XA END; XA PREPARE} on MariaDB,
 *       then {@code COMMIT PREPARED} and {@code XA COMMIT}, on each client's own connection per
 *       branch;
 *   <li><b>pledge xa-N</b>: an {@code xa} transaction of a coordinator process (on its SQLite log)
 *       whose branches are the SDK's {@code XaParticipant}s in this JVM (HTTP on loopback), each
 *       branch prepared and committed by {@code XaBranches};
 *   <li><b>Narayana JTA</b> and <b>Atomikos</b>: their transaction manager in this JVM, each client
 *       enlisting the {@code XAResource}s of its own {@code XAConnection} per branch (Atomikos: a
 *       pooled {@code AtomikosDataSourceBean} per branch), the inserts on their connections, then
 *       {@code commit()} (two-phase, the manager's log on local disk).
 * </ul>
 *
 * <p>Closed loop: {@code --concurrency} clients, a warm-up, then {@code --seconds} measured. Prints
 * a Markdown table (transactions per second, and each rate over R2's) and writes it to {@code
 * xa.md} in the output folder.
 */
@Command(
    name = "xa",
    mixinStandardHelpOptions = true,
    description =
        "N-branch XA work (PostgreSQL + MariaDB): raw prepared transactions (R2), Pledge xa-N,"
            + " Narayana JTA and Atomikos, in the same run on the same databases.")
public final class XaBench implements Callable<Integer> {
  @ParentCommand BenchCommand parent;

  @Option(names = "--seconds", defaultValue = "15", description = "Measured seconds per system.")
  int seconds;

  @Option(names = "--warmup-seconds", defaultValue = "5", description = "Warm-up per system.")
  int warmupSeconds;

  @Option(names = "--concurrency", defaultValue = "8", description = "Closed-loop clients.")
  int concurrency;

  @Option(
      names = "--branches",
      defaultValue = "2",
      description =
          "Branches per transaction, 2 to 9: even ones (from 0) on PostgreSQL, odd ones on MariaDB"
              + " (default: ${DEFAULT-VALUE}).")
  int branches;

  @Option(
      names = "--systems",
      split = ",",
      defaultValue = "r2,pledge,narayana,atomikos",
      description = "Which to run, in order (default: ${DEFAULT-VALUE}).")
  List<String> systems;

  @Option(
      names = "--pg-admin-url",
      defaultValue = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres",
      description =
          "PostgreSQL server; the bench (re)creates database pledge_bench_xa there (<PLEDGE_BENCH_DB>_xa when set).")
  String pgAdminUrl;

  @Option(
      names = "--mariadb-admin-url",
      defaultValue = "jdbc:mariadb://127.0.0.1:3306/?user=root",
      description =
          "MariaDB server; the bench (re)creates database pledge_bench_xa there (<PLEDGE_BENCH_DB>_xa when set).")
  String mariadbAdminUrl;

  @Option(names = "--out", description = "Output folder (default: bench-results/xa-<UTC time>).")
  Path out;

  /** {@code pledge_bench_xa}, or {@code <PLEDGE_BENCH_DB>_xa} when that env variable is set. */
  private static final String DATABASE = BenchRun.LOG_DATABASE + "_xa";

  private final AtomicLong ids = new AtomicLong();

  /** One client's N-branch transaction. */
  @FunctionalInterface
  interface Client {
    void transact(long id) throws Exception;
  }

  /** A system under test: opens a client per worker, closes what it opened. */
  interface SystemUnderTest extends AutoCloseable {
    Client client() throws Exception;

    @Override
    void close() throws Exception;
  }

  @Override
  public Integer call() throws Exception {
    Instant started = Instant.now();
    Path folder = BenchCommand.resultsFolder(out, "xa", started);
    if (branches < 2 || branches > 9) {
      throw new IllegalArgumentException("--branches must be 2 to 9, got " + branches);
    }
    Files.createDirectories(folder);
    recreate(pgAdminUrl, DATABASE);
    recreate(mariadbAdminUrl, DATABASE);
    String pgUrl = withDatabase(pgAdminUrl);
    String mariaUrl = withDatabase(mariadbAdminUrl);
    for (String url : List.of(pgUrl, mariaUrl)) {
      try (Connection c = DriverManager.getConnection(url);
          Statement s = c.createStatement()) {
        s.execute("CREATE TABLE bench_xa (id BIGINT PRIMARY KEY, who VARCHAR(16) NOT NULL)");
      }
    }
    String loadBefore = BenchCommand.loadAverage();
    Map<String, Double> rates = new LinkedHashMap<>();
    Map<String, String> notes = new LinkedHashMap<>();
    for (String system : systems) {
      System.err.printf("xa bench: %s, %d clients%n", system, concurrency);
      try (SystemUnderTest sut = open(system, pgUrl, mariaUrl, folder)) {
        rates.put(system, measure(sut));
      } catch (Exception e) {
        notes.put(system, "could not run: " + e);
        System.err.printf("xa bench: %s could not run: %s%n", system, e);
      }
      System.err.printf("xa bench: %s -> %s tx/s%n", system, rates.get(system));
    }
    String report = report(started, loadBefore, rates, notes);
    Files.writeString(folder.resolve("xa.md"), report);
    System.out.print(report);
    System.out.println(folder.resolve("xa.md"));
    return 0;
  }

  private double measure(SystemUnderTest sut) throws Exception {
    List<Client> clients = new ArrayList<>();
    for (int i = 0; i < concurrency; i++) {
      clients.add(sut.client());
    }
    AtomicBoolean stop = new AtomicBoolean();
    AtomicBoolean counting = new AtomicBoolean();
    AtomicLong done = new AtomicLong();
    AtomicLong failed = new AtomicLong();
    List<Thread> threads = new ArrayList<>();
    for (Client client : clients) {
      threads.add(
          Thread.ofPlatform()
              .start(() -> {
                while (!stop.get()) {
                  try {
                    client.transact(ids.incrementAndGet());
                    if (counting.get()) {
                      done.incrementAndGet();
                    }
                  } catch (Exception e) {
                    if (failed.incrementAndGet() <= 3) {
                      System.err.println("xa bench: a transaction failed: " + e);
                    }
                  }
                }
              }));
    }
    Thread.sleep(Duration.ofSeconds(warmupSeconds));
    counting.set(true);
    long start = System.nanoTime();
    Thread.sleep(Duration.ofSeconds(seconds));
    counting.set(false);
    double elapsed = (System.nanoTime() - start) / 1e9;
    long count = done.get();
    stop.set(true);
    for (Thread thread : threads) {
      thread.join(Duration.ofSeconds(60));
    }
    if (failed.get() > 0) {
      System.err.println("xa bench: " + failed.get() + " transactions failed");
    }
    return count / elapsed;
  }

  private SystemUnderTest open(String system, String pgUrl, String mariaUrl, Path folder)
      throws Exception {
    return switch (system) {
      case "r2" -> new XaPeers.Raw(pgUrl, mariaUrl, branches);
      case "pledge" -> new Pledge(pgUrl, mariaUrl, folder);
      case "narayana" -> new XaPeers.Jta(pgUrl, mariaUrl, XaPeers.narayana(folder), branches);
      case "atomikos" -> new XaPeers.Atomikos(pgUrl, mariaUrl, folder, branches, concurrency);
      default -> throw new IllegalArgumentException("unknown system " + system);
    };
  }

  // ---- Pledge xa-N ----

  /** A coordinator process, the two branches' XaParticipants here, a PledgeClient per client. */
  private final class Pledge implements SystemUnderTest {
    private final ServerProcess server;
    private final HttpServer participants;
    private final ExecutorService executor = Executors.newVirtualThreadPerTaskExecutor();
    private final HikariDataSource pgPool;
    private final XaBranches pgBranches;
    private final XaBranches mdbBranches;
    private final PledgeClient client;
    private final String base;
    private final Map<String, long[]> timings = new java.util.concurrent.ConcurrentHashMap<>();

    Pledge(String pgUrl, String mariaUrl, Path folder) throws IOException, SQLException {
      server =
          ServerProcess.start(
              new ServerProcess.Launch(
                  Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                  parent.serverClasspath != null
                      ? parent.serverClasspath
                      : System.getProperty("java.class.path"),
                  parent.serverMain,
                  parent.serverJvmOptionList(),
                  folder.resolve("coordinator"),
                  null,
                  null,
                  null,
                  folder.resolve("coordinator.log")));
      HikariConfig config = new HikariConfig();
      config.setJdbcUrl(pgUrl);
      config.setMaximumPoolSize(concurrency * Math.max(2, branches));
      pgPool = new HikariDataSource(config);
      // MariaDB: a new connection per prepare, closed for real (a prepared branch stays attached
      // to its session until it disconnects); XaBranches keeps its commits' connections.
      MariaDbDataSource maria = new MariaDbDataSource(mariaUrl);
      pgBranches = XaBranches.create(pgPool);
      mdbBranches = XaBranches.create(maria);
      XaParticipant pg = XaParticipant.create(pgBranches);
      XaParticipant mdb = XaParticipant.create(mdbBranches);
      participants =
          HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 1024);
      participants.setExecutor(executor);
      for (Map.Entry<String, XaParticipant> branch : Map.of("pg", pg, "mdb", mdb).entrySet()) {
        String who = branch.getKey();
        XaParticipant participant = branch.getValue();
        participants.createContext(
            "/" + who + "/prepare",
            timed(
                who + "/prepare",
                participant.prepare((c, request) -> {
                  try (PreparedStatement insert =
                      c.prepareStatement("INSERT INTO bench_xa (id, who) VALUES (?, ?)")) {
                    insert.setLong(1, request.payload().path("id").asLong());
                    insert.setString(2, "pledge");
                    insert.executeUpdate();
                  }
                })));
        participants.createContext(
            "/" + who + "/commit", timed(who + "/commit", participant.commit()));
        participants.createContext("/" + who + "/rollback", participant.rollback());
      }
      participants.start();
      base = "http://127.0.0.1:" + participants.getAddress().getPort();
      client = PledgeClient.create(PledgeClientConfig.of(server.base()));
    }

    @Override
    public Client client() {
      return id -> {
        String gid = "xa" + branches + "-" + id;
        var builder = client.xa(gid).timeout(Duration.ofSeconds(30));
        for (int i = 0; i < branches; i++) {
          String who = XaPeers.onPostgres(i) ? "pg" : "mdb";
          builder.branch(
              branches == 2 ? who : who + i,
              base + "/" + who + "/prepare",
              base + "/" + who + "/commit",
              base + "/" + who + "/rollback",
              Map.of("id", XaPeers.row(id, i)));
        }
        TransactionView view = builder.run(Duration.ofSeconds(30));
        if (!view.status().equals("committed")) {
          throw new IllegalStateException(gid + " ended " + view.status());
        }
      };
    }

    private com.sun.net.httpserver.HttpHandler timed(
        String name, com.sun.net.httpserver.HttpHandler handler) {
      return exchange -> {
        long start = System.nanoTime();
        try {
          handler.handle(exchange);
        } finally {
          timings.computeIfAbsent(name, k -> new long[2]);
          synchronized (timings) {
            long[] t = timings.get(name);
            t[0]++;
            t[1] += System.nanoTime() - start;
          }
        }
      };
    }

    @Override
    public void close() {
      timings.forEach((name, t) ->
          System.err.printf(
              Locale.ROOT,
              "xa bench: pledge participant %s: %d calls, %.1f ms mean%n",
              name,
              t[0],
              t[0] == 0 ? 0 : t[1] / 1e6 / t[0]));
      client.close();
      participants.stop(0);
      executor.shutdownNow();
      mdbBranches.close();
      pgBranches.close();
      pgPool.close();
      server.close();
    }
  }

  // ---- databases and report ----

  private static void recreate(String adminUrl, String database) throws SQLException {
    try (Connection c = DriverManager.getConnection(adminUrl);
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + database);
      s.execute("CREATE DATABASE " + database);
    }
  }

  private static String withDatabase(String adminUrl) {
    return adminUrl.replaceFirst("^(jdbc:[a-z]+://[^/?]+)(/[^?]*)?", "$1/" + DATABASE);
  }

  private String report(
      Instant started, String loadBefore, Map<String, Double> rates, Map<String, String> notes) {
    StringBuilder md = new StringBuilder();
    md.append("## bench xa, ")
        .append(
            DateTimeFormatter.ISO_INSTANT.format(
                started.truncatedTo(java.time.temporal.ChronoUnit.SECONDS)))
        .append("\n\n");
    md.append(
        String.format(
            Locale.ROOT,
            "`bin/pledge bench xa --seconds %d --warmup-seconds %d --concurrency %d --branches %d"
                + " --systems %s`; load average %s before, %s after; %d cores.%n%n",
            seconds,
            warmupSeconds,
            concurrency,
            branches,
            String.join(",", systems),
            loadBefore,
            BenchCommand.loadAverage(),
            Runtime.getRuntime().availableProcessors()));
    md.append("| system | ").append(branches).append("-branch tx/s | over R2 |\n|---|---:|---:|\n");
    Double r2 = rates.get("r2");
    for (Map.Entry<String, Double> rate : rates.entrySet()) {
      md.append(
          String.format(
              Locale.ROOT,
              "| %s | %.1f | %s |%n",
              label(rate.getKey()),
              rate.getValue(),
              r2 == null || r2 == 0
                  ? "-"
                  : String.format(Locale.ROOT, "%.2f", rate.getValue() / r2)));
    }
    for (Map.Entry<String, String> note : notes.entrySet()) {
      md.append("| ")
          .append(label(note.getKey()))
          .append(" | ")
          .append(note.getValue())
          .append(" | |\n");
    }
    Double pledge = rates.get("pledge");
    for (String peer : List.of("narayana", "atomikos")) {
      if (pledge != null && rates.get(peer) != null && rates.get(peer) > 0) {
        md.append(
            String.format(
                Locale.ROOT,
                "%nPledge xa-%d / %s: %.2f",
                branches,
                label(peer),
                pledge / rates.get(peer)));
      }
    }
    md.append("\n");
    return md.toString();
  }

  private String label(String system) {
    return switch (system) {
      case "r2" -> "R2 (raw PREPARE TRANSACTION + XA PREPARE, then every commit; no coordinator)";
      case "pledge" ->
          "Pledge xa-" + branches + " (coordinator process on SQLite, XaParticipant over HTTP)";
      case "narayana" ->
          "Narayana JTA 7.2.2.Final (in-process, file object store, one XAConnection per client"
              + " and branch)";
      case "atomikos" -> "Atomikos 6.0.0 (in-process, file log, AtomikosDataSourceBean pools)";
      default -> system;
    };
  }
}
