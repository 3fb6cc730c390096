package dev.pledge.bench.eventstore;

import dev.pledge.eventstore.AppendResult;
import dev.pledge.eventstore.EventData;
import dev.pledge.eventstore.EventStore;
import dev.pledge.eventstore.EventStoreConfig;
import dev.pledge.eventstore.ExpectedVersion;
import dev.pledge.eventstore.RecordedEvent;
import dev.pledge.eventstore.Subscription;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.IntStream;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pledge bench eventstore}: the event store's throughput and latency, with its baselines and
 * its peer measured in the same run.
 *
 * <ul>
 *   <li><b>R1</b>: closed-loop single-row INSERT and COMMIT on the same database, same concurrency
 *       (each client its own connection; SQLite one connection, as it has one writer).
 *   <li><b>append-1</b>, <b>append-10</b>: closed-loop appends of 1 and 10 events, each client to
 *       its own stream with the exact expected version (the optimistic check is paid every time).
 *   <li><b>catch-up</b>: every event read from position 0 in pages of 5,000 ({@code readAll}), as a
 *       subscription catching up reads them, without and with decoding the JSON into records.
 *   <li><b>live lag</b>: a subscription in this process follows a writer that appends one event
 *       every {@code 1/lag-rate} s; lag is from just before {@code append} is called (so it
 *       includes the commit) to the handler.
 *   <li><b>Axon</b> (PostgreSQL): the same append-1, append-10 and catch-up through Axon Framework
 *       4's {@code JdbcEventStorageEngine} on the same server.
 * </ul>
 */
@Command(
    name = "eventstore",
    mixinStandardHelpOptions = true,
    description =
        "Event store: appends of 1 and 10 events against R1, catch-up read rate, live"
            + " subscription lag, and Axon's JdbcEventStorageEngine on the same PostgreSQL.")
public final class EventStoreBench implements Callable<Integer> {
  @Option(
      names = "--db",
      split = ",",
      description = "postgres, mariadb, sqlite, comma-separated (default: ${DEFAULT-VALUE}).",
      defaultValue = "postgres")
  List<String> databases;

  @Option(names = "--seconds", defaultValue = "10", description = "Measured seconds per run.")
  int seconds;

  @Option(names = "--warmup-seconds", defaultValue = "3", description = "Warm-up per run.")
  int warmupSeconds;

  @Option(names = "--concurrency", defaultValue = "32", description = "Closed-loop clients.")
  int concurrency;

  @Option(
      names = "--catchup-events",
      defaultValue = "300000",
      description = "Events in the store before the catch-up read.")
  int catchupEvents;

  @Option(
      names = "--catchup-warmup-passes",
      defaultValue = "1",
      description =
          "Untimed reads of every event (raw, then decoded) before the timed catch-up"
              + " (default ${DEFAULT-VALUE}).")
  int catchupWarmupPasses;

  @Option(names = "--lag-rate", defaultValue = "200", description = "Appends/s of the lag run.")
  int lagRate;

  @Option(
      names = "--writer-connections",
      defaultValue = "1",
      description =
          "Batches the store's writer keeps in flight (PostgreSQL; default ${DEFAULT-VALUE}).")
  int writerConnections;

  @Option(
      names = "--axon",
      arity = "1",
      defaultValue = "true",
      description = "Run the Axon comparison: true or false.")
  boolean axon;

  @Option(
      names = "--pg-url",
      defaultValue = "jdbc:postgresql://127.0.0.1:5432/postgres",
      description =
          "PostgreSQL maintenance database; pledge_es_bench (<PLEDGE_BENCH_DB>_es when set) is"
              + " created beside it.")
  String pgUrl;

  @Option(names = "--pg-user", defaultValue = "postgres")
  String pgUser;

  @Option(
      names = "--mariadb-url",
      defaultValue = "jdbc:mariadb://127.0.0.1:3306/",
      description =
          "MariaDB server; database pledge_es_bench (<PLEDGE_BENCH_DB>_es when set) is created on"
              + " it.")
  String mariadbUrl;

  @Option(names = "--mariadb-user", defaultValue = "root")
  String mariadbUser;

