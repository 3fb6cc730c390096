package dev.pledge.testkit;

import dev.pledge.core.Gid;
import dev.pledge.core.Mode;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.history.HistoryEntry;
import dev.pledge.core.spi.DuplicateGidException;
import dev.pledge.core.spi.KeyQueues;
import dev.pledge.core.spi.LeaseHeldException;
import dev.pledge.core.spi.TransactionLog;
import dev.pledge.core.spi.VersionConflictException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Comparator;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;

/**
 * The transaction log in memory: the reference implementation of the contract, used by the
 * simulator (where "durable" means it survives a simulated coordinator crash) and by tests.
 * Thread-safe through one lock on the storage that all handles share; it is not built for speed.
 *
 * <p>{@link #newHandle()} opens another handle on the same storage with a newer epoch, as a second
 * coordinator sharing a database would. Leases expire by the storage's clock, given when it is
 * made.
 */
public final class InMemoryTransactionLog implements TransactionLog {
  private final Storage storage;
  private final long epoch;

  /** A log whose leases expire by the system clock. */
  public InMemoryTransactionLog() {
    this(InstantSource.system());
  }

  /** A log whose leases expire by {@code leaseClock}. */
  public InMemoryTransactionLog(InstantSource leaseClock) {
    this(new Storage(Objects.requireNonNull(leaseClock, "leaseClock")));
  }

  private InMemoryTransactionLog(Storage storage) {
    this.storage = storage;
    synchronized (storage) {
      this.epoch = ++storage.lastEpoch;
    }
  }

  /** Another handle on the same storage, with an epoch newer than every handle's so far. */
  public InMemoryTransactionLog newHandle() {
    return new InMemoryTransactionLog(storage);
  }

  /** What every handle shares; its monitor guards everything in it. */
  private static final class Storage {
    final InstantSource leaseClock;
    final TreeMap<Gid, Transaction> byGid = new TreeMap<>();

    /** Creation order, to page newest first. */
    final Map<Gid, Long> sequence = new HashMap<>();

    final Map<Gid, List<HistoryEntry>> history = new HashMap<>();
    final Map<Gid, Lease> leases = new HashMap<>();

    /** The (subscription, key) queues, each in commit order. */
    final Map<QueueKey, List<Queued>> queues = new HashMap<>();

    /** Transactions made due by a write that freed the head of one of their queues. */
    final Map<Gid, Instant> nudged = new HashMap<>();

    long nextSequence;
    long lastEpoch;

    Storage(InstantSource leaseClock) {
      this.leaseClock = leaseClock;
    }

    boolean isLive(Lease lease) {
      return lease != null && lease.until().isAfter(leaseClock.instant());
    }
  }

  private record Lease(long epoch, Instant until) {}

  private static final class Queued {
    final Gid gid;
    final String messageId;
    boolean started;

    Queued(Gid gid, String messageId, boolean started) {
      this.gid = gid;
      this.messageId = messageId;
      this.started = started;
    }
  }

  @Override
  public long epoch() {
    return epoch;
  }

  @Override
  public void create(Transaction first, List<HistoryEntry> history) {
    if (first.version() != 1) {
      throw new IllegalArgumentException(
          "a new transaction starts at version 1, got " + first.version());
    }
    synchronized (storage) {
      if (storage.byGid.containsKey(first.gid())) {
        throw new DuplicateGidException("transaction " + first.gid() + " already exists");
      }
      storage.byGid.put(first.gid(), first);
      storage.sequence.put(first.gid(), storage.nextSequence++);
      appendHistory(first.gid(), history);
      keepQueues(first);
    }
  }

