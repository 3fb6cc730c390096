package dev.pledge.example.shop;

import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeClientConfig;
import dev.pledge.client.PledgeException;
import dev.pledge.client.outbox.OutboxRelay;
import dev.pledge.client.outbox.RelayConfig;
import dev.pledge.client.outbox.RelayListener;
import dev.pledge.core.spi.MessageSink;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * The four shop services, each with its own SQLite database in one folder, on loopback ports of
 * their own, taking part in global transactions over plain HTTP.
 */
public final class Shop implements AutoCloseable {
  /**
   * How to run the shop.
   *
   * @param folder where the four databases go
   * @param coordinatorUrl the coordinator's base URL, such as {@code http://127.0.0.1:8080}
   * @param rates the faults each service injects
   * @param seed the seed of the services' fault draws (each service draws from its own)
   * @param transactionTimeout the timeout of each order's saga or 2pc
   * @param checkAfter when the coordinator starts asking the check URL of an unfinished message
   * @param retryBound how long a call to the coordinator is retried (across its downtime)
   * @param xa where inventory and payment keep their books for xa orders, or null for SQLite
   */
  public record Config(
      Path folder,
      String coordinatorUrl,
      Faults.Rates rates,
      long seed,
      Duration transactionTimeout,
      Duration checkAfter,
      Duration retryBound,
      Xa xa) {
    /** Without xa: inventory and payment on their own SQLite databases. */
    public Config(
        Path folder,
        String coordinatorUrl,
        Faults.Rates rates,
        long seed,
        Duration transactionTimeout,
        Duration checkAfter,
        Duration retryBound) {
      this(folder, coordinatorUrl, rates, seed, transactionTimeout, checkAfter, retryBound, null);
    }

    public Config {
      Objects.requireNonNull(folder, "folder");
      Objects.requireNonNull(coordinatorUrl, "coordinatorUrl");
      Objects.requireNonNull(rates, "rates");
      Objects.requireNonNull(transactionTimeout, "transactionTimeout");
      Objects.requireNonNull(checkAfter, "checkAfter");
      Objects.requireNonNull(retryBound, "retryBound");
    }
  }

  /**
   * The shop for {@code xa} orders: inventory's books on {@code inventory} (PostgreSQL), payment's
   * on {@code payment} (MariaDB), each take a branch prepared in that database. Neither data source
   * may pool connections (a MariaDB branch stays attached to its session until it disconnects).
   *
   * @param gidPrefix the prefix of every xa gid of the run: prepared transaction names are shared
   *     by the whole database server, so it must be unique to the run
   */
  public record Xa(javax.sql.DataSource inventory, javax.sql.DataSource payment, String gidPrefix) {
    public Xa {
      Objects.requireNonNull(inventory, "inventory");
      Objects.requireNonNull(payment, "payment");
      Objects.requireNonNull(gidPrefix, "gidPrefix");
    }
  }

  public static final String SUBSCRIPTION = "shipping";

  private final Faults inventoryFaults;
  private final Faults paymentFaults;
  private final Faults orderFaults;
  private final Faults shippingFaults;
  private final Inventory inventory;
  private final Payment payment;
  private final Shipping shipping;
  private final Orders orders;
  private final PledgeClient coordinator;
  private final ShopBroker broker;
  private final MessageSink sink;
  private final OutboxRelay relay;
  private AutoCloseable consumer;

  public Shop(Config config) {
    this(config, null);
  }

