package dev.pledge.server;

import dev.pledge.core.RetryPolicy;
import dev.pledge.example.shop.Audit;
import dev.pledge.example.shop.Customers;
import dev.pledge.example.shop.Faults;
import dev.pledge.example.shop.Shop;
import dev.pledge.example.shop.ShopBroker;
import dev.pledge.example.shop.ShopException;
import dev.pledge.example.shop.XaDatabases;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.PrintWriter;
import java.io.Writer;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code pledge demo}: the shop end to end against the real coordinator.
 *
 * <p>It starts {@code pledge server} as a child process on the embedded SQLite log in a fresh data
 * folder, starts the four shop services (order, inventory, payment, shipping, each on its own
 * SQLite database) in this process, subscribes shipping to {@code order-placed}, and has a few
 * concurrent customers place a seeded mix of saga and 2pc orders while the services inject faults:
 * business refusals, answers slower than the coordinator's call timeout, 5xx before the work and
 * 5xx after it. Once a share of the orders is done it kills the coordinator with {@code kill -9}
 * and starts it again on the same data folder and port. When every order is answered it stops the
 * faults, waits (bounded) until every transaction is final and every message delivered, and prints
 * the consistency report of {@link Audit}. Exit code 0 when consistent, 1 when not, 2 when the run
 * itself could not be carried out.
 *
 * <p>With {@code --mode xa} every order is an {@code xa} transaction: inventory keeps its books in
 * a fresh PostgreSQL database and payment in a fresh MariaDB database (both named {@code
 * pledge_demo_<run>}, created for the run and dropped after it), and each order's two branches are
 * real prepared transactions of those databases, driven by the SDK's {@code XaParticipant}. The
 * report then also checks that none of the run's branches is left prepared in either database.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Run the example shop against a real coordinator process under injected faults, kill -9"
            + " and restart the coordinator mid-run, and print a consistency report.")
final class DemoCommand implements Callable<Integer> {
  /** The coordinator's call timeout: a slow answer takes longer than this. */
  private static final Duration CALL_TIMEOUT = RetryPolicy.DEFAULT.callTimeout();

  private static final Duration READY_TIMEOUT = Duration.ofSeconds(60);
  private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(90);

  @Spec CommandSpec spec;

  @Option(
      names = "--orders",
      description = "Orders to place (default: ${DEFAULT-VALUE}).",
      defaultValue = "300")
  int orders;

  @Option(
      names = "--clients",
      description = "Customers placing orders concurrently (default: ${DEFAULT-VALUE}).",
      defaultValue = "16")
  int clients;

  @Option(
      names = "--seed",
      description = "Seed of the orders and of the faults (default: ${DEFAULT-VALUE}).",
      defaultValue = "1")
  long seed;

  @Option(
      names = "--kill-after",
      description =
          "Share of the orders answered before the coordinator is killed with -9 (default:"
              + " ${DEFAULT-VALUE}).",
      defaultValue = "0.4")
  double killAfter;

  @Option(
      names = "--data-dir",
      description =
          "Where the coordinator's log and the shop's databases go (default: a new"
              + " temporary folder, deleted afterwards unless --keep).")
  Path dataDir;

  @Option(
      names = "--broker",
      description =
          "Carry order-placed over a broker instead of the coordinator: rabbitmq (127.0.0.1:5672),"
              + " nats (JetStream, 127.0.0.1:4222) or kafka (a KRaft broker inside this JVM). The"
              + " order service writes it to its outbox, a relay publishes it to the broker, and"
              + " shipping's consumer adapter feeds its inbox.")
  String broker;

  @Option(
      names = "--mode",
      description =
          "How orders are placed: mixed (a seeded mix of saga and 2pc, on the services' SQLite"
              + " databases), saga, 2pc, or xa (inventory on PostgreSQL and payment on MariaDB,"
              + " each order's branches real prepared transactions of those databases; needs both"
              + " servers, see --postgres-url and --mariadb-url). Default: ${DEFAULT-VALUE}.",
      defaultValue = "mixed")
  String mode;

