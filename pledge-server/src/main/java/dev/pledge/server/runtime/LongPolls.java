package dev.pledge.server.runtime;

import dev.pledge.core.Gid;
import dev.pledge.core.Transaction;
import dev.pledge.core.runtime.Coordinator;
import dev.pledge.core.runtime.RuntimeListener;
import java.time.Duration;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * {@code GET /api/v1/transactions/{gid}?waitSeconds=N} and {@code POST
 * /api/v1/transactions?waitSeconds=N}: wait until the transaction is final, woken by the runtime's
 * {@link RuntimeListener#finalized} (nothing polls), at most {@code maxWaiters} at once.
 */
public final class LongPolls implements RuntimeListener {
  /**
   * The most long polls waiting at once by default: half the HTTP server's request bound, so
   * waiting clients can never starve the requests that would end their transactions.
   */
  public static final int DEFAULT_MAX_WAITERS = 512;

  /** The longest a long poll may wait. */
  public static final Duration MAX_WAIT = Duration.ofSeconds(30);

  /** A long poll was refused because the most allowed already wait; poll again shortly. */
  public static final class TooManyWaitersException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TooManyWaitersException(String message) {
      super(message);
    }
  }

  private final FinalWaiters waiters;
  private final int maxWaiters;

  public LongPolls(int maxWaiters) {
    this.waiters = new FinalWaiters(maxWaiters);
    this.maxWaiters = maxWaiters;
  }

  public int maxWaiters() {
    return maxWaiters;
  }

  /**
   * Waits up to {@code wait} (at most {@link #MAX_WAIT}) for the transaction to become final, and
   * answers its state then, or its current state when the wait ends first. A transaction made final
   * by another coordinator sharing the log is seen when the wait ends.
   *
   * @return the state, or null when there is no such transaction
   * @throws TooManyWaitersException when {@code maxWaiters} long polls already wait
   */
  public Transaction awaitFinal(Coordinator coordinator, Gid gid, Duration wait) {
    Objects.requireNonNull(coordinator, "coordinator");
    if (wait.isNegative() || wait.compareTo(MAX_WAIT) > 0) {
      throw new IllegalArgumentException("wait must be in [0, " + MAX_WAIT + "], got " + wait);
    }
    if (wait.isZero()) {
      return coordinator.load(gid);
    }
    Supplier<Transaction> current = () -> coordinator.load(gid);
    return waiters.await(gid, wait, current, current);
  }

  /**
   * Registers a waiter on {@code gid}, then runs {@code first} (a create: it may throw, and then
   * nothing waits), and waits up to {@code wait} (at most {@link #MAX_WAIT}) for the transaction to
   * become final: the answer of a create that waits for its outcome in the same request. Because
   * the waiter is registered before {@code first} runs, a transaction that becomes final at any
   * moment after is seen without reading the log; {@code later} reads the state only when the wait
   * ends first.
   *
   * @throws TooManyWaitersException when {@code maxWaiters} long polls already wait; {@code first}
   *     has not run
   */
  public Transaction awaitFinal(
      Gid gid, Duration wait, Supplier<Transaction> first, Supplier<Transaction> later) {
    Objects.requireNonNull(first, "first");
    Objects.requireNonNull(later, "later");
    if (wait.isNegative() || wait.isZero() || wait.compareTo(MAX_WAIT) > 0) {
      throw new IllegalArgumentException("wait must be in (0, " + MAX_WAIT + "], got " + wait);
    }
    return waiters.await(gid, wait, first, later);
  }

  /** Long polls waiting now. */
  public int waiting() {
    return waiters.waiting();
  }

  @Override
  public void finalized(Transaction tx) {
    waiters.finalized(tx);
  }
}
