package dev.pledge.bench.load;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pledge bench}: closed-loop load of every mode against a coordinator process on SQLite and
 * on PostgreSQL, with the baselines measured in the same run (R1, the database's raw single-row
 * commit rate; B0, the same business work without Pledge), and the heap held per parked
 * transaction. Writes {@code report.md}, {@code chart.png} and {@code results.csv} to the output
 * folder, and prints the report's path.
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    subcommands = {
      dev.pledge.bench.eventstore.EventStoreBench.class,
      dev.pledge.bench.brokers.BrokerBench.class,
      dev.pledge.bench.outbox.OutboxBench.class,
      XaBench.class,
      LraBench.class
    },
    description =
        "Load saga, tcc, 2pc, 3pc and msg through a coordinator process, measure the baselines in the"
            + " same run, and write a Markdown report and a PNG chart.")
public final class BenchCommand implements Callable<Integer> {
  @Option(
      names = "--db",
      description = "sqlite, postgres or both (default: ${DEFAULT-VALUE}).",
      defaultValue = "both")
  String db;

  @Option(
      names = "--seconds",
      description = "Measured seconds of every measurement (default: ${DEFAULT-VALUE}).",
      defaultValue = "15")
  int seconds;

  @Option(
      names = "--warmup-seconds",
      description = "Unmeasured warm-up before every measurement (default: ${DEFAULT-VALUE}).",
      defaultValue = "5")
  int warmupSeconds;

  @Option(
      names = "--concurrency",
      description = "Closed-loop clients (default: ${DEFAULT-VALUE}).",
      defaultValue = "32")
  int concurrency;

  @Option(
      names = "--peak-concurrency",
      description =
          "Clients of one more saga-2 run through Pledge alone, for group commit at peak load; 0"
              + " skips it (default: ${DEFAULT-VALUE}).",
      defaultValue = "128")
  int peakConcurrency;

  @Option(
      names = "--workloads",
      split = ",",
      description =
          "Comma-separated subset of saga-2,saga-5,tcc-2,tcc-5,2pc-2,2pc-5,3pc-2,msg (default:"
              + " all).")
  List<String> workloads = new ArrayList<>();

  @Option(
      names = "--park",
      description =
          "tcc transactions to park for the heap measurement; 0 skips it (default:"
              + " ${DEFAULT-VALUE}).",
      defaultValue = "100000")
  int park;

  @Option(
      names = "--peers",
      split = ",",
      description =
          "Peers measured beside saga-2 on PostgreSQL: dbos (DBOS Transact for Java, the same"
              + " 2-step saga as a DBOS workflow, system database pledge_bench_dbos). Default: none.")
  List<String> peers = new ArrayList<>();

  @Option(
      names = "--recovery",
      description =
          "saga-2 transactions held in flight (the participants hold their answers) when the"
              + " coordinator is killed with -9 and restarted: measures the time until a new"
              + " transaction is accepted and until every old one is final; 0 skips it (default:"
              + " ${DEFAULT-VALUE}).",
      defaultValue = "0")
  int recovery;

  @Option(names = "--out", description = "Output folder (default: bench-results/<UTC timestamp>).")
  Path out;

  @Option(
      names = "--pg-url",
      description =
          "JDBC URL of PostgreSQL's maintenance database; the bench creates pledge_bench and"
              + " pledge_bench_participants beside it (default: ${DEFAULT-VALUE}). Password: env"
              + " PLEDGE_DB_PASSWORD.",
      defaultValue = "jdbc:postgresql://127.0.0.1:5432/postgres")
  String pgUrl;

  @Option(
      names = "--pg-user",
      description = "PostgreSQL user (default: ${DEFAULT-VALUE}).",
      defaultValue = "postgres")
  String pgUser;

  @Option(
      names = "--server-classpath",
      description =
          "Classpath of the coordinator process, such as pledge-server/target/pledge-server.jar"
              + " (default: this JVM's).")
  String serverClasspath;

  @Option(
      names = "--server-main",
      description = "Main class of the coordinator process (default: ${DEFAULT-VALUE}).",
      defaultValue = "dev.pledge.server.Main")
  String serverMain;

  @Option(
      names = "--server-jvm-opts",
      description =
          "JVM options of the coordinator process, space-separated (default:"
              + " ${DEFAULT-VALUE}).",
      defaultValue = DEFAULT_SERVER_JVM_OPTIONS)
  String serverJvmOptions;