  @Option(
      names = "--postgres-url",
      description =
          "xa mode: a PostgreSQL server with the right to create databases; the run creates"
              + " database pledge_demo_<run> there for inventory and drops it afterwards"
              + " (default: ${DEFAULT-VALUE}).",
      defaultValue = "jdbc:postgresql://127.0.0.1:5432/postgres?user=postgres")
  String postgresUrl;

  @Option(
      names = "--mariadb-url",
      description =
          "xa mode: a MariaDB server (10.5 or later) with the right to create databases; the run"
              + " creates database pledge_demo_<run> there for payment and drops it afterwards"
              + " (default: ${DEFAULT-VALUE}).",
      defaultValue = "jdbc:mariadb://127.0.0.1:3306/?user=root")
  String mariadbUrl;

  @Option(names = "--keep", description = "Keep the data folder after the run.")
  boolean keep;

  @Option(
      names = "--max-minutes",
      description = "Give up placing orders after this long (default: ${DEFAULT-VALUE}).",
      defaultValue = "5")
  int maxMinutes;

  private PrintWriter out;
  private long startNanos;

  @Override
  public Integer call() throws Exception {
    out = spec.commandLine().getOut();
    if (orders < 1 || orders > 100_000) {
      throw new IllegalArgumentException("--orders must be in [1, 100000], got " + orders);
    }
    if (!(killAfter > 0 && killAfter < 1)) {
      throw new IllegalArgumentException("--kill-after must be in (0, 1), got " + killAfter);
    }
    if (maxMinutes < 1 || maxMinutes > 60) {
      throw new IllegalArgumentException("--max-minutes must be in [1, 60], got " + maxMinutes);
    }
    if (!List.of("mixed", "saga", "2pc", "xa").contains(mode)) {
      throw new IllegalArgumentException("--mode must be mixed, saga, 2pc or xa, got " + mode);
    }
    ShopBroker.Kind brokerKind = broker == null ? null : ShopBroker.Kind.parse(broker);
    quietShopLogs();
    if (dataDir != null && Files.isDirectory(dataDir)) {
      try (Stream<Path> entries = Files.list(dataDir)) {
        if (entries.findAny().isPresent()) {
          // A second run on the same data would mix its orders with the first run's.
          throw new IllegalArgumentException("--data-dir must be empty or absent, got " + dataDir);
        }
      }
    }
    boolean temporary = dataDir == null;
    Path root = temporary ? Files.createTempDirectory("pledge-demo-") : dataDir;
    Files.createDirectories(root);
    startNanos = System.nanoTime();
    CoordinatorProcess coordinator =
        new CoordinatorProcess(
            CoordinatorProcess.freePort(),
            root.resolve("coordinator"),
            root.resolve("coordinator.log"),
            READY_TIMEOUT);
    try {
      return run(root, coordinator, brokerKind);
    } catch (IOException | ShopException | java.io.UncheckedIOException e) {
      // An operating error (the coordinator would not start, a database would not open): the run
      // could not be carried out, which is not an inconsistency.
      out.printf("[%5s] the demo could not run: %s%n", elapsed(), e.getMessage());
      return 2;
    } finally {
      coordinator.stop();
      if (temporary && !keep) {
        deleteTree(root);
      } else {
        out.println("data kept in " + root);
      }
      out.flush();
    }
  }

