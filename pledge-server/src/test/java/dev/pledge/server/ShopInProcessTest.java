package dev.pledge.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.engine.Engine;
import dev.pledge.example.shop.Audit;
import dev.pledge.example.shop.Customers;
import dev.pledge.example.shop.Faults;
import dev.pledge.example.shop.Shop;
import dev.pledge.server.api.Api;
import dev.pledge.server.http.HttpApiServer;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.Coordinator;
import dev.pledge.server.runtime.HttpEffects;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.testkit.InMemoryTransactionLog;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The shop against an in-process coordinator on the in-memory log, under faults. */
class ShopInProcessTest {
  private static final RetryPolicy POLICY =
      new RetryPolicy(
          Duration.ofMillis(100), Duration.ofSeconds(2), 2.0, 0.2, Duration.ofSeconds(2), 10);

  @TempDir Path folder;

  @Test
  void ordersUnderFaults_endConsistent() throws Exception {
    InMemoryTransactionLog log = new InMemoryTransactionLog();
    Subscriptions subscriptions = new Subscriptions();
    Coordinator coordinator =
        new Coordinator(
            new Engine(Limits.DEFAULT, POLICY),
            log,
            InstantSource.system(),
            new HttpEffects(POLICY.callTimeout(), AllowList.loopbackOnly()),
            subscriptions,
            Duration.ofMillis(100));
    coordinator.start();
    HttpApiServer server =
        HttpApiServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            new Api(
                coordinator,
                log,
                Limits.DEFAULT,
                subscriptions,
                AllowList.loopbackOnly(),
                () -> UUID.randomUUID().toString()));
    Customers.Plan plan = new Customers.Plan(60, 6, 7, 0.5);
    try (Shop shop =
        new Shop(
            new Shop.Config(
                folder,
                "http://127.0.0.1:" + server.port(),
                new Faults.Rates(0.03, 0.02, 0.05, 0.05, Duration.ofMillis(2500)),
                7,
                Duration.ofSeconds(5),
                Duration.ofSeconds(3),
                Duration.ofSeconds(30)))) {
      Customers customers = new Customers(plan, shop.orders().baseUrl());
      shop.inventory().stock(customers.catalog().stock());
      shop.payment().open(customers.catalog().balances());
      shop.subscribe();
      customers.start();
      assertThat(customers.await(Duration.ofSeconds(120))).isTrue();
      shop.stopFaults();
      await()
          .atMost(Duration.ofSeconds(60))
          .until(() -> shop.inFlight() == 0 && log.unsettled(null, 1).isEmpty());
      Audit.Report report = Audit.run(shop);
      report.lines().forEach(System.out::println);
      assertThat(customers.failures()).isEmpty();
      assertThat(report.consistent()).isTrue();
    } finally {
      server.close();
      coordinator.close();
    }
  }
}