  @Option(names = "--out", description = "Output folder (default: bench-results/<UTC stamp>-es).")
  Path out;

  /**
   * {@code pledge_es_bench}, or {@code <PLEDGE_BENCH_DB>_es} when that env variable is set (so that
   * engineers sharing one server do not drop each other's databases).
   */
  static final String DB = databaseName();

  private static String databaseName() {
    String name = System.getenv("PLEDGE_BENCH_DB");
    if (name == null || name.isBlank()) {
      return "pledge_es_bench";
    }
    if (!name.matches("[a-z_][a-z0-9_]{0,40}")) {
      throw new IllegalArgumentException(
          "PLEDGE_BENCH_DB must be a lower-case SQL name, not " + name);
    }
    return name + "_es";
  }

  private final List<String> lines = new ArrayList<>();

  @Override
  public Integer call() throws Exception {
    if (seconds < 1
        || warmupSeconds < 0
        || concurrency < 1
        || concurrency > 128
        || catchupWarmupPasses < 0) {
      throw new IllegalArgumentException(
          "need --seconds >= 1, --warmup-seconds >= 0, --concurrency in [1, 128],"
              + " --catchup-warmup-passes >= 0");
    }
    Instant started = Instant.now();
    String stamp =
        DateTimeFormatter.ofPattern("yyyyMMdd-HHmmss").withZone(ZoneOffset.UTC).format(started);
    Path folder =
        out != null
            ? out
            : Path.of(System.getenv().getOrDefault("PLEDGE_BENCH_RESULTS", "bench-results"))
                .resolve(stamp + "-es");
    Files.createDirectories(folder);
    lines.add(
        "# Event store benchmark, " + started.truncatedTo(java.time.temporal.ChronoUnit.SECONDS));
    lines.add("");
    lines.add(
        String.format(
            Locale.ROOT,
            "`bin/pledge bench eventstore --db %s --seconds %d --warmup-seconds %d --concurrency %d"
                + " --catchup-events %d --catchup-warmup-passes %d --lag-rate %d"
                + " --writer-connections %d` (database %s)",
            String.join(",", databases),
            seconds,
            warmupSeconds,
            concurrency,
            catchupEvents,
            catchupWarmupPasses,
            lagRate,
            writerConnections,
            DB));
    lines.add("");
    lines.add(
        "Cores: "
            + Runtime.getRuntime().availableProcessors()
            + "; JDK "
            + Runtime.version()
            + "; load average at start: "
            + loadAverage());
    Path report = folder.resolve("report.md");
    for (String db : databases) {
      runDatabase(db.trim().toLowerCase(Locale.ROOT), folder);
      Files.writeString(report, String.join("\n", lines) + "\n");
    }
    lines.add("");
    lines.add("Load average at the end: " + loadAverage());
    Files.writeString(report, String.join("\n", lines) + "\n");
    System.out.println(report);
    return 0;
  }

