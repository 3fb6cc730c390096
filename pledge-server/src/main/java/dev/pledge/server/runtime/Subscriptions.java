package dev.pledge.server.runtime;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Where each topic's messages go: named subscriptions, each a topic and a target. Thread-safe. Held
 * in memory for now; persisting them with the log comes with the HTTP API.
 */
public final class Subscriptions {
  /** A subscription: its topic and where to deliver ({@code http://…} today). */
  public record Subscription(String name, String topic, String target) {
    public Subscription {
      Objects.requireNonNull(name, "name");
      Objects.requireNonNull(topic, "topic");
      Objects.requireNonNull(target, "target");
    }
  }

  public static final int MAX_SUBSCRIPTIONS = 10_000;

  private final Map<String, Subscription> byName = new ConcurrentHashMap<>();

  /** Creates or replaces a subscription. */
  public void put(Subscription subscription) {
    if (!byName.containsKey(subscription.name()) && byName.size() >= MAX_SUBSCRIPTIONS) {
      throw new IllegalStateException("at most " + MAX_SUBSCRIPTIONS + " subscriptions");
    }
    byName.put(subscription.name(), subscription);
  }

  /** The target of a subscription, or null if it no longer exists. */
  public String target(String name) {
    Subscription subscription = byName.get(name);
    return subscription == null ? null : subscription.target();
  }

  /** The subscriptions of each topic, by name in a stable order. */
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
