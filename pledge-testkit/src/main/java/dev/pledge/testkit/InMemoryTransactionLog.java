package dev.pledge.testkit;

import dev.pledge.core.Gid;
import dev.pledge.core.Transaction;
import dev.pledge.core.spi.DuplicateGidException;
import dev.pledge.core.spi.TransactionLog;
import dev.pledge.core.spi.VersionConflictException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * The transaction log in memory: the reference implementation of the contract, used by the
 * simulator (where "durable" means it survives a simulated coordinator crash) and by tests.
 * Thread-safe through one lock; it is not built for speed.
 */
public final class InMemoryTransactionLog implements TransactionLog {
  private final TreeMap<Gid, Transaction> byGid = new TreeMap<>();

  /** Creation order, to page newest first. */
  private final Map<Gid, Long> sequence = new HashMap<>();

  private final Map<Gid, List<HistoryEntry>> history = new HashMap<>();
  private long nextSequence;

  @Override
  public synchronized void create(Transaction first) {
    if (first.version() != 1) {
      throw new IllegalArgumentException(
          "a new transaction starts at version 1, got " + first.version());
    }
    if (byGid.containsKey(first.gid())) {
      throw new DuplicateGidException("transaction " + first.gid() + " already exists");
    }
    byGid.put(first.gid(), first);
    sequence.put(first.gid(), nextSequence++);
  }

  @Override
  public synchronized void update(Transaction next) {
    Transaction stored = byGid.get(next.gid());
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
    byGid.put(next.gid(), next);
  }

  @Override
  public synchronized Optional<Transaction> load(Gid gid) {
    return Optional.ofNullable(byGid.get(gid));
  }

  @Override
  public synchronized List<Transaction> due(Instant now, int limit) {
    List<Transaction> due = new ArrayList<>();
    for (Transaction tx : byGid.values()) {
      Instant wake = tx.wakeAt();
      if (wake != null && !wake.isAfter(now)) {
        due.add(tx);
      }
    }
    due.sort(Comparator.comparing(Transaction::wakeAt).thenComparing(Transaction::gid));
    return List.copyOf(due.subList(0, Math.min(limit, due.size())));
  }

  @Override
  public synchronized List<Transaction> unsettled(Gid afterGid, int limit) {
    List<Transaction> out = new ArrayList<>();
    Map<Gid, Transaction> tail = afterGid == null ? byGid : byGid.tailMap(afterGid, false);
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

  @Override
  public synchronized Page page(Query query) {
    long before = query.cursor() == null ? Long.MAX_VALUE : parseCursor(query.cursor());
    List<Transaction> matching = new ArrayList<>();
    for (Transaction tx : byGid.values()) {
      if (sequence.get(tx.gid()) < before
          && (query.status() == null || tx.status() == query.status())
          && (query.mode() == null || tx.mode() == query.mode())) {
        matching.add(tx);
      }
    }
    matching.sort(Comparator.comparing((Transaction tx) -> sequence.get(tx.gid())).reversed());
    if (matching.size() <= query.limit()) {
      return new Page(matching, null);
    }
    List<Transaction> items = matching.subList(0, query.limit());
    return new Page(items, Long.toString(sequence.get(items.get(items.size() - 1).gid())));
  }

  private static long parseCursor(String cursor) {
    try {
      return Long.parseLong(cursor);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("cursor '" + cursor + "' was not made by this log", e);
    }
  }

  @Override
  public synchronized void appendHistory(Gid gid, List<HistoryEntry> entries) {
    history.computeIfAbsent(gid, g -> new ArrayList<>()).addAll(entries);
  }

  @Override
  public synchronized List<HistoryEntry> history(Gid gid) {
    return List.copyOf(history.getOrDefault(gid, List.of()));
  }

  /** How many transactions the log holds. */
  public synchronized int size() {
    return byGid.size();
  }

  /** Every stored transaction, by gid (a snapshot). */
  public synchronized List<Transaction> all() {
    return List.copyOf(byGid.values());
  }
}
