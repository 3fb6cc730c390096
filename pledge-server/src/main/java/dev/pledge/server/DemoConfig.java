package dev.pledge.server;

import dev.pledge.example.shop.ShopBroker;
import java.util.List;

/**
 * The options of {@code pledge demo}, checked once before anything starts; {@link #of} is the only
 * way one is made.
 *
 * @param mode {@code mixed} (a seeded mix of saga and 2pc), {@code saga}, {@code 2pc} or {@code xa}
 * @param broker the broker that carries order-placed, or null for the coordinator
 */
record DemoConfig(
    int orders,
    int clients,
    long seed,
    double killAfter,
    String mode,
    ShopBroker.Kind broker,
    String postgresUrl,
    String mariadbUrl,
    boolean keep,
    int maxMinutes) {

  /** Checks every value, naming the option and the value that is wrong. */
  static DemoConfig of(
      int orders,
      int clients,
      long seed,
      double killAfter,
      String mode,
      String broker,
      String postgresUrl,
      String mariadbUrl,
      boolean keep,
      int maxMinutes) {
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
    return new DemoConfig(
        orders,
        clients,
        seed,
        killAfter,
        mode,
        brokerKind,
        postgresUrl,
        mariadbUrl,
        keep,
        maxMinutes);
  }

  boolean xa() {
    return mode.equals("xa");
  }

  /** The orders as the first line names them. */
  String ordersDescribed() {
    return mode.equals("mixed") ? "saga and 2pc" : mode;
  }

  /** The share of 2pc orders in a mixed run. */
  double twoPcShare() {
    return mode.equals("saga") ? 0 : 0.5;
  }

  /** The one mode every order takes, or null when the customers mix them. */
  String onlyMode() {
    return mode.equals("2pc") || mode.equals("xa") ? mode : null;
  }

  /** The answered orders after which the coordinator is killed: at least one. */
  int killAt() {
    return Math.max(1, (int) Math.round(orders * killAfter));
  }
}
