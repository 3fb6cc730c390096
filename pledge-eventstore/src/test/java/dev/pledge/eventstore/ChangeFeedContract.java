package dev.pledge.eventstore;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.eventstore.spi.ChangeFeed;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of the {@link ChangeFeed} SPI, run by each implementation ({@code
 * SignalledFeedTest}, {@code PostgresChangeFeedTest}): the generation never goes back, moves after
 * a commit the feed is told of or observes, and wakes a waiter at once; a wait with nothing
 * committed ends at its timeout.
 */
public abstract class ChangeFeedContract {
  /**
   * A fresh feed, ready to observe commits ({@link #commitElsewhere} is seen once this returns).
   */
  protected abstract ChangeFeed open() throws Exception;

  /** Commits an append the feed must observe without being told (another writer's, if it can). */
  protected abstract void commitElsewhere(ChangeFeed feed) throws Exception;

  protected ChangeFeed feed;

  @BeforeEach
  void start() throws Exception {
    feed = open();
  }

  @AfterEach
  void stop() {
    feed.close();
  }

  @Test
  void await_withNothingCommitted_endsAtItsTimeout() throws InterruptedException {
    long seen = feed.generation();
    long started = System.nanoTime();

    boolean moved = feed.await(seen, Duration.ofMillis(200));

    assertThat(moved).isFalse();
    assertThat(System.nanoTime() - started)
        .isGreaterThanOrEqualTo(Duration.ofMillis(200).toNanos());
  }

  @Test
  void committed_movesTheGeneration_andWakesAWaiterAtOnce() throws Exception {
    long seen = feed.generation();
    CompletableFuture<Boolean> waiter =
        CompletableFuture.supplyAsync(() -> {
          try {
            return feed.await(seen, Duration.ofSeconds(30));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        });

    feed.committed(1);

    assertThat(waiter.get(10, TimeUnit.SECONDS)).isTrue();
    assertThat(feed.generation()).isGreaterThan(seen);
  }

  @Test
  void aCommitElsewhere_wakesAWaiter() throws Exception {
    long seen = feed.generation();
    CompletableFuture<Boolean> waiter =
        CompletableFuture.supplyAsync(() -> {
          try {
            return feed.await(seen, Duration.ofSeconds(30));
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
          }
        });

    commitElsewhere(feed);

    assertThat(waiter.get(10, TimeUnit.SECONDS)).isTrue();
  }

  @Test
  void generation_neverGoesBack() throws Exception {
    long previous = feed.generation();
    for (int i = 0; i < 20; i++) {
      if (i % 2 == 0) {
        feed.committed(i);
      } else {
        commitElsewhere(feed);
      }
      long now = feed.generation();
      assertThat(now).isGreaterThanOrEqualTo(previous);
      previous = now;
    }
  }
}