  @Option(
      names = "--server-aot-cache",
      description =
          "A JDK 25 AOT cache of the coordinator (bin/pledge makes pledge-server/target/"
              + "pledge-server.aot and names it here): the coordinator processes start with"
              + " -XX:AOTCache=FILE. A missing file is an error; without the option, no cache.")
  Path serverAotCache;

  /**
   * The coordinator processes' JVM options: {@code --server-jvm-opts}, then the AOT cache when one
   * is named.
   */
  List<String> serverJvmOptionList() {
    List<String> options = new ArrayList<>();
    if (!serverJvmOptions.isBlank()) {
      options.addAll(List.of(serverJvmOptions.strip().split("\\s+")));
    }
    if (serverAotCache != null) {
      if (!Files.isRegularFile(serverAotCache)) {
        throw new CommandLine.ParameterException(
            new CommandLine(this), "--server-aot-cache " + serverAotCache + ": no such file");
      }
      // The cache is refused (a line on stdout, then the JVM runs without it) unless the module
      // options match the training run's, which bin/pledge starts with this one.
      if (!options.contains("--enable-native-access=ALL-UNNAMED")) {
        options.add("--enable-native-access=ALL-UNNAMED");
      }
      options.add("-XX:AOTCache=" + serverAotCache.toAbsolutePath());
    }
    return List.copyOf(options);
  }

  /**
   * A coordinator process as this command's options say, with its embedded log in {@code folder}
   * (for a subcommand that needs one, such as the outbox bench's coordinator sink).
   */
  public ServerProcess.Launch coordinatorLaunch(Path folder) {
    return new ServerProcess.Launch(
        Path.of(System.getProperty("java.home"), "bin", "java").toString(),
        serverClasspath != null ? serverClasspath : System.getProperty("java.class.path"),
        serverMain,
        serverJvmOptionList(),
        folder.resolve("coordinator"),
        null,
        null,
        null,
        folder.resolve("coordinator.log"));
  }

  /**
   * The JDK's HTTP server leaves Nagle's algorithm on unless this property is set before its first
   * use; it then writes a response's headers and body in two segments, and the second waits for the
   * client's delayed ACK (40 ms on Linux). The participants set it; so does the coordinator,
   * through {@link #DEFAULT_SERVER_JVM_OPTIONS}.
   */
  static final String NODELAY = "sun.net.httpserver.nodelay";

  static final String DEFAULT_SERVER_JVM_OPTIONS = "-Xmx1g -D" + NODELAY + "=true";

  public static void main(String[] args) {
    System.exit(new CommandLine(new BenchCommand()).execute(args));
  }