  private void runDatabase(String db, Path folder) throws Exception {
    EventStoreConfig config;
    Connections r1;
    switch (db) {
      case "postgres" -> {
        recreatePostgres();
        String url = pgUrl.substring(0, pgUrl.lastIndexOf('/') + 1) + DB;
        config = EventStoreConfig.forUrl(url).withCredentials(pgUser, password());
        r1 = Connections.jdbc(url, pgUser, password(), concurrency);
      }
      case "mariadb" -> {
        try (Connection c = DriverManager.getConnection(mariadbUrl, mariadbUser, "");
            Statement s = c.createStatement()) {
          s.execute("DROP DATABASE IF EXISTS " + DB);
          s.execute("CREATE DATABASE " + DB);
        }
        String url = mariadbUrl + DB;
        config = EventStoreConfig.forUrl(url).withCredentials(mariadbUser, "");
        r1 = Connections.jdbc(url, mariadbUser, "", concurrency);
      }
      case "sqlite" -> {
        Path dir = Files.createTempDirectory(folder, "sqlite");
        config = EventStoreConfig.forUrl("jdbc:sqlite:" + dir.resolve("events.db"));
        r1 = Connections.sqlite(dir.resolve("r1.db"));
      }
      default -> throw new IllegalArgumentException("--db: unknown database '" + db + "'");
    }
    config =
        config
            .withPoolSize(Math.min(64, concurrency + 4 + writerConnections))
            .withWriterConnections(writerConnections);
    lines.add("");
    lines.add("## " + db + " (load average before: " + loadAverage() + ")");
    lines.add("");
    lines.add("| measurement | rate | p50 | p99 | ratio |");
    lines.add("|---|---:|---:|---:|---|");
    Result baseline;
    try (r1) {
      r1.execute(
          "CREATE TABLE IF NOT EXISTS bench_r1 (id BIGINT PRIMARY KEY, v VARCHAR(128) NOT NULL)");
      baseline = closedLoop("R1", (client, i) -> r1.insertOne(client, i));
    }
    row("R1: single-row INSERT + COMMIT", baseline, "1.00 × R1");
    Result one;
    Result ten;
    try (EventStore store = EventStore.open(config)) {
      one = closedLoop("append-1", appends(store, "one", 1));
      row(
          "append, 1 event per append (appends/s)",
          one,
          String.format(Locale.ROOT, "%.2f × R1", one.rate() / baseline.rate()));
      ten = closedLoop("append-10", appends(store, "ten", 10));
      row(
          "append, 10 events per append (appends/s)",
          ten,
          String.format(
              Locale.ROOT,
              "%.2f × R1; %,.0f events/s",
              ten.rate() / baseline.rate(),
              ten.rate() * 10));
      fill(store);
      catchUp(store);
      lag(store);
    }
    if (db.equals("postgres") && axon) {
      try {
        axon(baseline, one, ten);
      } catch (RuntimeException e) {
        lines.add("| Axon comparison failed: " + e + " | | | | |");
      }
    }
  }

  private void axon(Result baseline, Result one, Result ten) throws InterruptedException {
    {
      String url = pgUrl.substring(0, pgUrl.lastIndexOf('/') + 1) + DB;
      try (AxonPeer peer = new AxonPeer(url, pgUser, password(), concurrency + 4)) {
        Result axonOne = closedLoop("axon-1", (client, i) -> peer.append(client, i, 1));
        row(
            "Axon JdbcEventStorageEngine, 1 event per append",
            axonOne,
            String.format(
                Locale.ROOT,
                "%.2f × R1; Pledge append-1 is %.2f × Axon",
                axonOne.rate() / baseline.rate(),
                one.rate() / axonOne.rate()));
        Result axonTen = closedLoop("axon-10", (client, i) -> peer.append(client, i, 10));
        row(
            "Axon JdbcEventStorageEngine, 10 events per append",
            axonTen,
            String.format(
                Locale.ROOT,
                "%.2f × R1; Pledge append-10 is %.2f × Axon",
                axonTen.rate() / baseline.rate(),
                ten.rate() / axonTen.rate()));
        peer.fill(catchupEvents);
        for (int warm = 0; warm < catchupWarmupPasses; warm++) {
          peer.readAll(); // untimed, as for Pledge's catch-up
        }
        long start = System.nanoTime();
        long count = peer.readAll();
        double perSecond = count / ((System.nanoTime() - start) / 1e9);
        lines.add(
            String.format(
                Locale.ROOT,
                "| Axon catch-up: readEvents from the tail, %,d events, after %d untimed pass(es)"
                    + " (events/s) | %,.0f | | | |",
                count,
                catchupWarmupPasses,
                perSecond));
      }
    }
  }

  interface Op {
    void run(int client, long i) throws Exception;
  }

  record Result(long ops, double seconds, Histogram latencyMicros) {
    double rate() {
      return ops / seconds;
    }
  }

  private Op appends(EventStore store, String name, int events) {
    long[] versions = new long[concurrency];
    String prefix = name + "-" + System.nanoTime() + "-";
    return (client, i) -> {
      List<EventData> batch =
          IntStream.range(0, events)
              .mapToObj(e ->
                  new EventData(
                      "stock-reserved",
                      1,
                      "{\"sku\":\"sku-"
                          + client
                          + "\",\"units\":"
                          + e
                          + ",\"order\":\"o-"
                          + i
                          + "\"}",
                      Map.of()))
              .toList();
      AppendResult result =
          store.append(prefix + client, ExpectedVersion.exactly(versions[client]), batch);
      versions[client] = result.nextExpectedVersion();
    };
  }

