package dev.pledge.bench.outbox;

import com.sun.net.httpserver.HttpServer;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import dev.pledge.bench.load.BenchCommand;
import dev.pledge.bench.load.ServerProcess;
import dev.pledge.broker.rabbitmq.RabbitMqSinkProvider;
import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.inbox.Inbox;
import dev.pledge.client.outbox.CoordinatorSink;
import dev.pledge.client.outbox.Outbox;
import dev.pledge.client.outbox.OutboxRelay;
import dev.pledge.client.outbox.RelayConfig;
import dev.pledge.client.outbox.RelayListener;
import dev.pledge.client.participant.Participant;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.nio.file.Files;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import org.HdrHistogram.ConcurrentHistogram;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;

/**
 * {@code pledge bench outbox}: the SDK's outbox relay and inbox on PostgreSQL against the same
 * database without them, measured in the same run, alternating rounds so that load drifts hit both.
 *
 * <ul>
 *   <li><b>raw commits</b>: {@code --writers} threads, each committing one single-row insert per
 *       transaction, for {@code --seconds}; commits per second.
 *   <li><b>outbox, live</b>: the same writers, each transaction inserting its business row and an
 *       outbox row ({@link Outbox#publish}), while one {@link OutboxRelay} publishes to the sink;
 *       messages acknowledged by the sink per second over the same time, and the commit-to-publish
 *       latency (row written to the sink's acknowledgement, {@link RelayListener#published}) p50
 *       and p99.
 *   <li><b>relay drain</b>: a backlog of {@code --backlog} committed rows, published by one relay
 *       from first batch to last acknowledgement; messages per second.
 *   <li><b>inbox overhead</b>: one consumer handling {@code --inbox-messages} messages one at a
 *       time, each effect (one insert) in its own transaction, without and with {@link
 *       Inbox#handle}; the overhead is 1 - (with / without).
 * </ul>
 *
 * <p>The sink is {@code instant} (in this process, acknowledging each publish at once, so the
 * figures are the relay's and the database's), {@code rabbitmq} (the RabbitMQ sink, persistent with
 * publisher confirms, on 127.0.0.1:5672) or {@code coordinator} (a coordinator process with its
 * embedded log, each row a {@code msg} transaction that the {@link CoordinatorSink} creates,
 * commits and awaits until it is delivered to a subscriber over HTTP in this process).
 */
@Command(
    name = "outbox",
    mixinStandardHelpOptions = true,
    description =
        "The SDK's outbox relay against the raw single-row commit rate of the same PostgreSQL, with"
            + " commit-to-publish p50/p99, and the inbox's overhead against the same consumer"
            + " without it.")
public final class OutboxBench implements Callable<Integer> {
  @Option(
      names = "--pg-url",
      description =
          "PostgreSQL database (created when missing; default:"
              + " jdbc:postgresql://127.0.0.1:5432/pledge_bench_outbox, or <PLEDGE_BENCH_DB>_outbox"
              + " when that env variable is set).")
  String pgUrl;

  @Option(names = "--pg-user", defaultValue = "postgres", description = "PostgreSQL user.")
  String pgUser;

  @Option(names = "--seconds", defaultValue = "10", description = "Seconds per timed run.")
  int seconds;

  @Option(names = "--writers", defaultValue = "8", description = "Writer threads.")
  int writers;

  @Option(names = "--rounds", defaultValue = "3", description = "Alternating rounds (median).")
  int rounds;

  @Option(names = "--backlog", defaultValue = "20000", description = "Rows of the drain run.")
  int backlog;

  @Option(
      names = "--inbox-messages",
      defaultValue = "5000",
      description = "Messages per inbox measurement.")
  int inboxMessages;

  @Option(
      names = "--sink",
      defaultValue = "instant",
      description =
          "instant (in-process, acknowledges at once), rabbitmq, or coordinator (a Pledge"
              + " coordinator process: each row a msg transaction, acknowledged once delivered to"
              + " an HTTP subscriber in this process).")
  String sinkKind;

  @Option(
      names = "--no-notify",
      description =
          "Publish with Outbox.withoutNotify() (no NOTIFY; relays find rows after idleWait).")
  boolean noNotify;

  @ParentCommand BenchCommand parent;

  /** The coordinator sink's pieces, when {@code --sink coordinator}. */
  private ServerProcess coordinator;

  private PledgeClient pledge;
  private HttpServer subscriber;
  private String checkUrl;
  private final LongAdder delivered = new LongAdder();

  private static final String PAYLOAD = "{\"orderId\":\"o-00001\",\"sku\":\"sku-1\",\"qty\":2}";

  private HikariDataSource dataSource;

