package dev.pledge.eventstore.spi;

import java.time.Duration;

/**
 * Tells subscriptions that new events may have been committed, so they read them at once instead of
 * at their next poll. It carries no events itself: subscribers always read the store by position
 * (the only order they can trust), and the feed only shortens the wait. A feed that misses a signal
 * therefore costs latency, never an event: every wait is bounded by the subscription's poll
 * interval.
 *
 * <p>On PostgreSQL the feed is {@code LISTEN/NOTIFY} (each append's transaction notifies on commit,
 * across processes); elsewhere it is the appends of this process plus polling. A MongoDB change
 * stream would be another implementation (see docs/eventstore.md).
 *
 * <p>Contract: {@link #generation()} never decreases, and it increases after every commit that
 * {@link #committed} is told of or that the feed observes itself; {@link #await} returns as soon as
 * the generation is past {@code seen}, or after {@code timeout}; both are thread-safe. Errors of
 * the feed's own connection are handled inside it (reconnecting with a bounded back-off); they are
 * never thrown to subscribers.
 */
public interface ChangeFeed extends AutoCloseable {
  long generation();

  /**
   * Waits until {@link #generation()} exceeds {@code seen} or {@code timeout} passes.
   *
   * @return whether the generation moved past {@code seen}
   */
  boolean await(long seen, Duration timeout) throws InterruptedException;

  /** Called by the store of this process after it committed events up to {@code lastPosition}. */
  void committed(long lastPosition);

  /**
   * The largest position this feed has heard of as committed (0 if none or unknown). A reader that
   * has read everything it can see but is below this may retry soon rather than wait for the next
   * signal: on PostgreSQL an event becomes readable only once every older transaction has ended.
   */
  default long newestPosition() {
    return 0;
  }

  @Override
  void close();
}
