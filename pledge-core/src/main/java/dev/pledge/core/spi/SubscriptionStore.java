package dev.pledge.core.spi;

import java.util.List;
import java.util.Objects;

/**
 * Where the subscriptions live: which topic's messages go to which target, by name. Small and
 * rarely written; read whole when a coordinator starts and again every second or so.
 *
 * <p>Contract, checked by the testkit's {@code SubscriptionStoreContract}: {@link #put} creates or
 * replaces the subscription of that name, and once it returns the subscription survives a crash;
 * {@link #all} returns every subscription, by name. Operating failures throw {@link
 * LogUnavailableException}.
 */
public interface SubscriptionStore {
  /** A subscription: its topic and where to deliver ({@code http://…} today). */
  record Subscription(String name, String topic, String target) {
    public Subscription {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(topic, "topic");
      Objects.requireNonNull(target, "target");
    }
  }

  /** Creates or replaces the subscription named {@code subscription.name()}. */
  void put(Subscription subscription);

  /** Every subscription, ordered by name. */
  List<Subscription> all();
}
