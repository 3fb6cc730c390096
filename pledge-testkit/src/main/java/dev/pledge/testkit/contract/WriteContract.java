package dev.pledge.testkit.contract;

import static dev.pledge.testkit.contract.Fixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.core.Mode;
import dev.pledge.core.Transaction;
import dev.pledge.core.spi.DuplicateGidException;
import dev.pledge.core.spi.TransactionLog.Query;
import dev.pledge.core.spi.VersionConflictException;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;

/** Create, load and update with an expected version, alone and raced by many writers. */
interface WriteContract extends LogContractPart {
  /** Writers in the race tests; enough to make collisions likely on any machine. */
  int RACERS = 8;

  /** Gids raced on, one race each. */
  int RACES = 200;

  @ParameterizedTest
  @EnumSource(Mode.class)
  default void create_thenLoad_returnsEveryFieldOfAJustStartedTransaction(Mode mode) {
    Transaction first = Fixtures.started(mode, gid(mode.code())).latest();

    log().create(first);

    assertThat(log().load(first.gid())).contains(first);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("dev.pledge.testkit.contract.WriteContract#decidedStories")
  default void update_thenLoad_returnsEveryFieldOfEachDecidedVersion(Fixtures.Shape shape) {
    List<Transaction> versions = shape.make(gid("tx"), T0).versions();

    log().create(versions.get(0));
    assertThat(log().load(versions.get(0).gid())).contains(versions.get(0));
    for (Transaction next : versions.subList(1, versions.size())) {
      log().update(next);
      assertThat(log().load(next.gid())).contains(next);
    }
  }

  /** Every shape of transaction a coordinator writes, each the full list of its versions. */
  static Stream<Named<Fixtures.Shape>> decidedStories() {
    return Stream.of(
        Named.<Fixtures.Shape>of("saga committed (DAG)", Fixtures::sagaCommitted),
        Named.<Fixtures.Shape>of("saga compensated, a step skipped", Fixtures::sagaCompensated),
        Named.<Fixtures.Shape>of("saga with an action waiting", Fixtures::sagaRetrying),
        Named.<Fixtures.Shape>of("tcc committed", Fixtures::tccCommitted),
        Named.<Fixtures.Shape>of("tcc timed out", Fixtures::tccTimedOut),
        Named.<Fixtures.Shape>of("2pc committed", Fixtures::twoPcCommitted),
        Named.<Fixtures.Shape>of("2pc rolled back, a prepare abandoned", Fixtures::twoPcRolledBack),
        Named.<Fixtures.Shape>of("2pc flagged for an operator", Fixtures::twoPcFlagged),
        Named.<Fixtures.Shape>of("xa committed", Fixtures::xaCommitted),
        Named.<Fixtures.Shape>of(
            "3pc pre-committing, a pre-commit waiting", Fixtures::threePcPreCommitting),
        Named.<Fixtures.Shape>of(
            "3pc flagged with a heuristic outcome", Fixtures::threePcHeuristic),
        Named.<Fixtures.Shape>of("msg delivering", Fixtures::msgDelivering),
        Named.<Fixtures.Shape>of("msg delivered", Fixtures::msgDelivered),
        Named.<Fixtures.Shape>of("msg checked back", Fixtures::msgCheckedBack),
        Named.<Fixtures.Shape>of("msg aborted", Fixtures::msgAborted));
  }

  @Test
  default void load_ofUnknownGid_isEmpty() {
    log().create(Fixtures.started(Mode.SAGA, gid("known")).latest());

    assertThat(log().load(gid("unknown"))).isEmpty();
  }

  @Test
  default void create_keepsTransactionsApart() {
    List<Transaction> all = new ArrayList<>();
    for (Mode mode : Mode.values()) {
      all.add(Fixtures.started(mode, gid(mode.code())).latest());
    }

    all.forEach(log()::create);

    for (Transaction tx : all) {
      assertThat(log().load(tx.gid())).contains(tx);
    }
  }

  @Test
  default void create_ofExistingGid_throwsDuplicateGidAndChangesNothing() {
    Transaction original = Fixtures.started(Mode.TWO_PC, gid("tx")).latest();
    Transaction impostor = Fixtures.started(Mode.SAGA, gid("tx")).latest().withFlag("impostor");
    log().create(original);

    assertThatThrownBy(() -> log().create(impostor)).isInstanceOf(DuplicateGidException.class);
    assertThatThrownBy(() -> log().create(original)).isInstanceOf(DuplicateGidException.class);

    assertThat(log().load(original.gid())).contains(original);
    assertThat(log().page(new Query(null, null, Query.MAX_LIMIT, null)).items())
        .containsExactly(original);
  }

  @Test
  default void create_ofGidAlreadyUpdated_throwsDuplicateGidAndKeepsTheLatestVersion() {
    Story story = Fixtures.twoPcCommitted(gid("tx"), T0);
    log().create(story.first());
    log().update(story.versions().get(1));

    assertThatThrownBy(() -> log().create(story.first())).isInstanceOf(DuplicateGidException.class);

    assertThat(log().load(story.first().gid())).contains(story.versions().get(1));
  }

  // Update with an expected version.

  @Test
  default void update_withNextVersion_replacesTheStoredOne() {
    Story story = Fixtures.tccCommitted(gid("tx"), T0);
    List<Transaction> versions = story.versions();
    log().create(versions.get(0));

    log().update(versions.get(1));
    log().update(versions.get(2));

    assertThat(log().load(story.first().gid())).contains(versions.get(2));
  }

  @Test
  default void update_withStaleVersion_throwsVersionConflictAndChangesNothing() {
    List<Transaction> versions = Fixtures.tccCommitted(gid("tx"), T0).versions();
    log().create(versions.get(0));
    log().update(versions.get(1));
    log().update(versions.get(2));

    Transaction sameVersionAgain = versions.get(2).withFlag("a writer that lost the race");
    assertThatThrownBy(() -> log().update(sameVersionAgain))
        .isInstanceOf(VersionConflictException.class);
    assertThatThrownBy(() -> log().update(versions.get(1)))
        .isInstanceOf(VersionConflictException.class);

    assertThat(log().load(versions.get(0).gid())).contains(versions.get(2));
  }

  @Test
  default void update_withFutureVersion_throwsVersionConflictAndChangesNothing() {
    List<Transaction> versions = Fixtures.tccCommitted(gid("tx"), T0).versions();
    log().create(versions.get(0));

    assertThatThrownBy(() -> log().update(versions.get(2)))
        .isInstanceOf(VersionConflictException.class);
    assertThatThrownBy(() -> log().update(versions.get(versions.size() - 1)))
        .isInstanceOf(VersionConflictException.class);

    assertThat(log().load(versions.get(0).gid())).contains(versions.get(0));
    log().update(versions.get(1));
    assertThat(log().load(versions.get(0).gid())).contains(versions.get(1));
  }

  @Test
  default void update_ofUnknownGid_throwsVersionConflictAndCreatesNothing() {
    Transaction second = Fixtures.twoPcCommitted(gid("tx"), T0).versions().get(1);

    assertThatThrownBy(() -> log().update(second)).isInstanceOf(VersionConflictException.class);

    assertThat(log().load(second.gid())).isEmpty();
    assertThat(log().unsettled(null, 10)).isEmpty();
  }

  @Test
  default void racingWritersOfTheSameNextVersion_exactlyOneWins() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(RACERS);
    try {
      for (int race = 0; race < RACES; race++) {
        Transaction first = Fixtures.started(Mode.TWO_PC, gid("race-" + race)).latest();
        log().create(first);
        List<Transaction> candidates = new ArrayList<>();
        for (int writer = 0; writer < RACERS; writer++) {
          candidates.add(first.withFlag("writer " + writer).nextVersion(T0.plusMillis(writer)));
        }

        List<Boolean> won = race(pool, candidates, candidate -> () -> tryUpdate(candidate));

        assertThat(won).as("race %d: who won", race).containsOnlyOnce(true);
        Transaction winner = candidates.get(won.indexOf(true));
        assertThat(log().load(first.gid())).as("race %d: stored", race).contains(winner);
      }
    } finally {
      shutDown(pool);
    }
  }

