package dev.pledge.bench.load;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;

/**
 * The benchmark on one database: R1, then for every workload B0 and Pledge, then the parked-heap
 * measurement on a fresh coordinator.
 *
 * <p>On PostgreSQL the coordinator's log lives in database {@code pledge_bench} (dropped and
 * created again for every coordinator started, so each starts empty) and the participants, R1's
 * table included, in {@code pledge_bench_participants}. On SQLite the coordinator uses its embedded
 * default log in its data folder; each of the five services has its own file, as separate services
 * would, and R1 a file of its own.
 */
final class BenchRun {
  /**
   * The coordinator's log database: {@code pledge_bench}, or env {@code PLEDGE_BENCH_DB} when set
   * (so that engineers sharing one PostgreSQL do not drop each other's databases); the
   * participants' and DBOS's databases take it as their prefix.
   */
  static final String LOG_DATABASE = databaseName();

  static final String PARTICIPANTS_DATABASE = LOG_DATABASE + "_participants";

  private static String databaseName() {
    String name = System.getenv("PLEDGE_BENCH_DB");
    if (name == null || name.isBlank()) {
      return "pledge_bench";
    }
    if (!name.matches("[a-z_][a-z0-9_]{0,40}")) {
      throw new BenchException("PLEDGE_BENCH_DB must be a lower-case SQL name, not " + name);
    }
    return name;
  }

  static final int SERVICES = 5;
  static final int PARK_TIMEOUT_SECONDS = 3600;

  /** The coordinator's gauge of the transactions it holds in memory (its ownership). */
  static final String OWNED_GAUGE = "pledge_owned_transactions";

  private final BenchSettings settings;
  private final DbKind kind;
  private final Path dir;
  private final PrintStream progress;
  private final String runId;
  final List<Row> rows = new ArrayList<>();
  HeapResult heap;
  RecoveryResult recovery;
  final List<String> notes = new ArrayList<>();
  private int servers;

  BenchRun(BenchSettings settings, DbKind kind, String runId, PrintStream progress) {
    this.settings = settings;
    this.kind = kind;
    this.dir = settings.out().resolve(kind.code);
    this.progress = progress;
    this.runId = runId;
  }

  void run() throws IOException {
    Files.createDirectories(dir);
    List<LocalDb> opened = new ArrayList<>();
    try {
      List<LocalDb> services = new ArrayList<>();
      if (kind == DbKind.SQLITE) {
        Path files = dir.resolve("participants");
        Files.createDirectories(files);
        for (int i = 1; i <= SERVICES; i++) {
          LocalDb db = LocalDb.sqlite(files.resolve("service" + i + ".db"));
          opened.add(db);
          services.add(db);
        }
      } else {
        createDatabaseIfMissing(PARTICIPANTS_DATABASE);
        LocalDb shared =
            LocalDb.postgres(
                settings.pgUrl(PARTICIPANTS_DATABASE),
                settings.pgUser(),
                settings.pgPassword(),
                Math.min(Math.max(settings.concurrency(), settings.peakConcurrency()), 32));
        opened.add(shared);
        for (int i = 1; i <= SERVICES; i++) {
          services.add(shared);
        }
      }
      for (LocalDb db : opened) {
        Participants.prepare(db);
      }
      rows.add(r1());
      try (Participants participants = new Participants(services)) {
        Drivers drivers = new Drivers(participants);
        try (ServerProcess server = startServer()) {
          drivers.coordinator(server.base());
          drivers.subscribe();
          prewarm(drivers);
          for (Workload w : settings.workloads()) {
            rows.add(baseline(w, drivers, participants));
            rows.add(pledge(w, drivers, participants, server));
            if (!server.isAlive()) {
              throw new BenchException("the coordinator process died; see " + dir);
            }
            if (w == Workload.SAGA_2) {
              peers(drivers);
            }
          }
          if (settings.peakConcurrency() > 0) {
            rows.add(peak(drivers, server));
          }
        }
        if (settings.park() > 0) {
          heap = park(drivers);
        }
        if (settings.recovery() > 0) {
          recovery = recovery(drivers, participants);
        }
      }
    } finally {
      opened.forEach(LocalDb::close);
    }
  }

