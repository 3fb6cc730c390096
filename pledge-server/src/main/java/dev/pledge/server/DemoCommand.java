package dev.pledge.server;

import dev.pledge.example.shop.ShopException;
import java.io.IOException;
import java.io.PrintWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.Callable;
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
 *
 * <p>This class holds the options and the data folder; {@link DemoConfig} checks the options,
 * {@link DemoRun} carries the run out, {@link DemoOutput} prints it, and {@link CoordinatorProcess}
 * is the child coordinator.
 */
@Command(
    name = "demo",
    mixinStandardHelpOptions = true,
    description =
        "Run the example shop against a real coordinator process under injected faults, kill -9"
            + " and restart the coordinator mid-run, and print a consistency report.")
final class DemoCommand implements Callable<Integer> {
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

  @Override
  public Integer call() throws Exception {
    PrintWriter writer = spec.commandLine().getOut();
    DemoConfig config =
        DemoConfig.of(
            orders,
            clients,
            seed,
            killAfter,
            mode,
            broker,
            postgresUrl,
            mariadbUrl,
            keep,
            maxMinutes);
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
    DemoOutput out = new DemoOutput(writer, System.nanoTime());
    CoordinatorProcess coordinator =
        new CoordinatorProcess(
            CoordinatorProcess.freePort(),
            root.resolve("coordinator"),
            root.resolve("coordinator.log"),
            DemoRun.READY_TIMEOUT);
    try {
      return new DemoRun(config, root, coordinator, out).run();
    } catch (IOException | ShopException | UncheckedIOException e) {
      // An operating error (the coordinator would not start, a database would not open): the run
      // could not be carried out, which is not an inconsistency.
      out.printf("[%5s] the demo could not run: %s%n", out.elapsed(), e.getMessage());
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
}