  private int run(Path root, CoordinatorProcess coordinator, ShopBroker.Kind brokerKind)
      throws Exception {
    out.printf(
        "Pledge demo: %d %s orders from %d customers; the shop under faults; the coordinator"
            + " killed with -9 once%s%n",
        orders,
        mode.equals("mixed") ? "saga and 2pc" : mode,
        clients,
        brokerKind == null
            ? ""
            : "; order-placed over " + brokerKind.label() + " (outbox, relay, inbox)");
    String runId = Long.toString(System.currentTimeMillis(), 36);
    if (!mode.equals("xa")) {
      return run(root, coordinator, brokerKind, runId, null);
    }
    String database =
        "pledge_demo_" + runId + "_" + Long.toString(ProcessHandle.current().pid(), 36);
    XaDatabases databases;
    try {
      databases = XaDatabases.create(database, postgresUrl, mariadbUrl);
    } catch (ShopException e) {
      out.printf(
          "[%5s] --mode xa needs PostgreSQL (--postgres-url) and MariaDB 10.5+ (--mariadb-url),"
              + " with the right to create a database: %s%n",
          elapsed(), e.getMessage());
      return 2;
    }
    try {
      out.printf(
          "[%5s] xa: inventory on PostgreSQL, payment on MariaDB, database %s on both (%s, %s)%n",
          elapsed(),
          database,
          postgresUrl.replaceAll("password=[^&]*", "password=…"),
          mariadbUrl.replaceAll("password=[^&]*", "password=…"));
      int exit =
          run(
              root,
              coordinator,
              brokerKind,
              runId,
              new Shop.Xa(databases.postgres(), databases.mariadb(), "xa-" + runId + "-"));
      if (keep) {
        databases.keep();
        out.printf("xa databases kept: %s on PostgreSQL and on MariaDB%n", database);
      }
      return exit;
    } finally {
      for (String left : databases.drop()) {
        out.printf("[%5s] could not drop an xa database: %s%n", elapsed(), left);
      }
    }
  }

  private int run(
      Path root,
      CoordinatorProcess coordinator,
      ShopBroker.Kind brokerKind,
      String runId,
      Shop.Xa xa)
      throws Exception {
    if (brokerKind == null) {
      return run(root, coordinator, (ShopBroker) null, xa);
    }
    try (ShopBroker shopBroker = ShopBroker.start(brokerKind, runId, root.resolve("broker"))) {
      out.printf(
          "[%5s] broker %s: %s%n",
          elapsed(),
          brokerKind.label(),
          shopBroker.target().toString().replaceFirst("//[^@/]*@", "//"));
      return run(root, coordinator, shopBroker, xa);
    }
  }