  @Override
  public Integer call() throws Exception {
    if (seconds < 1 || seconds > 600 || writers < 1 || writers > 256 || rounds < 1) {
      throw new IllegalArgumentException(
          "--seconds must be 1 to 600, --writers 1 to 256, --rounds at least 1");
    }
    if (backlog < 1 || backlog > 1_000_000 || inboxMessages < 1 || inboxMessages > 1_000_000) {
      throw new IllegalArgumentException("--backlog and --inbox-messages must be 1 to 1000000");
    }
    if (!List.of("instant", "rabbitmq", "coordinator").contains(sinkKind)) {
      throw new IllegalArgumentException(
          "--sink must be instant, rabbitmq or coordinator, got " + sinkKind);
    }
    if (pgUrl == null) {
      String prefix = System.getenv("PLEDGE_BENCH_DB");
      if (prefix != null && !prefix.matches("[a-z_][a-z0-9_]{0,40}")) {
        throw new IllegalArgumentException("PLEDGE_BENCH_DB must be a lower-case SQL name");
      }
      pgUrl =
          "jdbc:postgresql://127.0.0.1:5432/"
              + (prefix == null || prefix.isBlank() ? "pledge_bench" : prefix)
              + "_outbox";
    }
    createDatabase();
    if (sinkKind.equals("coordinator")) {
      startCoordinator();
    }
    HikariConfig config = new HikariConfig();
    config.setJdbcUrl(pgUrl);
    config.setUsername(pgUser);
    config.setMaximumPoolSize(writers + 4);
    dataSource = new HikariDataSource(config);
    try {
      return run();
    } finally {
      dataSource.close();
      if (coordinator != null) {
        pledge.close();
        subscriber.stop(0);
        coordinator.close();
      }
    }
  }