  @Override
  public void update(Transaction next, List<HistoryEntry> history) {
    synchronized (storage) {
      Transaction stored = storage.byGid.get(next.gid());
      if (stored == null) {
        throw new VersionConflictException("transaction " + next.gid() + " does not exist");
      }
      if (stored.version() != next.version() - 1) {
        throw new VersionConflictException(
            "transaction "
                + next.gid()
                + " is at version "
                + stored.version()
                + ", the write expected "
                + (next.version() - 1));
      }
      Lease lease = storage.leases.get(next.gid());
      if (storage.isLive(lease) && lease.epoch() > epoch) {
        throw new LeaseHeldException(
            "transaction "
                + next.gid()
                + " is leased to epoch "
                + lease.epoch()
                + " until "
                + lease.until()
                + "; this handle's epoch is "
                + epoch);
      }
      storage.byGid.put(next.gid(), next);
      storage.nudged.remove(next.gid());
      appendHistory(next.gid(), history);
      keepQueues(next);
    }
  }

  /** Called holding the storage's monitor: the queues after a write of {@code tx}. */
  private void keepQueues(Transaction tx) {
    for (KeyQueues.Entry entry : KeyQueues.entries(tx)) {
      List<Queued> queue = storage.queues.computeIfAbsent(entry.queue(), q -> new ArrayList<>());
      int at = -1;
      for (int i = 0; i < queue.size(); i++) {
        if (queue.get(i).messageId.equals(entry.messageId())) {
          at = i;
          break;
        }
      }
      switch (entry.place()) {
        case OUT -> {
          if (at >= 0) {
            queue.remove(at);
            Queued head = head(queue);
            if (head != null && !head.gid.equals(tx.gid())) {
              storage.nudged.merge(head.gid, tx.updatedAt(), (a, b) -> a.isBefore(b) ? a : b);
            }
          }
        }
        case QUEUED -> {
          if (at < 0) {
            queue.add(new Queued(tx.gid(), entry.messageId(), false));
          }
        }
        case STARTED -> {
          if (at < 0) {
            queue.add(new Queued(tx.gid(), entry.messageId(), true));
          } else {
            queue.get(at).started = true;
          }
        }
      }
      if (queue.isEmpty()) {
        storage.queues.remove(entry.queue());
      }
    }
  }

  private static Queued head(List<Queued> queue) {
    for (Queued queued : queue) {
      if (queued.started) {
        return queued;
      }
    }
    return queue.isEmpty() ? null : queue.get(0);
  }

  @Override
  public List<QueueHead> heads(Collection<QueueKey> queues) {
    synchronized (storage) {
      List<QueueHead> heads = new ArrayList<>();
      for (QueueKey key : new LinkedHashSet<>(queues)) {
        Queued head = head(storage.queues.getOrDefault(key, List.of()));
        if (head != null) {
          heads.add(new QueueHead(key, head.gid, head.messageId, head.started));
        }
      }
      return heads;
    }
  }

  /** A due transaction and when it woke up, sorted by the wake-up, then the gid. */
  private record Waking(Instant wake, Transaction tx) {}

  private static final Comparator<Waking> WAKING_ORDER =
      Comparator.comparing(Waking::wake).thenComparing(waking -> waking.tx().gid());

  /** When {@code tx} is due: its own wake-up, or earlier when a freed queue head nudged it. */
  private Instant wakeOf(Transaction tx) {
    Instant wake = tx.wakeAt();
    Instant nudge = storage.nudged.get(tx.gid());
    if (nudge == null || tx.isSettled()) {
      return wake;
    }
    return wake == null || nudge.isBefore(wake) ? nudge : wake;
  }

  @Override
  public Optional<Transaction> load(Gid gid) {
    synchronized (storage) {
      return Optional.ofNullable(storage.byGid.get(gid));
    }
  }

  @Override
  public List<Transaction> due(Instant now, int limit) {
    synchronized (storage) {
      // Each wake-up is computed once (it walks every branch and delivery), not at each comparison.
      List<Waking> due = new ArrayList<>();
      for (Transaction tx : storage.byGid.values()) {
        Instant wake = wakeOf(tx);
        if (wake != null && !wake.isAfter(now)) {
          due.add(new Waking(wake, tx));
        }
      }
      due.sort(WAKING_ORDER);
      int count = Math.min(limit, due.size());
      List<Transaction> first = new ArrayList<>(count);
      for (int i = 0; i < count; i++) {
        first.add(due.get(i).tx());
      }
      return Collections.unmodifiableList(first);
    }
  }

