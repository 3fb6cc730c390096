package dev.pledge.testkit;

import dev.pledge.core.spi.SubscriptionStore;
import java.util.List;
import java.util.TreeMap;

/** Subscriptions in memory: the reference implementation of the contract. */
public final class InMemorySubscriptionStore implements SubscriptionStore {
  private final TreeMap<String, Subscription> byName = new TreeMap<>();

  @Override
  public synchronized void put(Subscription subscription) {
    byName.put(subscription.name(), subscription);
  }

  @Override
  public synchronized List<Subscription> all() {
    return List.copyOf(byName.values());
  }
}
