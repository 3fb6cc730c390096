package dev.pledge.server.runtime;

import dev.pledge.core.runtime.SubscriptionDirectory;
import dev.pledge.core.spi.SubscriptionStore;
import dev.pledge.core.spi.SubscriptionStore.Subscription;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where each topic's messages go: named subscriptions, each a topic and a target. Thread-safe. Read
 * from the store once, when made; a change is written to the store before it takes effect here, so
 * a subscription that was accepted survives a restart.
 */
public final class Subscriptions implements SubscriptionDirectory {
  public static final int MAX_SUBSCRIPTIONS = 10_000;

  /** The longest target kept (the log's column). */
  public static final int MAX_TARGET_CHARS = 2048;

  private final SubscriptionStore store;
  private final Map<String, Subscription> byName = new ConcurrentHashMap<>();

  /** The subscriptions {@code store} holds, kept there as they change. */
  public Subscriptions(SubscriptionStore store) {
    this.store = Objects.requireNonNull(store, "store");
    for (Subscription subscription : store.all()) {
      byName.put(subscription.name(), subscription);
    }
  }

  /** Creates or replaces a subscription, durably. */
  public synchronized void put(Subscription subscription) {
    if (!byName.containsKey(subscription.name()) && byName.size() >= MAX_SUBSCRIPTIONS) {
      throw new IllegalStateException("at most " + MAX_SUBSCRIPTIONS + " subscriptions");
    }
    store.put(subscription);
    byName.put(subscription.name(), subscription);
  }

  /** How many subscriptions there are. */
  public int size() {
    return byName.size();
  }

  /** The target of a subscription, or null if it no longer exists. */
  @Override
  public String target(String name) {
    Subscription subscription = byName.get(name);
    return subscription == null ? null : subscription.target();
  }

  /** The subscriptions of each topic, by name in a stable order. */
  @Override
  public Map<String, List<String>> byTopic(Set<String> topics) {
    Map<String, List<String>> out = new TreeMap<>();
    for (String topic : topics) {
      List<String> names = new ArrayList<>();
      for (Subscription subscription : byName.values()) {
        if (subscription.topic().equals(topic)) {
          names.add(subscription.name());
        }
      }
      names.sort(null);
      out.put(topic, names);
    }
    return out;
  }
}