  @Override
  public List<Transaction> claimDue(Instant now, Duration lease, int limit) {
    synchronized (storage) {
      Instant until = storage.leaseClock.instant().plus(lease);
      List<Transaction> claimed = new ArrayList<>();
      for (Transaction tx : due(now, Integer.MAX_VALUE)) {
        if (claimed.size() == limit) {
          break;
        }
        Lease held = storage.leases.get(tx.gid());
        if (storage.isLive(held) && held.epoch() != epoch) {
          continue;
        }
        storage.leases.put(tx.gid(), new Lease(epoch, until));
        claimed.add(tx);
      }
      return List.copyOf(claimed);
    }
  }

  @Override
  public List<Transaction> unsettled(Gid afterGid, int limit) {
    synchronized (storage) {
      List<Transaction> out = new ArrayList<>();
      Map<Gid, Transaction> tail =
          afterGid == null ? storage.byGid : storage.byGid.tailMap(afterGid, false);
      for (Transaction tx : tail.values()) {
        if (out.size() == limit) {
          break;
        }
        if (!tx.isSettled()) {
          out.add(tx);
        }
      }
      return out;
    }
  }

  @Override
  public Page page(Query query) {
    long before = query.cursor() == null ? Long.MAX_VALUE : parseCursor(query.cursor());
    synchronized (storage) {
      List<Transaction> matching = new ArrayList<>();
      for (Transaction tx : storage.byGid.values()) {
        if (storage.sequence.get(tx.gid()) < before && query.matches(tx)) {
          matching.add(tx);
        }
      }
      matching.sort(
          Comparator.comparing((Transaction tx) -> storage.sequence.get(tx.gid())).reversed());
      if (matching.size() <= query.limit()) {
        return new Page(matching, null);
      }
      List<Transaction> items = matching.subList(0, query.limit());
      return new Page(
          items, Long.toString(storage.sequence.get(items.get(items.size() - 1).gid())));
    }
  }

  @Override
  public List<Count> counts() {
    Map<Mode, Map<Status, Long>> counts = new EnumMap<>(Mode.class);
    synchronized (storage) {
      for (Transaction tx : storage.byGid.values()) {
        counts
            .computeIfAbsent(tx.mode(), m -> new EnumMap<>(Status.class))
            .merge(tx.status(), 1L, Long::sum);
      }
    }
    List<Count> out = new ArrayList<>();
    counts.forEach(
        (mode, byStatus) -> byStatus.forEach((status, n) -> out.add(new Count(mode, status, n))));
    return out;
  }

  private static long parseCursor(String cursor) {
    try {
      return Long.parseLong(cursor);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("cursor '" + cursor + "' was not made by this log", e);
    }
  }

  /** Called holding the storage's monitor. */
  private void appendHistory(Gid gid, List<HistoryEntry> entries) {
    if (!entries.isEmpty()) {
      storage.history.computeIfAbsent(gid, g -> new ArrayList<>()).addAll(entries);
    }
  }

  @Override
  public List<HistoryEntry> history(Gid gid) {
    synchronized (storage) {
      return List.copyOf(storage.history.getOrDefault(gid, List.of()));
    }
  }

  /** How many transactions the log holds. */
  public int size() {
    synchronized (storage) {
      return storage.byGid.size();
    }
  }

  /** Whether every stored transaction passes {@code test} (without copying them). */
  public boolean allMatch(Predicate<Transaction> test) {
    synchronized (storage) {
      for (Transaction tx : storage.byGid.values()) {
        if (!test.test(tx)) {
          return false;
        }
      }
      return true;
    }
  }

  /** Every stored transaction, by gid (a snapshot). */
  public List<Transaction> all() {
    synchronized (storage) {
      return List.copyOf(storage.byGid.values());
    }
  }
}
