package dev.pledge.eventstore;

import dev.pledge.eventstore.spi.ChangeFeed;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A running subscription to every stream: one thread reads the events after its position page by
 * page (catch-up), and when it has caught up waits for the change feed, bounded by the poll
 * interval (live). The handler sees each event in position order; if it throws, the same event is
 * offered again after a back-off (doubling up to 5 s), so delivery is at least once and never
 * skips. Close it to stop.
 */
public final class Subscription implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Subscription.class);
  private static final Duration MAX_BACKOFF = Duration.ofSeconds(5);

  /** Receives events in position order. */
  @FunctionalInterface
  public interface Handler {
    void handle(RecordedEvent event) throws Exception;
  }

  private final EventStore store;
  private final ChangeFeed feed;
  private final Handler handler;
  private final int pageSize;
  private final Duration pollInterval;
  private final Thread thread;
  private volatile long position;
  private volatile boolean closed;
  private long heldBackMillis = 1;

  Subscription(
      EventStore store,
      ChangeFeed feed,
      String name,
      long afterPosition,
      int pageSize,
      Duration pollInterval,
      Handler handler) {
    this.store = store;
    this.feed = feed;
    this.handler = handler;
    this.pageSize = pageSize;
    this.pollInterval = pollInterval;
    this.position = afterPosition;
    this.thread = Thread.ofPlatform().name("pledge-es-sub-" + name).daemon().start(this::run);
  }

  /** The position of the last event the handler accepted (its checkpoint, if it keeps one). */
  public long position() {
    return position;
  }

  private void run() {
    Duration backoff = Duration.ofMillis(50);
    while (!closed) {
      try {
        long seen = feed.generation();
        List<RecordedEvent> page = store.readAll(position, pageSize);
        for (RecordedEvent event : page) {
          if (closed) {
            return;
          }
          handler.handle(event);
          position = event.position();
        }
        backoff = Duration.ofMillis(50);
        if (page.size() < pageSize) {
          if (feed.newestPosition() > position) {
            // Committed but not yet readable (an older transaction is still running, see
            // docs/eventstore.md, "Positions"): look again soon, 1 ms then doubling.
            feed.await(seen, SignalledFeed.min(pollInterval, heldBackMillis));
            heldBackMillis = Math.min(heldBackMillis * 2, 64);
          } else {
            heldBackMillis = 1;
            feed.await(seen, pollInterval);
          }
        }
      } catch (InterruptedException e) {
        return;
      } catch (Exception e) {
        if (closed) {
          return;
        }
        log.warn("subscription after position {} failed ({}); again in {}", position, e, backoff);
        try {
          TimeUnit.MILLISECONDS.sleep(backoff.toMillis());
        } catch (InterruptedException interrupted) {
          return;
        }
        backoff =
            backoff.multipliedBy(2).compareTo(MAX_BACKOFF) > 0
                ? MAX_BACKOFF
                : backoff.multipliedBy(2);
      }
    }
  }

  @Override
  public void close() {
    closed = true;
    thread.interrupt();
    try {
      thread.join(TimeUnit.SECONDS.toMillis(10));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
