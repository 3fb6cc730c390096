package dev.pledge.example.shop;

import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The shop's customers: a catalog and a list of orders drawn from a seed, placed by a few
 * concurrent clients through the order service's {@link Orders#place} (the customers live in the
 * order service's JVM; everything between the services and the coordinator goes through the SDK).
 */
public final class Customers {
  /**
   * What to place.
   *
   * @param orders how many orders
   * @param clients how many clients place them concurrently
   * @param seed the seed of the orders' draw
   * @param twoPcShare the share of orders placed as 2pc (the rest are sagas)
   * @param onlyMode when not null, every order is placed in this mode ({@code xa}, say) instead
   */
  public record Plan(int orders, int clients, long seed, double twoPcShare, String onlyMode) {
    /** A seeded mix of 2pc and saga orders. */
    public Plan(int orders, int clients, long seed, double twoPcShare) {
      this(orders, clients, seed, twoPcShare, null);
    }

    public Plan {
      if (orders < 1 || orders > 100_000) {
        throw new IllegalArgumentException("orders must be in [1, 100000], got " + orders);
      }
      if (clients < 1 || clients > 256) {
        throw new IllegalArgumentException("clients must be in [1, 256], got " + clients);
      }
      if (!(twoPcShare >= 0 && twoPcShare <= 1)) {
        throw new IllegalArgumentException("twoPcShare must be in [0, 1], got " + twoPcShare);
      }
    }
  }

  /**
   * What the shop opens with: stock per SKU, price per SKU (cents), balance per account (cents).
   */
  public record Catalog(
      Map<String, Long> stock, Map<String, Long> prices, Map<String, Long> balances) {}

  private final Plan plan;
  private final Catalog catalog;
  private final List<Orders.Request> requests;
  private final Orders orders;
  private final AtomicInteger next = new AtomicInteger();
  private final AtomicInteger confirmed = new AtomicInteger();
  private final AtomicInteger aborted = new AtomicInteger();
  private final ConcurrentLinkedQueue<String> failures = new ConcurrentLinkedQueue<>();
  private final CountDownLatch done;

  public Customers(Plan plan, Orders orders) {
    this.plan = Objects.requireNonNull(plan, "plan");
    this.orders = Objects.requireNonNull(orders, "orders");
    this.catalog = catalog(plan);
    this.requests = draw(plan, catalog);
    this.done = new CountDownLatch(plan.clients());
  }

  /**
   * The catalog for {@code plan}: six SKUs with stock for about four orders in five (so some run
   * out), twelve accounts of which one is nearly empty (so some payments are refused).
   */
  public static Catalog catalog(Plan plan) {
    Map<String, Long> stock = new LinkedHashMap<>();
    Map<String, Long> prices = new LinkedHashMap<>();
    Map<String, Long> balances = new LinkedHashMap<>();
    long perSku = Math.max(3, Math.round(plan.orders() * 2 * 0.8 / 6));
    for (int i = 1; i <= 6; i++) {
      stock.put("sku-" + i, perSku);
      prices.put("sku-" + i, 500L * i);
    }
    for (int i = 1; i <= 12; i++) {
      balances.put(String.format("acct-%02d", i), i == 1 ? 10_000L : 10_000_000L);
    }
    return new Catalog(stock, prices, balances);
  }

  private static List<Orders.Request> draw(Plan plan, Catalog catalog) {
    Random random = new Random(plan.seed());
    List<String> skus = new ArrayList<>(catalog.stock().keySet());
    List<String> accounts = new ArrayList<>(catalog.balances().keySet());
    List<Orders.Request> out = new ArrayList<>();
    for (int i = 1; i <= plan.orders(); i++) {
      String sku = skus.get(random.nextInt(skus.size()));
      long qty = 1L + random.nextInt(3);
      out.add(
          new Orders.Request(
              String.format("o-%05d", i),
              mode(plan, random.nextDouble()),
              sku,
              qty,
              accounts.get(random.nextInt(accounts.size())),
              qty * catalog.prices().get(sku)));
    }
    return out;
  }

  private static String mode(Plan plan, double draw) {
    if (plan.onlyMode() != null) {
      return plan.onlyMode();
    }
    return draw < plan.twoPcShare() ? "2pc" : "saga";
  }

  public Catalog catalog() {
    return catalog;
  }

  public List<Orders.Request> requests() {
    return requests;
  }

  /** Starts the clients, each on its own virtual thread; returns at once. */
  public void start() {
    for (int i = 0; i < plan.clients(); i++) {
      Thread.ofVirtual().name("customer-" + i).start(this::placeAll);
    }
  }

  private void placeAll() {
    try {
      int index;
      while ((index = next.getAndIncrement()) < requests.size()) {
        Orders.Request request = requests.get(index);
        try {
          String status = orders.place(request).status();
          (status.equals("confirmed") ? confirmed : aborted).incrementAndGet();
        } catch (RuntimeException e) {
          // ShopException: the coordinator unreachable past the bound; anything else is a bug
          // the report must show, not a customer thread that silently stops.
          failures.add(request.orderId() + ": " + e);
        }
      }
    } finally {
      done.countDown();
    }
  }

  /** Orders answered so far (confirmed, aborted or failed). */
  public int finished() {
    return confirmed.get() + aborted.get() + failures.size();
  }

  public int confirmed() {
    return confirmed.get();
  }

  public int aborted() {
    return aborted.get();
  }

  /** Orders whose placing failed (the coordinator unreachable past the bound), with why. */
  public List<String> failures() {
    return List.copyOf(failures);
  }

  /** Waits until every client is done, at most {@code timeout}; true if they all are. */
  public boolean await(Duration timeout) throws InterruptedException {
    return done.await(timeout.toMillis(), TimeUnit.MILLISECONDS);
  }
}