  /** R1: closed-loop single-row INSERT and COMMIT, same concurrency, same database. */
  private Row r1() throws IOException {
    progress.printf("[%s] R1: single-row commits%n", kind.code);
    LocalDb db =
        kind == DbKind.SQLITE
            ? LocalDb.sqlite(dir.resolve("participants").resolve("r1.db"))
            : LocalDb.postgres(
                settings.pgUrl(PARTICIPANTS_DATABASE),
                settings.pgUser(),
                settings.pgPassword(),
                Math.min(settings.concurrency(), 48));
    try (db) {
      db.execute(
          "CREATE TABLE IF NOT EXISTS bench_r1 (id BIGINT PRIMARY KEY, v VARCHAR(128) NOT NULL)",
          "DELETE FROM bench_r1");
      AtomicLong ids = new AtomicLong();
      CpuProbe self = new CpuProbe(null, null);
      LoadLoop.Result result =
          LoadLoop.run(
              runId + "-r1",
              settings.concurrency(),
              settings.warmup(),
              settings.measure(),
              id -> {
                try {
                  return db.transaction(c -> {
                    try (PreparedStatement insert =
                        c.prepareStatement("INSERT INTO bench_r1 (id, v) VALUES (?, ?)")) {
                      insert.setLong(1, ids.incrementAndGet());
                      insert.setString(2, id);
                      return insert.executeUpdate() == 1;
                    }
                  });
                } catch (SQLException e) {
                  return false;
                }
              },
              self);
      return row(Row.R1, Row.R1, result, self, 0);
    }
  }

  /**
   * Runs every workload through the coordinator once, unmeasured, for the warm-up time each, so
   * that the JIT compiler has seen every path before the first measured window (a single warm-up of
   * a few seconds leaves the first workloads paying for C2 compilations).
   */
  private void prewarm(Drivers drivers) {
    if (settings.warmup().compareTo(java.time.Duration.ofSeconds(1)) < 0) {
      return;
    }
    progress.printf(
        "[%s] warming the coordinator up: every workload for %d s%n",
        kind.code, settings.warmup().toSeconds());
    for (Workload w : settings.workloads()) {
      LoadLoop.run(
          runId + "-prewarm-" + w.label,
          settings.concurrency(),
          java.time.Duration.ZERO,
          settings.warmup(),
          id -> drivers.pledge(w, id),
          LoadLoop.NO_PROBE);
    }
  }

  private Row baseline(Workload w, Drivers drivers, Participants participants) {
    progress.printf("[%s] B0 %s: the same work without Pledge%n", kind.code, w.label);
    CpuProbe self = new CpuProbe(null, null);
    LoadLoop.Result result =
        LoadLoop.run(
            runId + "-b0-" + w.label,
            settings.concurrency(),
            settings.warmup(),
            settings.measure(),
            id -> drivers.baseline(w, id),
            self);
    return row(w.label, Row.B0, result, self, 0);
  }

  private Row pledge(Workload w, Drivers drivers, Participants participants, ServerProcess server) {
    return pledge(w, w.label, settings.concurrency(), drivers, server);
  }

  /** saga-2 with many more clients: how many log records one database commit carries at peak. */
  private Row peak(Drivers drivers, ServerProcess server) {
    return pledge(
        Workload.SAGA_2,
        peakLabel(settings.peakConcurrency()),
        settings.peakConcurrency(),
        drivers,
        server);
  }

  static String peakLabel(int clients) {
    return Workload.SAGA_2.label + " at " + clients + " clients";
  }

  private Row pledge(Workload w, String label, int clients, Drivers drivers, ServerProcess server) {
    progress.printf("[%s] pledge %s%n", kind.code, label);
    CpuProbe probe = new CpuProbe(server, drivers.polls);
    String prefix = runId + "-" + label.replace(' ', '-');
    LoadLoop.Result result =
        LoadLoop.run(
            prefix,
            clients,
            settings.warmup(),
            settings.measure(),
            id -> drivers.pledge(w, id),
            probe);
    if (result.errors() > 0) {
      notes.add(
          kind.label
              + " "
              + label
              + ": "
              + result.errors()
              + " failed; last error: "
              + drivers.lastError);
    }
    return row(label, Row.PLEDGE, result, probe, probe.polls);
  }

  private Row row(
      String workload, String system, LoadLoop.Result result, CpuProbe probe, long polls) {
    double n = Math.max(1, result.completed());
    Map<ProcCpu.Group, Double> groups = new EnumMap<>(ProcCpu.Group.class);
    probe.groupNanos.forEach((group, nanos) -> groups.put(group, nanos / 1000.0 / n));
    double records = probe.logRecords;
    double commits = probe.logCommits;
    Row row =
        new Row(
            kind,
            workload,
            system,
            result.perSecond(),
            result.completed(),
            result.errors(),
            result.corrected().getValueAtPercentile(50) / 1000.0,
            result.corrected().getValueAtPercentile(99) / 1000.0,
            result.raw().getValueAtPercentile(99) / 1000.0,
            probe.server == null ? Double.NaN : probe.serverNanos / 1000.0 / n,
            groups,
            records >= 0 && commits > 0 ? records / commits : Double.NaN,
            probe.server == null ? Double.NaN : polls / n,
            probe.selfNanos / 1000.0 / n);
    progress.printf(
        "[%s]   %s %s: %.1f/s, p50 %.2f ms, p99 %.2f ms, %d errors%s%n",
        kind.code,
        system,
        workload,
        row.perSecond(),
        row.p50Millis(),
        row.p99Millis(),
        row.errors(),
        probe.server == null
            ? ""
            : String.format(
                ", coordinator CPU %.0f us/gtx, %.1f log records/commit",
                row.coordinatorCpuMicros(), row.logRecordsPerCommit()));
    return row;
  }