  /** Closed loop: {@code concurrency} clients, warm-up, then a measured window. */
  private Result closedLoop(String name, Op op) throws InterruptedException {
    System.err.printf("[es-bench] %s%n", name);
    ConcurrentHistogram latency = new ConcurrentHistogram(3);
    long[] counts = new long[concurrency];
    long warmupEnd = System.nanoTime() + TimeUnit.SECONDS.toNanos(warmupSeconds);
    long end = warmupEnd + TimeUnit.SECONDS.toNanos(seconds);
    List<Thread> clients = new ArrayList<>();
    List<Throwable> failures = java.util.Collections.synchronizedList(new ArrayList<>());
    for (int c = 0; c < concurrency; c++) {
      int client = c;
      clients.add(
          Thread.ofPlatform()
              .start(() -> {
                long i = 0;
                while (true) {
                  long t0 = System.nanoTime();
                  if (t0 >= end) {
                    return;
                  }
                  try {
                    op.run(client, i++);
                  } catch (Exception e) {
                    failures.add(e);
                    return;
                  }
                  long t1 = System.nanoTime();
                  if (t0 >= warmupEnd && t1 <= end) {
                    counts[client]++;
                    latency.recordValue(Math.max(1, (t1 - t0) / 1000));
                  }
                }
              }));
    }
    for (Thread t : clients) {
      t.join();
    }
    if (!failures.isEmpty()) {
      throw new IllegalStateException(
          name + " failed: " + failures.getFirst(), failures.getFirst());
    }
    long total = 0;
    for (long c : counts) {
      total += c;
    }
    return new Result(total, seconds, latency);
  }

  private void row(String what, Result r, String ratio) {
    lines.add(
        String.format(
            Locale.ROOT,
            "| %s | %,.0f | %.1f ms | %.1f ms | %s |",
            what,
            r.rate(),
            r.latencyMicros().getValueAtPercentile(50) / 1000.0,
            r.latencyMicros().getValueAtPercentile(99) / 1000.0,
            ratio));
  }

  /** Tops the store up to {@code catchupEvents} events with appends of 500. */
  private void fill(EventStore store) throws Exception {
    System.err.printf("[es-bench] filling to %,d events%n", catchupEvents);
    List<EventData> batch =
        IntStream.range(0, 500)
            .mapToObj(e ->
                new EventData(
                    "stock-reserved",
                    1,
                    "{\"sku\":\"sku-fill\",\"units\":" + e + ",\"order\":\"o-fill\"}",
                    Map.of()))
            .toList();
    List<java.util.concurrent.CompletableFuture<AppendResult>> inFlight = new ArrayList<>();
    // Events counted, not the head position: PostgreSQL's positions leave gaps (they carry the
    // writer's transaction id, docs/eventstore.md "Positions").
    long head;
    try (var c = store.dataSource().getConnection();
        var s = c.createStatement();
        var rows = s.executeQuery("SELECT count(*) FROM es_events")) {
      rows.next();
      head = rows.getLong(1);
    }
    int stream = 0;
    while (head < catchupEvents) {
      for (int k = 0; k < 8 && head < catchupEvents; k++, head += 500) {
        inFlight.add(store.appendAsync("fill-" + (stream++ % 64), ExpectedVersion.any(), batch));
      }
      for (var f : inFlight) {
        f.get(2, TimeUnit.MINUTES);
      }
      inFlight.clear();
    }
  }

  record Decoded(String sku, long units, String order) {}

