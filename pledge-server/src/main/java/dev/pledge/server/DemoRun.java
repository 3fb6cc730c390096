package dev.pledge.server;

import dev.pledge.core.RetryPolicy;
import dev.pledge.example.shop.Audit;
import dev.pledge.example.shop.Customers;
import dev.pledge.example.shop.Faults;
import dev.pledge.example.shop.Shop;
import dev.pledge.example.shop.ShopBroker;
import dev.pledge.example.shop.ShopException;
import dev.pledge.example.shop.XaDatabases;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;
import java.util.concurrent.atomic.AtomicReference;

/**
 * One run of {@code pledge demo}, as {@link DemoCommand} describes it: the xa databases or the
 * broker if the options ask for them, then the shop under faults, the customers, the coordinator
 * killed with -9 and restarted once, the wait until everything settles and the report. Returns the
 * command's exit code: 0 consistent, 1 not, 2 when the run could not be carried out.
 */
final class DemoRun {
  /** How long the coordinator may take to print its listening line, at start and at restart. */
  static final Duration READY_TIMEOUT = Duration.ofSeconds(60);

  /** The coordinator's call timeout: a slow answer takes longer than this. */
  private static final Duration CALL_TIMEOUT = RetryPolicy.DEFAULT.callTimeout();

  private static final Duration SETTLE_TIMEOUT = Duration.ofSeconds(90);

  private final DemoConfig config;
  private final Path root;
  private final CoordinatorProcess coordinator;
  private final DemoOutput out;

  DemoRun(DemoConfig config, Path root, CoordinatorProcess coordinator, DemoOutput out) {
    this.config = config;
    this.root = root;
    this.coordinator = coordinator;
    this.out = out;
  }

  int run() throws Exception {
    ShopBroker.Kind brokerKind = config.broker();
    out.printf(
        "Pledge demo: %d %s orders from %d customers; the shop under faults; the coordinator"
            + " killed with -9 once%s%n",
        config.orders(),
        config.ordersDescribed(),
        config.clients(),
        brokerKind == null
            ? ""
            : "; order-placed over " + brokerKind.label() + " (outbox, relay, inbox)");
    String runId = Long.toString(System.currentTimeMillis(), 36);
    if (!config.xa()) {
      return runWithBroker(runId, null);
    }
    String database =
        "pledge_demo_" + runId + "_" + Long.toString(ProcessHandle.current().pid(), 36);
    XaDatabases databases;
    try {
      databases = XaDatabases.create(database, config.postgresUrl(), config.mariadbUrl());
    } catch (ShopException e) {
      out.printf(
          "[%5s] --mode xa needs PostgreSQL (--postgres-url) and MariaDB 10.5+ (--mariadb-url),"
              + " with the right to create a database: %s%n",
          out.elapsed(), e.getMessage());
      return 2;
    }
    try {
      out.printf(
          "[%5s] xa: inventory on PostgreSQL, payment on MariaDB, database %s on both (%s, %s)%n",
          out.elapsed(),
          database,
          config.postgresUrl().replaceAll("password=[^&]*", "password=…"),
          config.mariadbUrl().replaceAll("password=[^&]*", "password=…"));
      int exit =
          runWithBroker(
              runId, new Shop.Xa(databases.postgres(), databases.mariadb(), "xa-" + runId + "-"));
      if (config.keep()) {
        databases.keep();
        out.printf("xa databases kept: %s on PostgreSQL and on MariaDB%n", database);
      }
      return exit;
    } finally {
      for (String left : databases.drop()) {
        out.printf("[%5s] could not drop an xa database: %s%n", out.elapsed(), left);
      }
    }
  }

  private int runWithBroker(String runId, Shop.Xa xa) throws Exception {
    ShopBroker.Kind brokerKind = config.broker();
    if (brokerKind == null) {
      return runShop(null, xa);
    }
    try (ShopBroker shopBroker = ShopBroker.start(brokerKind, runId, root.resolve("broker"))) {
      out.printf(
          "[%5s] broker %s: %s%n",
          out.elapsed(),
          brokerKind.label(),
          shopBroker.target().toString().replaceFirst("//[^@/]*@", "//"));
      return runShop(shopBroker, xa);
    }
  }