  private int run(Path root, CoordinatorProcess coordinator, ShopBroker shopBroker, Shop.Xa xa)
      throws Exception {
    // The coordinator boots in its own process while the shop opens its databases here.
    FutureTask<Void> booting =
        new FutureTask<>(() -> {
          coordinator.start();
          return null;
        });
    Thread.ofVirtual().name("coordinator-boot").start(booting);
    Faults.Rates rates = new Faults.Rates(0.03, 0.01, 0.04, 0.04, CALL_TIMEOUT.plusSeconds(1));
    try (Shop shop =
        new Shop(
            new Shop.Config(
                root.resolve("shop"),
                "http://127.0.0.1:" + coordinator.port(),
                rates,
                seed,
                Duration.ofSeconds(8),
                Duration.ofSeconds(5),
                Duration.ofSeconds(60),
                xa),
            shopBroker)) {
      try {
        booting.get();
      } catch (ExecutionException e) {
        if (e.getCause() instanceof IOException io) {
          throw io;
        }
        throw e;
      }
      out.printf(
          "[%5s] coordinator pid %d listening on %s (log: %s)%n",
          elapsed(), coordinator.pid(), coordinator.url(), root.resolve("coordinator.log"));
      out.printf(
          "[%5s] console: %s/console/ (open it to watch the orders while the demo runs)%n",
          elapsed(), coordinator.url());
      Customers customers =
          new Customers(
              new Customers.Plan(
                  orders,
                  clients,
                  seed,
                  mode.equals("saga") ? 0 : 0.5,
                  mode.equals("2pc") || mode.equals("xa") ? mode : null),
              shop.orders());
      shop.inventory().stock(customers.catalog().stock());
      shop.payment().open(customers.catalog().balances());
      shop.subscribe();
      out.printf(
          "[%5s] shop up: order %s, inventory %s, payment %s, shipping %s%n",
          elapsed(),
          shop.orders().baseUrl(),
          shop.inventory().baseUrl(),
          shop.payment().baseUrl(),
          shop.shipping().baseUrl());
      out.printf(
          "[%5s] faults per request: refusal %.0f%%, slow (%ds) %.0f%%, 5xx before %.0f%%, 5xx"
              + " after %.0f%%%n",
          elapsed(),
          rates.refuse() * 100,
          rates.slowDelay().toSeconds(),
          rates.slow() * 100,
          rates.failBefore() * 100,
          rates.failAfter() * 100);
      out.flush();

      customers.start();
      AtomicReference<String> coordinatorState = new AtomicReference<>("up");
      Thread killer = null;
      int killAt = Math.max(1, (int) Math.round(orders * killAfter));
      long placeDeadline = System.nanoTime() + Duration.ofMinutes(maxMinutes).toNanos();
      while (!customers.await(Duration.ofSeconds(1))) {
        if (killer == null && customers.finished() >= killAt) {
          killer =
              Thread.ofVirtual()
                  .name("coordinator-killer")
                  .start(() -> killAndRestart(coordinator, coordinatorState));
        }
        progress(customers, shop, coordinatorState.get());
        if (System.nanoTime() > placeDeadline) {
          out.printf(
              "[%5s] giving up: orders still unanswered after %d minutes%n", elapsed(), maxMinutes);
          return 2;
        }
      }
      if (killer == null) {
        // Everything finished before the kill point (tiny runs): kill now, so recovery still runs.
        killer = Thread.ofVirtual().start(() -> killAndRestart(coordinator, coordinatorState));
      }
      killer.join(READY_TIMEOUT.plusSeconds(30));
      progress(customers, shop, coordinatorState.get());
      if (!coordinator.isAlive()) {
        out.printf("[%5s] the coordinator is not running: %s%n", elapsed(), coordinatorState.get());
        return 2;
      }

      shop.stopFaults();
      out.printf(
          "[%5s] every order answered; faults stopped; waiting for the rest to settle%n",
          elapsed());
      out.flush();
      long settleDeadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
      List<String> unsettled = Audit.unsettled(shop);
      while (!unsettled.isEmpty() && System.nanoTime() < settleDeadline) {
        out.printf("[%5s] settling: %s%n", elapsed(), String.join("; ", unsettled));
        out.flush();
        Thread.sleep(1000);
        unsettled = Audit.unsettled(shop);
      }
      if (!unsettled.isEmpty()) {
        out.printf("[%5s] not settled after %s: %s%n", elapsed(), SETTLE_TIMEOUT, unsettled);
      }

      Audit.Report report = Audit.run(shop);
      out.println();
      out.printf("Consistency report (%s, seed %d)%n", elapsed(), seed);
      report.lines().forEach(line -> out.println("  " + line));
      out.printf("  coordinator: %s%n", coordinatorState.get());
      for (String failure : customers.failures()) {
        out.println("  order failed: " + failure);
      }
      boolean consistent =
          report.consistent() && unsettled.isEmpty() && customers.failures().isEmpty();
      out.println();
      out.println(
          consistent
              ? "CONSISTENT: every order committed or aborted everywhere; stock and money"
                  + " conserved; one shipment per committed order, none for an aborted one"
              : "INCONSISTENT: see the [FAIL] lines above");
      out.flush();
      return consistent ? 0 : 1;
    }
  }

