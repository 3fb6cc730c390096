package dev.pledge.testkit.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.Gid;
import dev.pledge.core.Transaction;
import dev.pledge.core.spi.TransactionLog;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * What every part of {@link TransactionLogContract} sees of it: the log under test, gids named for
 * the test, the implementation's hooks, and the helpers more than one part uses. The parts are
 * interfaces whose tests are default methods, so that each implementation's test class runs them
 * all as its own, and a failure names the implementation.
 */
interface LogContractPart {
  /** The longest wait for a racing writer or claimer. */
  Duration RACE_TIMEOUT = Duration.ofSeconds(30);

  /** The log under test: a new, empty one for every test. */
  TransactionLog log();

  /** A gid naming the test and the role of the transaction in it. */
  Gid gid(String suffix);

  /**
   * Closes the log under test and opens it again on the same storage ({@link
   * TransactionLogContract#reopen}); the reopened log is the one under test from then on.
   */
  void reopenLog();

  /**
   * Another handle on the storage of the log under test ({@link TransactionLogContract#newHandle}).
   */
  TransactionLog anotherHandle();

  /** Writes every version of {@code story} with its history: a create, then one update each. */
  default void createAll(Story story) {
    List<Transaction> versions = story.versions();
    log().create(versions.get(0), story.historyOf(1));
    for (Transaction next : versions.subList(1, versions.size())) {
      log().update(next, story.historyOf(next.version()));
    }
  }

  /** Stops the racers' pool, failing if a racer is still running after {@link #RACE_TIMEOUT}. */
  default void shutDown(ExecutorService pool) throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(RACE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
        .as("writers finished")
        .isTrue();
  }
}
