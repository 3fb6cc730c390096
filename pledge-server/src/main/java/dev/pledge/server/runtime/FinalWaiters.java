package dev.pledge.server.runtime;

import dev.pledge.core.Gid;
import dev.pledge.core.Transaction;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Supplier;

/**
 * Long polls waiting for a transaction to become final. A waiter registers before it reads the
 * state, and the coordinator calls {@link #finalized} after every write that makes a transaction
 * final, so no wake-up is lost between the read and the wait, and nothing polls. Waiters of one gid
 * share one future; the entry leaves the map with its last waiter, so the map holds at most {@code
 * maxWaiters} entries whether or not the transactions ever end.
 */
final class FinalWaiters {
  private final int maxWaiters;
  private final Semaphore permits;
  private final Map<Gid, Entry> waiting = new ConcurrentHashMap<>();

  private static final class Entry {
    final CompletableFuture<Transaction> finalState = new CompletableFuture<>();
    int waiters;
  }

  FinalWaiters(int maxWaiters) {
    if (maxWaiters < 1) {
      throw new IllegalArgumentException("maxWaiters must be at least 1, got " + maxWaiters);
    }
    this.maxWaiters = maxWaiters;
    this.permits = new Semaphore(maxWaiters);
  }

  /**
   * Waits up to {@code wait} for {@code gid} to become final. {@code first} gives its state after
   * the waiter is registered (a read, or the create itself; an exception from it ends the wait);
   * null means there is no such transaction. {@code later} reads the state when the wait ends
   * first.
   *
   * @return the final state, or the current state when the wait ended first, or null when {@code
   *     first} found no transaction
   * @throws LongPolls.TooManyWaitersException when {@code maxWaiters} long polls already wait;
   *     {@code first} has not run
   */
  Transaction await(
      Gid gid, Duration wait, Supplier<Transaction> first, Supplier<Transaction> later) {
    Objects.requireNonNull(gid, "gid");
    if (!permits.tryAcquire()) {
      throw new LongPolls.TooManyWaitersException(
          maxWaiters + " long polls are already waiting (at most " + maxWaiters + ")");
    }
    try {
      Entry entry =
          waiting.compute(
              gid,
              (k, e) -> {
                Entry next = e == null ? new Entry() : e;
                next.waiters++;
                return next;
              });
      try {
        Transaction now = first.get();
        if (now == null || now.isFinal()) {
          return now;
        }
        try {
          return entry.finalState.get(wait.toNanos(), TimeUnit.NANOSECONDS);
        } catch (TimeoutException e) {
          Transaction last = later.get();
          return last == null ? now : last;
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return now;
        } catch (ExecutionException e) {
          throw new IllegalStateException("a final-state future never fails", e);
        }
      } finally {
        waiting.compute(gid, (k, e) -> e == null || --e.waiters == 0 ? null : e);
      }
    } finally {
      permits.release();
    }
  }

  /** {@link #await(Gid, Duration, Supplier, Supplier)} reading with {@code current} both times. */
  Transaction await(Gid gid, Duration wait, Supplier<Transaction> current) {
    return await(gid, wait, current, current);
  }

  /** Wakes every long poll waiting on {@code tx}, which the log now holds as final. */
  void finalized(Transaction tx) {
    Entry entry = waiting.get(tx.gid());
    if (entry != null) {
      entry.finalState.complete(tx);
    }
  }

  /** Long polls waiting now. */
  int waiting() {
    return maxWaiters - permits.availablePermits();
  }
}
