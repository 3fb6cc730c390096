package dev.pledge.server.runtime;

import dev.pledge.core.runtime.SubscriptionDirectory;
import dev.pledge.core.spi.SubscriptionStore;
import dev.pledge.core.spi.SubscriptionStore.Subscription;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where each topic's messages go: named subscriptions, each a topic and a target. Thread-safe. Read
 * from the store when made and again by {@link #reload()} ({@link #reloadEvery} runs it on a
 * timer), so a subscription created, changed or deleted through another coordinator sharing the log
 * is seen here within one reload interval. A change made here is written to the store before it
 * takes effect, so a subscription that was accepted survives a restart. Lookups read an in-memory
 * snapshot: a delivery never reads the store.
 */
public final class Subscriptions implements SubscriptionDirectory {
  public static final int MAX_SUBSCRIPTIONS = 10_000;

  /** The longest target kept (the log's column). */
  public static final int MAX_TARGET_CHARS = 2048;

  /** How often the server reads the subscriptions again: the bound on seeing another's change. */
  public static final Duration RELOAD_INTERVAL = Duration.ofSeconds(1);

  private static final Logger LOG = LoggerFactory.getLogger(Subscriptions.class);

  private final SubscriptionStore store;

  /** An immutable snapshot, replaced whole (under the lock) by {@link #put} and {@link #reload}. */
  private volatile Map<String, Subscription> byName;

  /** The subscriptions {@code store} holds, kept there as they change. */
  public Subscriptions(SubscriptionStore store) {
    this.store = Objects.requireNonNull(store, "store");
    this.byName = read();
  }

  private Map<String, Subscription> read() {
    Map<String, Subscription> out = new HashMap<>();
    for (Subscription subscription : store.all()) {
      out.put(subscription.name(), subscription);
    }
    return Map.copyOf(out);
  }

  /** Creates or replaces a subscription, durably. */
  public synchronized void put(Subscription subscription) {
    Map<String, Subscription> current = byName;
    if (!current.containsKey(subscription.name()) && current.size() >= MAX_SUBSCRIPTIONS) {
      throw new IllegalStateException("at most " + MAX_SUBSCRIPTIONS + " subscriptions");
    }
    store.put(subscription);
    Map<String, Subscription> next = new HashMap<>(current);
    next.put(subscription.name(), subscription);
    byName = Map.copyOf(next);
  }

  /**
   * Reads every subscription from the store again and replaces what is held here, so changes made
   * through other coordinators (or in the log directly, a deletion among them) take effect. Holds
   * the lock while reading, so a {@link #put} is never undone by a read that began before it.
   * Throws what the store throws; what was held stays then.
   */
  public synchronized void reload() {
    byName = read();
  }

  /**
   * Runs {@link #reload()} every {@code interval} on a daemon thread until the answer is closed; a
   * failed reload is logged and the next one tried.
   */
  public Reloading reloadEvery(Duration interval) {
    ScheduledExecutorService timer =
        Executors.newSingleThreadScheduledExecutor(task -> {
          Thread thread = new Thread(task, "pledge-subscriptions-reload");
          thread.setDaemon(true);
          return thread;
        });
    long millis = Math.max(1, interval.toMillis());
    ScheduledFuture<?> unused =
        timer.scheduleWithFixedDelay(
            () -> {
              try {
                reload();
              } catch (RuntimeException e) {
                LOG.warn(
                    "reading the subscriptions again failed, keeping the last read: {}",
                    e.toString());
              }
            },
            millis,
            millis,
            TimeUnit.MILLISECONDS);
    return timer::shutdownNow;
  }

  /** The reloads {@link #reloadEvery} runs; closing stops them. */
  public interface Reloading extends AutoCloseable {
    @Override
    void close();
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
    Collection<Subscription> all = byName.values();
    Map<String, List<String>> out = new TreeMap<>();
    for (String topic : topics) {
      List<String> names = new ArrayList<>();
      for (Subscription subscription : all) {
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