  private void catchUp(EventStore store) {
    System.err.println("[es-bench] catch-up");
    dev.pledge.eventstore.EventCodec codec =
        dev.pledge.eventstore.EventCodec.builder()
            .register("stock-reserved", Decoded.class)
            .build();
    // Untimed passes first: a subscription catching up in a running service runs code the JIT has
    // compiled; the first pass of a fresh JVM mostly measures the interpreter and class loading.
    for (int warm = 0; warm < catchupWarmupPasses; warm++) {
      System.err.printf("[es-bench] catch-up warm-up pass %d (untimed)%n", warm + 1);
      readEverything(store, codec, false);
      readEverything(store, codec, true);
    }
    for (boolean decode : new boolean[] {false, true}) {
      long start = System.nanoTime();
      long[] countAndChecksum = readEverything(store, codec, decode);
      double rate = countAndChecksum[0] / ((System.nanoTime() - start) / 1e9);
      lines.add(
          String.format(
              Locale.ROOT,
              "| catch-up: readAll from 0 in pages of 5,000, %,d events%s, after %d untimed"
                  + " pass(es) (events/s) | %,.0f | | | %.2f × the 300,000 target |",
              countAndChecksum[0],
              decode ? ", JSON decoded to records (checksum " + countAndChecksum[1] + ")" : "",
              catchupWarmupPasses,
              rate,
              rate / 300_000));
    }
  }

  /** Reads every event from position 0; returns the count and the decoded units' sum. */
  private static long[] readEverything(
      EventStore store, dev.pledge.eventstore.EventCodec codec, boolean decode) {
    long count = 0;
    long position = 0;
    long checksum = 0;
    while (true) {
      List<RecordedEvent> page = store.readAll(position, 5000);
      if (page.isEmpty()) {
        break;
      }
      for (RecordedEvent e : page) {
        if (decode) {
          checksum += codec.decode(e, Decoded.class).units();
        }
      }
      count += page.size();
      position = page.getLast().position();
    }
    return new long[] {count, checksum};
  }

  private void lag(EventStore store) throws InterruptedException {
    System.err.println("[es-bench] live lag");
    Histogram lag = new ConcurrentHistogram(3);
    Histogram commit = new ConcurrentHistogram(3);
    String stream = "lag-" + System.nanoTime();
    long from = store.headPosition();
    long measured = (long) seconds * lagRate;
    try (Subscription subscription =
        store.subscribe(
            "bench-lag",
            from,
            e -> {
              String sent = e.metadata().get("sent");
              if (sent != null) {
                lag.recordValue(Math.max(1, (System.nanoTime() - Long.parseLong(sent)) / 1000));
              }
            })) {
      long interval = TimeUnit.SECONDS.toNanos(1) / lagRate;
      long next = System.nanoTime();
      for (long i = 0; i < measured; i++) {
        next += interval;
        long t0 = System.nanoTime();
        store.append(
            stream,
            ExpectedVersion.any(),
            new EventData("tick", 1, "{\"i\":" + i + "}", Map.of("sent", Long.toString(t0))));
        commit.recordValue(Math.max(1, (System.nanoTime() - t0) / 1000));
        long wait = next - System.nanoTime();
        if (wait > 0) {
          LockSupport.parkNanos(wait);
        }
      }
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(30);
      while (lag.getTotalCount() < measured && System.nanoTime() < deadline) {
        LockSupport.parkNanos(TimeUnit.MILLISECONDS.toNanos(10));
      }
    }
    lines.add(
        String.format(
            Locale.ROOT,
            "| live lag: append called → handler, %d appends/s, %,d events delivered of %,d | | %.1f ms | %.1f ms | p99 %.2f × the 50 ms target; the append's own commit: p50 %.1f ms, p99 %.1f ms |",
            lagRate,
            lag.getTotalCount(),
            measured,
            lag.getValueAtPercentile(50) / 1000.0,
            lag.getValueAtPercentile(99) / 1000.0,
            lag.getValueAtPercentile(99) / 1000.0 / 50,
            commit.getValueAtPercentile(50) / 1000.0,
            commit.getValueAtPercentile(99) / 1000.0));
  }

  private void recreatePostgres() throws SQLException {
    try (Connection c = DriverManager.getConnection(pgUrl, pgUser, password());
        Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + DB + " WITH (FORCE)");
      s.execute("CREATE DATABASE " + DB);
    }
  }

  private static String password() {
    return System.getenv().getOrDefault("PLEDGE_DB_PASSWORD", "");
  }

  static String loadAverage() {
    try {
      String[] parts = Files.readString(Path.of("/proc/loadavg")).split(" ");
      return parts[0] + " " + parts[1] + " " + parts[2];
    } catch (IOException e) {
      return "unknown";
    }
  }
}