  /**
   * A coordinator process (embedded log in a temporary folder), an HTTP subscriber here that
   * acknowledges every delivery of topic {@code bench}, and the relay's check-back endpoint.
   */
  private void startCoordinator() throws IOException {
    if (parent == null) {
      throw new IllegalArgumentException("--sink coordinator runs only as `pledge bench outbox`");
    }
    coordinator =
        ServerProcess.start(parent.coordinatorLaunch(Files.createTempDirectory("outbox-")));
    subscriber = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 512);
    subscriber.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
    subscriber.createContext("/deliver", Participant.deliveries(m -> delivered.increment()));
    subscriber.createContext("/check", CoordinatorSink.checkBack());
    subscriber.start();
    String self = "http://127.0.0.1:" + subscriber.getAddress().getPort();
    checkUrl = self + "/check";
    pledge = PledgeClient.create(PledgeClientConfig.of(coordinator.base()));
    pledge.subscribe("bench-outbox", "bench", self + "/deliver");
  }

  private int run() throws Exception {
    String loadBefore = loadAverage();
    reset();
    List<Double> raw = new ArrayList<>();
    List<Double> live = new ArrayList<>();
    List<Double> liveWriters = new ArrayList<>();
    List<Double> drain = new ArrayList<>();
    List<Double> plain = new ArrayList<>();
    List<Double> inbox = new ArrayList<>();
    ConcurrentHistogram latency = new ConcurrentHistogram(3);
    // Warm-up, unmeasured: a short run of each.
    int measured = seconds;
    seconds = Math.max(1, seconds / 5);
    rawRun();
    liveRun(new ConcurrentHistogram(3));
    seconds = measured;
    reset();
    for (int round = 0; round < rounds; round++) {
      raw.add(rawRun());
      double[] liveRates = liveRun(latency);
      live.add(liveRates[0]);
      liveWriters.add(liveRates[1]);
      drain.add(drainRun());
      plain.add(consumerRun(false));
      inbox.add(consumerRun(true));
      reset();
    }
    double rawRate = median(raw);
    double liveRate = median(live);
    double drainRate = median(drain);
    double plainRate = median(plain);
    double inboxRate = median(inbox);
    System.out.printf(
        Locale.ROOT,
        "%n| measurement | per second | vs raw commits |%n|---|---|---|%n"
            + "| raw single-row commits (%d writers) | %.0f | 1.00 |%n"
            + "| outbox, live: messages acknowledged by the sink | %.0f | %.2f |%n"
            + "| outbox, live: the writers' commits (business row + outbox row) | %.0f | %.2f |%n"
            + "| relay drain of a %d-row backlog | %.0f | %.2f |%n",
        writers,
        rawRate,
        liveRate,
        liveRate / rawRate,
        median(liveWriters),
        median(liveWriters) / rawRate,
        backlog,
        drainRate,
        drainRate / rawRate);
    System.out.printf(
        Locale.ROOT,
        "%ncommit-to-publish (outbox row written to the sink's acknowledgement, live runs): p50"
            + " %.1f ms, p99 %.1f ms, %d messages%n",
        latency.getValueAtPercentile(50) / 1000.0,
        latency.getValueAtPercentile(99) / 1000.0,
        latency.getTotalCount());
    System.out.printf(
        Locale.ROOT,
        "%n| consumer (one at a time, one insert per message) | messages/s |%n|---|---|%n"
            + "| without the inbox | %.0f |%n| with the inbox | %.0f |%n%n"
            + "inbox overhead: %.1f %% (1 - with / without)%n",
        plainRate,
        inboxRate,
        (1 - inboxRate / plainRate) * 100);
    System.out.printf(
        Locale.ROOT,
        "%nPostgreSQL %s%s, sink %s%s, %d s per timed run, %d alternating rounds (median); load"
            + " average before %s, after %s; %d processors.%n",
        pgUrl,
        noNotify ? " (outbox without NOTIFY)" : "",
        sinkKind,
        coordinator == null
            ? ""
            : " (" + delivered.sum() + " deliveries acknowledged by the subscriber)",
        seconds,
        rounds,
        loadBefore,
        loadAverage(),
        Runtime.getRuntime().availableProcessors());
    return 0;
  }

  private void createDatabase() throws SQLException {
    int slash = pgUrl.lastIndexOf('/');
    String name = pgUrl.substring(slash + 1).replaceFirst("\\?.*", "");
    if (!name.matches("[a-z0-9_]{1,63}")) {
      throw new IllegalArgumentException("--pg-url's database must match [a-z0-9_]{1,63}");
    }
    try (Connection admin =
            DriverManager.getConnection(pgUrl.substring(0, slash + 1) + "postgres", pgUser, null);
        Statement statement = admin.createStatement()) {
      try (var rows =
          statement.executeQuery("SELECT 1 FROM pg_database WHERE datname = '" + name + "'")) {
        if (rows.next()) {
          return;
        }
      }
      statement.execute("CREATE DATABASE " + name);
    }
  }

  /** Empty tables, so each round starts alike. */
  private void reset() throws SQLException {
    try (Connection c = dataSource.getConnection();
        Statement s = c.createStatement()) {
      s.execute(
          "CREATE TABLE IF NOT EXISTS bench_row (id BIGSERIAL PRIMARY KEY, payload TEXT NOT NULL)");
      s.execute(
          "CREATE TABLE IF NOT EXISTS bench_effect (id BIGSERIAL PRIMARY KEY, message_id TEXT NOT"
              + " NULL)");
      Outbox.migrate(c, dev.pledge.client.sql.Dialect.POSTGRESQL);
      Inbox.migrate(c, dev.pledge.client.sql.Dialect.POSTGRESQL);
      s.execute("TRUNCATE bench_row, bench_effect, pledge_outbox, pledge_inbox");
      s.execute("VACUUM ANALYZE");
    }
  }

  /** A unit of one writer's transaction. */
  @FunctionalInterface
  private interface Work {
    void run(Connection connection) throws SQLException;
  }

  /** Runs the writers for {@code seconds}; answers their commits per second. */
  private double write(Work work) throws InterruptedException {
    AtomicBoolean stop = new AtomicBoolean();
    AtomicLong commits = new AtomicLong();
    AtomicLong failures = new AtomicLong();
    CountDownLatch done = new CountDownLatch(writers);
    long start = System.nanoTime();
    for (int i = 0; i < writers; i++) {
      Thread.ofPlatform()
          .name("bench-writer-" + i)
          .start(() -> {
            try (Connection c = dataSource.getConnection()) {
              c.setAutoCommit(false);
              while (!stop.get()) {
                work.run(c);
                c.commit();
                commits.incrementAndGet();
              }
            } catch (SQLException e) {
              failures.incrementAndGet();
              System.err.println("writer failed: " + e);
            } finally {
              done.countDown();
            }
          });
    }
    Thread.sleep(Duration.ofSeconds(seconds));
    stop.set(true);
    done.await();
    if (failures.get() > 0) {
      throw new IllegalStateException(failures.get() + " writers failed; see above");
    }
    return commits.get() / ((System.nanoTime() - start) / 1e9);
  }

  private double rawRun() throws InterruptedException {
    return write(c -> {
      try (PreparedStatement insert =
          c.prepareStatement("INSERT INTO bench_row (payload) VALUES (?)")) {
        insert.setString(1, PAYLOAD);
        insert.executeUpdate();
      }
    });
  }

  private MessageSink openSink() {
    if (sinkKind.equals("rabbitmq")) {
      return new RabbitMqSinkProvider()
          .open(
              URI.create(
                  "amqp://guest:guest@127.0.0.1:5672/%2F?exchange=pledge-bench-outbox-"
                      + Long.toString(System.nanoTime(), 36)));
    }
    if (sinkKind.equals("coordinator")) {
      return new CoordinatorSink(
          pledge, checkUrl, Duration.ofSeconds(60), Duration.ofSeconds(30), 256);
    }
    return new InstantSink();
  }

  private static RelayConfig relayConfig() {
    return RelayConfig.defaults()
        .withBatchSize(500)
        .withIdleWait(Duration.ofMillis(20))
        .withRetention(Duration.ofDays(1));
  }

  /** Writers with the outbox and one relay: {sink acknowledgements/s, writer commits/s}. */
  private double[] liveRun(ConcurrentHistogram latency) throws Exception {
    Outbox outbox =
        noNotify ? Outbox.create(dataSource).withoutNotify() : Outbox.create(dataSource);
    AtomicLong published = new AtomicLong();
    RelayListener listener =
        new RelayListener() {
          @Override
          public void published(TransactionalMessage message, Duration writeToAck) {
            published.incrementAndGet();
            latency.recordValue(Math.max(1, writeToAck.toNanos() / 1000));
          }
        };
    try (MessageSink sink = openSink();
        OutboxRelay relay = OutboxRelay.start(dataSource, sink, relayConfig(), listener)) {
      long start = System.nanoTime();
      long before = published.get();
      AtomicLong key = new AtomicLong();
      double commits =
          write(c -> {
            try (PreparedStatement insert =
                c.prepareStatement("INSERT INTO bench_row (payload) VALUES (?)")) {
              insert.setString(1, PAYLOAD);
              insert.executeUpdate();
            }
            outbox.publish(c, "bench", "k" + (key.incrementAndGet() % 64), PAYLOAD, null);
          });
      double acknowledged = (published.get() - before) / ((System.nanoTime() - start) / 1e9);
      return new double[] {acknowledged, commits};
    }
  }

  /** One relay draining {@code backlog} committed rows: messages per second. */
  private double drainRun() throws Exception {
    Outbox outbox =
        noNotify ? Outbox.create(dataSource).withoutNotify() : Outbox.create(dataSource);
    try (Connection c = dataSource.getConnection()) {
      c.setAutoCommit(false);
      for (int i = 0; i < backlog; i++) {
        outbox.publish(c, "bench", "k" + (i % 64), PAYLOAD, null);
        if (i % 1000 == 999) {
          c.commit();
        }
      }
      c.commit();
    }
    AtomicLong published = new AtomicLong();
    CountDownLatch all = new CountDownLatch(1);
    RelayListener listener =
        new RelayListener() {
          @Override
          public void published(TransactionalMessage message, Duration writeToAck) {
            if (published.incrementAndGet() == backlog) {
              all.countDown();
            }
          }
        };
    try (MessageSink sink = openSink()) {
      long start = System.nanoTime();
      try (OutboxRelay relay = OutboxRelay.start(dataSource, sink, relayConfig(), listener)) {
        if (!all.await(10, java.util.concurrent.TimeUnit.MINUTES)) {
          throw new IllegalStateException(
              "the relay published " + published.get() + " of " + backlog + " in 10 minutes");
        }
      }
      return backlog / ((System.nanoTime() - start) / 1e9);
    }
  }

  /** One consumer handling messages one at a time: messages per second. */
  private double consumerRun(boolean withInbox) throws SQLException {
    Inbox inbox = Inbox.create(dataSource);
    String run = Long.toString(System.nanoTime(), 36);
    long start = System.nanoTime();
    for (int i = 0; i < inboxMessages; i++) {
      TransactionalMessage message =
          new TransactionalMessage(
              run + "-" + i, "bench", "k" + (i % 64), PAYLOAD, null, "bench:" + run);
      if (withInbox) {
        inbox.handle(message, c -> effect(c, message));
      } else {
        try (Connection c = dataSource.getConnection()) {
          c.setAutoCommit(false);
          effect(c, message);
          c.commit();
        }
      }
    }
    return inboxMessages / ((System.nanoTime() - start) / 1e9);
  }

  private static void effect(Connection c, TransactionalMessage message) throws SQLException {
    try (PreparedStatement insert =
        c.prepareStatement("INSERT INTO bench_effect (message_id) VALUES (?)")) {
      insert.setString(1, message.id());
      insert.executeUpdate();
    }
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }

  private static String loadAverage() {
    double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    return load < 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", load);
  }

  /**
   * A sink in this process that acknowledges each publish at once: with it the figures are the
   * relay's and the database's, not a broker's.
   */
  private static final class InstantSink implements MessageSink {
    private volatile boolean closed;

    @Override
    public CompletableFuture<Void> publish(TransactionalMessage message) {
      if (closed) {
        return CompletableFuture.failedFuture(
            new dev.pledge.core.spi.SinkUnavailableException("closed"));
      }
      return CompletableFuture.completedFuture(null);
    }

    @Override
    public void close() {
      closed = true;
    }
  }
}