  @Override
  public Integer call() throws IOException {
    if (System.getProperty(NODELAY) == null) {
      System.setProperty(NODELAY, "true");
    }
    PrintStream progress = System.err;
    Instant started = Instant.now();
    String stamp = stamp(started);
    BenchSettings settings = settings(stamp);
    Files.createDirectories(settings.out());
    String runId = "bench-" + stamp;
    List<String> machine = new ArrayList<>(machine());
    List<BenchRun> runs = new ArrayList<>();
    for (DbKind kind : settings.databases()) {
      String loadBefore = loadAverage();
      BenchRun run = new BenchRun(settings, kind, runId + "-" + kind.code, progress);
      runs.add(run);
      long start = System.nanoTime();
      run.run();
      machine.add(
          String.format(
              Locale.ROOT,
              "%s: %s; load average (1, 5, 15 min) %s before, %s after; %.0f s",
              kind.label,
              databaseVersion(kind, settings),
              loadBefore,
              loadAverage(),
              (System.nanoTime() - start) / 1e9));
    }
    String title =
        "Pledge benchmark, "
            + DateTimeFormatter.ISO_INSTANT.format(
                started.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    String command = "bin/pledge bench " + String.join(" ", commandLine());
    Files.writeString(
        settings.out().resolve("report.md"),
        Report.markdown(title, command, machine, settings, runs));
    Files.writeString(settings.out().resolve("results.csv"), Report.csv(runs));
    Chart.write(settings.out().resolve("chart.png"), title, runs);
    System.out.println(settings.out().resolve("report.md"));
    return 0;
  }

  BenchSettings settings(String stamp) {
    List<DbKind> databases =
        switch (db.toLowerCase(Locale.ROOT)) {
          case "both" -> List.of(DbKind.SQLITE, DbKind.POSTGRES);
          default -> List.of(DbKind.fromCode(db));
        };
    List<Workload> chosen =
        workloads.isEmpty()
            ? Arrays.asList(Workload.values())
            : workloads.stream().map(Workload::fromLabel).toList();
    if (seconds < 1) {
      throw new IllegalArgumentException("--seconds must be >= 1, got " + seconds);
    }
    if (warmupSeconds < 0) {
      throw new IllegalArgumentException("--warmup-seconds must be >= 0, got " + warmupSeconds);
    }
    return new BenchSettings(
        databases,
        chosen,
        concurrency,
        peakConcurrency,
        Duration.ofSeconds(warmupSeconds),
        Duration.ofSeconds(seconds),
        park,
        out != null ? out : resultsRoot().resolve(stamp),
        pgUrl,
        pgUser,
        System.getenv("PLEDGE_DB_PASSWORD"),
        serverClasspath != null ? serverClasspath : System.getProperty("java.class.path"),
        serverMain,
        serverJvmOptionList(),
        peers,
        recovery);
  }

  /** A run's name: the time it started, {@code yyyyMMdd-HHmmss} in UTC. */
  static String stamp(Instant started) {
    return DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(started);
  }

  /**
   * The folder of one bench's results: {@code out} when given, else {@code <name>-<stamp>} under
   * the results root.
   */
  static Path resultsFolder(Path out, String name, Instant started) {
    return out != null ? out : resultsRoot().resolve(name + "-" + stamp(started));
  }

  /** bin/pledge names the repository's bench-results/ folder; otherwise it is under the cwd. */
  private static Path resultsRoot() {
    String root = System.getenv("PLEDGE_BENCH_RESULTS");
    return root == null || root.isBlank() ? Path.of("bench-results") : Path.of(root);
  }

  private List<String> commandLine() {
    List<String> args = new ArrayList<>();
    args.add("--db " + db);
    args.add("--seconds " + seconds);
    args.add("--warmup-seconds " + warmupSeconds);
    args.add("--concurrency " + concurrency);
    args.add("--peak-concurrency " + peakConcurrency);
    if (!workloads.isEmpty()) {
      args.add("--workloads " + String.join(",", workloads));
    }
    args.add("--park " + park);
    if (!peers.isEmpty()) {
      args.add("--peers " + String.join(",", peers));
    }
    if (recovery > 0) {
      args.add("--recovery " + recovery);
    }
    return args;
  }

  private static List<String> machine() {
    List<String> lines = new ArrayList<>();
    lines.add(
        String.format(
            Locale.ROOT,
            "%d cores (`nproc`), CPU `%s`, %s memory, %s %s",
            Runtime.getRuntime().availableProcessors(),
            cpuModel(),
            memory(),
            System.getProperty("os.name"),
            System.getProperty("os.version")));
    lines.add(
        "JDK "
            + System.getProperty("java.vm.vendor")
            + " "
            + System.getProperty("java.runtime.version")
            + " for the bench and the coordinator processes");
    lines.add(
        "the machine is shared (other engineers build and test on it): read the ratios, and the"
            + " load averages below");
    return lines;
  }

  private static String cpuModel() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"))) {
        if (line.startsWith("model name")) {
          return line.substring(line.indexOf(':') + 1).strip();
        }
      }
    } catch (IOException e) {
      // not Linux: say so below
    }
    return "unknown";
  }

  private static String memory() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/meminfo"))) {
        if (line.startsWith("MemTotal:")) {
          long kib = Long.parseLong(line.replaceAll("[^0-9]", ""));
          return String.format(Locale.ROOT, "%.0f GiB", kib / 1024.0 / 1024.0);
        }
      }
    } catch (IOException | NumberFormatException e) {
      // unknown
    }
    return "unknown";
  }

  static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return parts[0] + ", " + parts[1] + ", " + parts[2];
    } catch (IOException e) {
      return "unknown";
    }
  }

  private static String databaseVersion(DbKind kind, BenchSettings settings) {
    String url = kind == DbKind.SQLITE ? "jdbc:sqlite::memory:" : settings.pgAdminUrl();
    String sql =
        kind == DbKind.SQLITE ? "SELECT 'SQLite ' || sqlite_version()" : "SHOW server_version";
    try (Connection c =
            kind == DbKind.SQLITE
                ? DriverManager.getConnection(url)
                : DriverManager.getConnection(url, settings.pgUser(), settings.pgPassword());
        Statement s = c.createStatement();
        ResultSet rows = s.executeQuery(sql)) {
      rows.next();
      String version = rows.getString(1);
      return (kind == DbKind.POSTGRES ? "PostgreSQL " : "")
          + version
          + " (WAL, synchronous commit)";
    } catch (SQLException e) {
      return "version unknown (" + e.getMessage() + ")";
    }
  }
}