  @Test
  default void racingCreatorsOfTheSameGid_exactlyOneWins() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(RACERS);
    try {
      for (int race = 0; race < RACES; race++) {
        Transaction first = Fixtures.started(Mode.SAGA, gid("race-" + race)).latest();
        List<Transaction> candidates = new ArrayList<>();
        for (int writer = 0; writer < RACERS; writer++) {
          candidates.add(first.withFlag("creator " + writer));
        }

        List<Boolean> won = race(pool, candidates, candidate -> () -> tryCreate(candidate));

        assertThat(won).as("race %d: who won", race).containsOnlyOnce(true);
        Transaction winner = candidates.get(won.indexOf(true));
        assertThat(log().load(first.gid())).as("race %d: stored", race).contains(winner);
      }
    } finally {
      shutDown(pool);
    }
  }

  private boolean tryUpdate(Transaction next) {
    try {
      log().update(next);
      return true;
    } catch (VersionConflictException lost) {
      return false;
    }
  }

  private boolean tryCreate(Transaction first) {
    try {
      log().create(first);
      return true;
    } catch (DuplicateGidException lost) {
      return false;
    }
  }

  /**
   * Runs one write per candidate, all released at once by a latch once every writer is ready, and
   * returns whether each won, in candidate order.
   */
  private static List<Boolean> race(
      ExecutorService pool,
      List<Transaction> candidates,
      Function<Transaction, Callable<Boolean>> write)
      throws InterruptedException, ExecutionException, TimeoutException {
    CountDownLatch ready = new CountDownLatch(candidates.size());
    CountDownLatch go = new CountDownLatch(1);
    List<Future<Boolean>> results = new ArrayList<>();
    for (Transaction candidate : candidates) {
      Callable<Boolean> attempt = write.apply(candidate);
      results.add(
          pool.submit(() -> {
            ready.countDown();
            if (!go.await(RACE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS)) {
              throw new TimeoutException("the race never started");
            }
            return attempt.call();
          }));
    }
    assertThat(ready.await(RACE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
        .as("every writer ready")
        .isTrue();
    go.countDown();
    List<Boolean> won = new ArrayList<>();
    for (Future<Boolean> result : results) {
      won.add(result.get(RACE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS));
    }
    return won;
  }
}
