package dev.pledge.eventstore;

import dev.pledge.eventstore.spi.ChangeFeed;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The change feed of SQLite and MariaDB: this process's own commits wake subscribers at once; other
 * processes' commits are found by the subscriptions' polling. The base of the PostgreSQL feed,
 * which adds notifications from every process.
 */
class SignalledFeed implements ChangeFeed {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition moved = lock.newCondition();
  private long generation;
  private final java.util.concurrent.atomic.AtomicLong newest =
      new java.util.concurrent.atomic.AtomicLong();

  @Override
  public long generation() {
    lock.lock();
    try {
      return generation;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public boolean await(long seen, Duration timeout) throws InterruptedException {
    long nanos = timeout.toNanos();
    lock.lock();
    try {
      while (generation <= seen) {
        if (nanos <= 0) {
          return false;
        }
        nanos = moved.awaitNanos(nanos);
      }
      return true;
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void committed(long lastPosition) {
    heard(lastPosition);
    signal();
  }

  @Override
  public long newestPosition() {
    return newest.get();
  }

  final void heard(long position) {
    newest.accumulateAndGet(position, Math::max);
  }

  final void signal() {
    lock.lock();
    try {
      generation++;
      moved.signalAll();
    } finally {
      lock.unlock();
    }
  }

  @Override
  public void close() {}

  static Duration min(Duration a, long millis) {
    return a.compareTo(Duration.ofMillis(millis)) < 0 ? a : Duration.ofMillis(millis);
  }

  static long millis(Duration d) {
    return TimeUnit.NANOSECONDS.toMillis(d.toNanos());
  }
}