  /**
   * Parks tcc transactions in a fresh coordinator and weighs the heap they hold: live bytes after a
   * full GC with a few parked (so classes, caches and pools are warm), and again after the rest.
   */
  private HeapResult park(Drivers drivers) {
    int warmup = Math.min(1000, Math.max(1, settings.park() / 10));
    progress.printf(
        "[%s] heap: parking %d tcc transactions (%d first, to warm up)%n",
        kind.code, settings.park(), warmup);
    try (ServerProcess server = startServer()) {
      drivers.coordinator(server.base());
      parkMany(drivers, runId + "-warm", warmup);
      String jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd").toString();
      long before = server.liveHeapBytes(jcmd);
      long ownedBefore = (long) server.counter(OWNED_GAUGE);
      long start = System.nanoTime();
      parkMany(drivers, runId + "-park", settings.park());
      double seconds = (System.nanoTime() - start) / 1e9;
      long after = server.liveHeapBytes(jcmd);
      long ownedAfter = (long) server.counter(OWNED_GAUGE);
      HeapResult result =
          new HeapResult(
              kind, warmup, settings.park(), before, after, seconds, ownedBefore, ownedAfter);
      progress.printf(
          "[%s]   %d parked in %.1f s; live heap %d -> %d bytes: %.0f bytes per transaction;"
              + " owned in memory %d -> %d%n",
          kind.code,
          settings.park(),
          seconds,
          before,
          after,
          result.bytesPerTransaction(),
          ownedBefore,
          ownedAfter);
      return result;
    }
  }

  private void parkMany(Drivers drivers, String prefix, int count) {
    AtomicLong next = new AtomicLong();
    ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
    try (ExecutorService clients = Executors.newVirtualThreadPerTaskExecutor()) {
      List<Future<?>> futures = new ArrayList<>();
      for (int c = 0; c < settings.concurrency(); c++) {
        futures.add(
            clients.submit(() -> {
              long i;
              while ((i = next.getAndIncrement()) < count) {
                try {
                  drivers.park(prefix + "-" + i, PARK_TIMEOUT_SECONDS);
                } catch (BenchException e) {
                  failures.add(e.getMessage());
                  if (failures.size() > 100) {
                    return;
                  }
                }
              }
            }));
      }
    }
    if (!failures.isEmpty()) {
      throw new BenchException(
          failures.size() + " transactions could not be parked, first: " + failures.peek());
    }
  }

  private ServerProcess startServer() {
    servers++;
    if (kind == DbKind.POSTGRES) {
      recreateDatabase(LOG_DATABASE);
    }
    ServerProcess server = ServerProcess.start(launch(servers, servers));
    progress.printf("[%s] coordinator pid %d at %s%n", kind.code, server.pid(), server.base());
    return server;
  }

  /**
   * How to start coordinator number {@code logOf}'s successor on the same log (its data folder; on
   * PostgreSQL the same database), logging to its own file.
   */
  private ServerProcess.Launch launch(int logOf, int number) {
    return new ServerProcess.Launch(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        settings.serverClasspath(),
        settings.serverMain(),
        settings.serverJvmOptions(),
        dir.resolve("server-" + logOf),
        kind == DbKind.POSTGRES ? settings.pgUrl(LOG_DATABASE) : null,
        kind == DbKind.POSTGRES ? settings.pgUser() : null,
        kind == DbKind.POSTGRES ? settings.pgPassword() : null,
        dir.resolve("server-" + number + ".log"));
  }