  /**
   * The shop; with a {@code broker}, {@code order-placed} goes from the order service's outbox
   * through an outbox relay to the broker, and from there through a consumer adapter to shipping's
   * inbox, instead of through the coordinator. The caller closes the broker after the shop.
   */
  public Shop(Config config, ShopBroker broker) {
    this.broker = broker;
    try {
      Files.createDirectories(config.folder());
    } catch (IOException e) {
      throw new ShopException("cannot create " + config.folder() + ": " + e.getMessage(), e);
    }
    inventoryFaults = new Faults(config.rates(), config.seed() * 31 + 1);
    paymentFaults = new Faults(config.rates(), config.seed() * 31 + 2);
    orderFaults = new Faults(config.rates(), config.seed() * 31 + 3);
    shippingFaults = new Faults(config.rates(), config.seed() * 31 + 4);
    // Calls are retried, with backoff capped at 500 ms, for about retryBound: across the
    // coordinator's downtime when the demo kills and restarts it.
    coordinator =
        PledgeClient.create(
            PledgeClientConfig.of(config.coordinatorUrl())
                .withBackoff(Duration.ofMillis(50), Duration.ofMillis(500))
                .withTimeouts(Duration.ofSeconds(2), Duration.ofSeconds(10))
                .withMaxAttempts(
                    (int) Math.max(1, Math.min(1000, config.retryBound().toMillis() / 500 + 1))));
    Xa xa = config.xa();
    inventory =
        xa == null
            ? new Inventory(config.folder().resolve("inventory.db"), inventoryFaults)
            : Inventory.xa(xa.inventory(), inventoryFaults, xa.gidPrefix());
    payment =
        xa == null
            ? new Payment(config.folder().resolve("payment.db"), paymentFaults)
            : Payment.xa(xa.payment(), paymentFaults, xa.gidPrefix());
    shipping = new Shipping(config.folder().resolve("shipping.db"), shippingFaults);
    orders =
        new Orders(
            config.folder().resolve("order.db"),
            orderFaults,
            coordinator,
            inventory.baseUrl(),
            payment.baseUrl(),
            config.transactionTimeout(),
            config.checkAfter(),
            config.retryBound().plus(config.transactionTimeout()).plus(config.retryBound()),
            broker != null);
    if (xa != null) {
      orders.xaGidPrefix(xa.gidPrefix());
    }
    if (broker == null) {
      sink = null;
      relay = null;
    } else {
      sink = broker.openSink();
      relay =
          OutboxRelay.start(
              Db.dataSource(orders.databaseFile()),
              sink,
              RelayConfig.defaults()
                  .withIdleWait(Duration.ofMillis(100))
                  .withAckTimeout(Duration.ofSeconds(10))
                  .withRetention(Duration.ofDays(1)),
              RelayListener.NONE);
      orders.onPublished(relay::wake);
    }
  }

  /** The broker between the order service and shipping, or null when the coordinator carries it. */
  public ShopBroker broker() {
    return broker;
  }

  /** Outbox rows not yet acknowledged by the broker (0 without a broker). */
  public long outboxBacklog() {
    if (relay == null) {
      return 0;
    }
    try {
      return relay.backlog().pending();
    } catch (SQLException e) {
      throw new ShopException("reading the outbox backlog: " + e.getMessage(), e);
    }
  }

  public Inventory inventory() {
    return inventory;
  }

  public Payment payment() {
    return payment;
  }

  public Orders orders() {
    return orders;
  }

  public Shipping shipping() {
    return shipping;
  }

  public PledgeClient coordinator() {
    return coordinator;
  }

  /**
   * Subscribes shipping's inbox to {@code order-placed}: at the coordinator, or with a broker by
   * starting shipping's consumer adapter on it.
   */
  public void subscribe() {
    if (broker != null) {
      if (consumer == null) {
        consumer = broker.consume(shipping.handler());
      }
      return;
    }
    try {
      coordinator.subscribe(SUBSCRIPTION, Orders.TOPIC, shipping.inboxUrl());
    } catch (PledgeException e) {
      throw new ShopException("subscribing shipping: " + e.getMessage(), e);
    }
  }

  /** Stops every service injecting faults. */
  public void stopFaults() {
    inventoryFaults.disable();
    paymentFaults.disable();
    orderFaults.disable();
    shippingFaults.disable();
  }

  /** Faults injected so far, per service. */
  public Map<String, Map<Faults.Kind, Long>> faults() {
    Map<String, Map<Faults.Kind, Long>> out = new LinkedHashMap<>();
    out.put("inventory", inventoryFaults.counts());
    out.put("payment", paymentFaults.counts());
    out.put("order (check-backs)", orderFaults.counts());
    out.put("shipping", shippingFaults.counts());
    return out;
  }

  /** Requests the services are answering right now (a slow answer counts until it is sent). */
  public int inFlight() {
    return inventory.inFlight() + payment.inFlight() + orders.inFlight() + shipping.inFlight();
  }

  @Override
  public void close() {
    if (consumer != null) {
      try {
        consumer.close();
      } catch (Exception e) {
        throw new ShopException("stopping shipping's consumer: " + e, e);
      }
    }
    if (relay != null) {
      relay.close();
      sink.close();
    }
    orders.close();
    shipping.close();
    payment.close();
    inventory.close();
    coordinator.close();
  }
}