  private void killAndRestart(CoordinatorProcess coordinator, AtomicReference<String> state) {
    try {
      long pid = coordinator.pid();
      String killedAt = elapsed();
      coordinator.kill();
      state.set("KILLED (-9) at " + killedAt + ", restarting");
      out.printf(
          "[%5s] coordinator pid %d killed with SIGKILL; restarting on the same data%n",
          killedAt, pid);
      out.flush();
      long down = System.nanoTime();
      coordinator.start();
      Duration downtime = Duration.ofNanos(System.nanoTime() - down);
      String recovered = coordinator.lastRecovery();
      state.set(
          String.format(
              "killed with -9 at %s (pid %d), back after %.1f s as pid %d%s",
              killedAt,
              pid,
              downtime.toMillis() / 1000.0,
              coordinator.pid(),
              recovered == null ? "" : ", which " + recovered + " from the log"));
      out.printf(
          "[%5s] coordinator back as pid %d after %.1f s%s%n",
          elapsed(),
          coordinator.pid(),
          downtime.toMillis() / 1000.0,
          recovered == null ? "" : "; it " + recovered);
      out.flush();
    } catch (IOException e) {
      state.set("restart failed: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      state.set("restart interrupted");
    }
  }

  private void progress(Customers customers, Shop shop, String coordinatorState) {
    out.printf(
        "[%5s] orders %d/%d answered: %d committed, %d aborted, %d failed | shop requests in"
            + " progress %d | coordinator %s%n",
        elapsed(),
        customers.finished(),
        orders,
        customers.confirmed(),
        customers.aborted(),
        customers.failures().size(),
        shop.inFlight(),
        coordinatorState.startsWith("KILLED")
            ? "DOWN (killed with -9, restarting)"
            : coordinatorState.startsWith("killed") ? "up (restarted)" : coordinatorState);
    out.flush();
  }

  private String elapsed() {
    return String.format("%.1fs", (System.nanoTime() - startNanos) / 1e9);
  }

  /**
   * The services' expected warnings (a commit retried across the restart, an injected fault) stay
   * off the screen.
   */
  private static void quietShopLogs() {
    // The shop, the SDK's participant (an injected 5xx is logged as a delivery not handled), the
    // Spring Boot shipping service's framework, the brokers' clients and the in-JVM Kafka.
    for (String logger :
        List.of(
            "dev.pledge.example.shop",
            "dev.pledge.client.participant",
            "org.springframework",
            "com.zaxxer.hikari",
            "dev.pledge.broker",
            "dev.pledge.client.outbox",
            "org.apache.kafka",
            "kafka",
            "state.change.logger",
            "com.rabbitmq")) {
      String property = "org.slf4j.simpleLogger.log." + logger;
      if (System.getProperty(property) == null) {
        System.setProperty(property, "error");
      }
    }
  }

  private static void deleteTree(Path root) throws IOException {
    try (Stream<Path> paths = Files.walk(root)) {
      for (Path path : paths.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(path);
      }
    }
  }

  /**
   * {@code pledge server} as a child process: the same java binary and classpath as this JVM, main
   * class {@link Main}, arguments {@code server --port P --data-dir D}. It is ready when it prints
   * {@code pledge server listening on http://127.0.0.1:P}; everything it prints goes to a log file.
   */
  static final class CoordinatorProcess {
    private static final Pattern LISTENING =
        Pattern.compile("pledge server listening on (http://\\S+)");
    private static final int START_ATTEMPTS = 5;
    private static final Pattern RECOVERED =
        Pattern.compile("recovered \\d+ unsettled transactions");

    private final int port;
    private final Path dataDir;
    private final Path logFile;
    private final Duration readyTimeout;
    private Process process;
    private String url;

    CoordinatorProcess(int port, Path dataDir, Path logFile, Duration readyTimeout) {
      this.port = port;
      this.dataDir = dataDir;
      this.logFile = logFile;
      this.readyTimeout = readyTimeout;
    }

    /** A TCP port on loopback that was free a moment ago. */
    static int freePort() throws IOException {
      try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
        return socket.getLocalPort();
      }
    }

    /**
     * Starts the server and waits until it prints its listening line (recovery done, port open). A
     * start that fails (the port still held by the killed process, say) is tried again, up to
     * {@value #START_ATTEMPTS} times.
     */
    void start() throws IOException, InterruptedException {
      IOException last = null;
      for (int attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
        try {
          startOnce();
          return;
        } catch (IOException e) {
          last = e;
          Thread.sleep(200L * attempt);
        }
      }
      throw last;
    }

    private void startOnce() throws IOException, InterruptedException {
      Files.createDirectories(dataDir);
      String java =
          ProcessHandle.current()
              .info()
              .command()
              .orElse(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      List<String> command = new ArrayList<>();
      command.add(java);
      command.add("-XX:+UseSerialGC");
      // A short-lived server on a small machine: quick C1 code beats waiting for C2.
      command.add("-XX:TieredStopAtLevel=1");
      command.add("-cp");
      command.add(System.getProperty("java.class.path"));
      command.add(Main.class.getName());
      command.add("server");
      command.add("--port");
      command.add(Integer.toString(port));
      command.add("--data-dir");
      command.add(dataDir.toString());
      Process started = new ProcessBuilder(command).redirectErrorStream(true).start();
      started.getOutputStream().close();
      CompletableFuture<String> ready = new CompletableFuture<>();
      Thread.ofPlatform()
          .daemon()
          .name("coordinator-output-" + started.pid())
          .start(() -> copyOutput(started, ready));
      try {
        url = ready.get(readyTimeout.toMillis(), TimeUnit.MILLISECONDS);
        process = started;
      } catch (ExecutionException | TimeoutException e) {
        started.destroyForcibly();
        started.waitFor(10, TimeUnit.SECONDS);
        throw new IOException(
            "pledge server (pid "
                + started.pid()
                + ") did not print its listening line within "
                + readyTimeout
                + ": "
                + (e.getCause() == null ? e : e.getCause()).getMessage()
                + "; see "
                + logFile,
            e);
      }
    }

    private void copyOutput(Process child, CompletableFuture<String> ready) {
      try (BufferedReader lines =
              new BufferedReader(
                  new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8));
          Writer log =
              Files.newBufferedWriter(
                  logFile,
                  StandardCharsets.UTF_8,
                  StandardOpenOption.CREATE,
                  StandardOpenOption.APPEND)) {
        log.write("---- pid " + child.pid() + " ----\n");
        String line;
        String lastLine = "";
        while ((line = lines.readLine()) != null) {
          log.write(line);
          log.write('\n');
          log.flush();
          lastLine = line;
          Matcher listening = LISTENING.matcher(line);
          if (!ready.isDone() && listening.find()) {
            ready.complete(listening.group(1));
          }
        }
        ready.completeExceptionally(new IOException("it exited; its last line: " + lastLine));
      } catch (IOException e) {
        ready.completeExceptionally(e);
      }
    }

    String url() {
      return url;
    }

    int port() {
      return port;
    }

    /**
     * The server's own account of its last recovery ("recovered N unsettled transactions"), read
     * from its log; null if it did not print one.
     */
    String lastRecovery() {
      try (Stream<String> lines = Files.lines(logFile, StandardCharsets.UTF_8)) {
        return lines
            .map(RECOVERED::matcher)
            .filter(Matcher::find)
            .map(m -> m.group())
            .reduce((first, second) -> second)
            .orElse(null);
      } catch (IOException | java.io.UncheckedIOException e) {
        return null;
      }
    }

    long pid() {
      return process.pid();
    }

    boolean isAlive() {
      return process != null && process.isAlive();
    }

    /** {@code kill -9}: {@link Process#destroyForcibly()} sends SIGKILL on Linux. */
    void kill() throws InterruptedException {
      process.destroyForcibly();
      if (!process.waitFor(30, TimeUnit.SECONDS)) {
        throw new IllegalStateException("pledge server pid " + process.pid() + " survived SIGKILL");
      }
    }

    /** Stops the server politely (SIGTERM), then forcibly if it lingers. */
    void stop() throws InterruptedException {
      if (process == null) {
        return;
      }
      process.destroy();
      if (!process.waitFor(10, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        process.waitFor(10, TimeUnit.SECONDS);
      }
    }
  }
}