  /**
   * The peers of saga-2 (only DBOS Transact), same participants, same concurrency, same PostgreSQL;
   * on SQLite, a note says why not.
   */
  private void peers(Drivers drivers) {
    if (!settings.peers().contains("dbos")) {
      return;
    }
    if (kind != DbKind.POSTGRES) {
      notes.add("DBOS Transact needs PostgreSQL for its system database: not run on " + kind.label);
      return;
    }
    progress.printf(
        "[%s] %s saga-2: the same saga as a DBOS Transact %s workflow%n",
        kind.code, DbosPeer.LABEL, DbosPeer.version());
    recreateDatabase(DbosPeer.SYSTEM_DATABASE);
    try (DbosPeer dbos =
        new DbosPeer(
            settings.pgUrl(DbosPeer.SYSTEM_DATABASE),
            settings.pgUser(),
            settings.pgPassword(),
            drivers)) {
      CpuProbe self = new CpuProbe(null, null);
      LoadLoop.Result result =
          LoadLoop.run(
              runId + "-dbos-saga-2",
              settings.concurrency(),
              settings.warmup(),
              settings.measure(),
              dbos::saga,
              self);
      if (result.completed() == 0) {
        notes.add(
            "DBOS Transact completed no saga in the measured window; last error: "
                + dbos.lastError);
      } else {
        rows.add(row(Workload.SAGA_2.label, DbosPeer.LABEL, result, self, 0));
        if (result.errors() > 0) {
          notes.add("DBOS saga-2: " + result.errors() + " failed; last error: " + dbos.lastError);
        }
      }
    } catch (RuntimeException e) {
      notes.add(
          "DBOS Transact could not be run: "
              + e.getClass().getName()
              + ": "
              + e.getMessage()
              + (e.getCause() == null ? "" : " (cause: " + e.getCause() + ")"));
      progress.printf("[%s]   DBOS failed: %s%n", kind.code, e);
    }
  }

  /** Recovery after kill -9 with transactions in flight, on a fresh coordinator. */
  private RecoveryResult recovery(Drivers drivers, Participants participants) {
    ServerProcess server = startServer();
    int first = servers;
    drivers.coordinator(server.base());
    try {
      return Recovery.measure(
          kind,
          settings.recovery(),
          settings.concurrency(),
          runId + "-recovery",
          server,
          drivers,
          participants,
          port -> {
            servers++;
            ServerProcess again =
                ServerProcess.start(launch(first, servers), port, Recovery.RESTART_TIMEOUT);
            drivers.coordinator(again.base());
            return again;
          },
          progress);
    } finally {
      server.close();
    }
  }

  private void createDatabaseIfMissing(String name) {
    try (Connection c =
            DriverManager.getConnection(
                settings.pgAdminUrl(), settings.pgUser(), settings.pgPassword());
        Statement s = c.createStatement()) {
      try (var rows = s.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'")) {
        if (rows.next()) {
          return;
        }
      }
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new BenchException("cannot create database " + name + ": " + e.getMessage(), e);
    }
  }

  private void recreateDatabase(String name) {
    try (Connection c =
            DriverManager.getConnection(
                settings.pgAdminUrl(), settings.pgUser(), settings.pgPassword());
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      s.execute("CREATE DATABASE " + name);
    } catch (SQLException e) {
      throw new BenchException("cannot recreate database " + name + ": " + e.getMessage(), e);
    }
  }

  /**
   * What the coordinator and the bench process spent in the measured window: CPU time from {@code
   * /proc}, the log's counters from {@code /metrics}, polls of the API.
   */
  private static final class CpuProbe implements LoadLoop.Probe {
    final ServerProcess server;
    private final LongAdder pollCounter;
    private final long self = ProcessHandle.current().pid();
    long serverNanos;
    long selfNanos;
    Map<ProcCpu.Group, Long> groupNanos = new EnumMap<>(ProcCpu.Group.class);
    double logRecords = -1;
    double logCommits = -1;
    long polls;
    private long serverStart;
    private long selfStart;
    private Map<ProcCpu.Group, Long> groupsStart;
    private double recordsStart;
    private double commitsStart;
    private long pollsStart;

    CpuProbe(ServerProcess server, LongAdder polls) {
      this.server = server;
      this.pollCounter = polls;
    }

    @Override
    public void windowStart() {
      selfStart = ProcCpu.processNanos(self);
      if (server != null) {
        recordsStart = server.counter("pledge_log_records_total");
        commitsStart = server.counter("pledge_log_commits_total");
        pollsStart = pollCounter.sum();
        groupsStart = ProcCpu.byGroup(server.pid());
        serverStart = server.cpuNanos();
      }
    }

    @Override
    public void windowEnd() {
      selfNanos = ProcCpu.processNanos(self) - selfStart;
      if (server != null) {
        serverNanos = server.cpuNanos() - serverStart;
        Map<ProcCpu.Group, Long> groupsEnd = ProcCpu.byGroup(server.pid());
        groupsEnd.forEach((g, v) -> groupNanos.put(g, v - groupsStart.getOrDefault(g, 0L)));
        polls = pollCounter.sum() - pollsStart;
        double records = server.counter("pledge_log_records_total");
        double commits = server.counter("pledge_log_commits_total");
        if (records >= 0 && recordsStart >= 0) {
          logRecords = records - recordsStart;
          logCommits = commits - commitsStart;
        }
      }
    }
  }
}