  private int runShop(ShopBroker shopBroker, Shop.Xa xa) throws Exception {
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
                config.seed(),
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
          out.elapsed(), coordinator.pid(), coordinator.url(), root.resolve("coordinator.log"));
      out.printf(
          "[%5s] console: %s/console/ (open it to watch the orders while the demo runs)%n",
          out.elapsed(), coordinator.url());
      Customers customers =
          new Customers(
              new Customers.Plan(
                  config.orders(),
                  config.clients(),
                  config.seed(),
                  config.twoPcShare(),
                  config.onlyMode()),
              shop.orders());
      shop.inventory().stock(customers.catalog().stock());
      shop.payment().open(customers.catalog().balances());
      shop.subscribe();
      out.printf(
          "[%5s] shop up: order %s, inventory %s, payment %s, shipping %s%n",
          out.elapsed(),
          shop.orders().baseUrl(),
          shop.inventory().baseUrl(),
          shop.payment().baseUrl(),
          shop.shipping().baseUrl());
      out.printf(
          "[%5s] faults per request: refusal %.0f%%, slow (%ds) %.0f%%, 5xx before %.0f%%, 5xx"
              + " after %.0f%%%n",
          out.elapsed(),
          rates.refuse() * 100,
          rates.slowDelay().toSeconds(),
          rates.slow() * 100,
          rates.failBefore() * 100,
          rates.failAfter() * 100);
      out.flush();

      customers.start();
      AtomicReference<String> coordinatorState = new AtomicReference<>("up");
      if (!placeOrders(customers, shop, coordinatorState)) {
        return 2;
      }
      if (!coordinator.isAlive()) {
        out.printf(
            "[%5s] the coordinator is not running: %s%n", out.elapsed(), coordinatorState.get());
        return 2;
      }

      shop.stopFaults();
      out.printf(
          "[%5s] every order answered; faults stopped; waiting for the rest to settle%n",
          out.elapsed());
      out.flush();
      List<String> unsettled = settle(shop);
      boolean consistent =
          out.report(Audit.run(shop), config.seed(), coordinatorState.get(), customers, unsettled);
      return consistent ? 0 : 1;
    }
  }

  /**
   * Waits until every order is answered, killing and restarting the coordinator once on the way
   * (after {@link DemoConfig#killAt} answers, or at the end of a run too small to reach it); false
   * when the orders are still unanswered after {@code --max-minutes}.
   */
  private boolean placeOrders(
      Customers customers, Shop shop, AtomicReference<String> coordinatorState)
      throws InterruptedException {
    Thread killer = null;
    int killAt = config.killAt();
    long placeDeadline = System.nanoTime() + Duration.ofMinutes(config.maxMinutes()).toNanos();
    while (!customers.await(Duration.ofSeconds(1))) {
      if (killer == null && customers.finished() >= killAt) {
        killer =
            Thread.ofVirtual()
                .name("coordinator-killer")
                .start(() -> killAndRestart(coordinatorState));
      }
      out.progress(customers, config.orders(), shop, coordinatorState.get());
      if (System.nanoTime() > placeDeadline) {
        out.printf(
            "[%5s] giving up: orders still unanswered after %d minutes%n",
            out.elapsed(), config.maxMinutes());
        return false;
      }
    }
    if (killer == null) {
      // Everything finished before the kill point (tiny runs): kill now, so recovery still runs.
      killer = Thread.ofVirtual().start(() -> killAndRestart(coordinatorState));
    }
    killer.join(READY_TIMEOUT.plusSeconds(30));
    out.progress(customers, config.orders(), shop, coordinatorState.get());
    return true;
  }

  /**
   * Waits, bounded by {@link #SETTLE_TIMEOUT}, until the audit finds nothing unsettled; returns
   * what is still unsettled then.
   */
  private List<String> settle(Shop shop) throws InterruptedException {
    long settleDeadline = System.nanoTime() + SETTLE_TIMEOUT.toNanos();
    List<String> unsettled = Audit.unsettled(shop);
    while (!unsettled.isEmpty() && System.nanoTime() < settleDeadline) {
      out.printf("[%5s] settling: %s%n", out.elapsed(), String.join("; ", unsettled));
      out.flush();
      Thread.sleep(1000);
      unsettled = Audit.unsettled(shop);
    }
    if (!unsettled.isEmpty()) {
      out.printf("[%5s] not settled after %s: %s%n", out.elapsed(), SETTLE_TIMEOUT, unsettled);
    }
    return unsettled;
  }

  private void killAndRestart(AtomicReference<String> state) {
    try {
      long pid = coordinator.pid();
      String killedAt = out.elapsed();
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
          out.elapsed(),
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
}
