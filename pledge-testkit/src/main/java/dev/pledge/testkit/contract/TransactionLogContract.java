package dev.pledge.testkit.contract;

import static dev.pledge.testkit.contract.Fixtures.CALL_TIMEOUT;
import static dev.pledge.testkit.contract.Fixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatCode;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pledge.core.Gid;
import dev.pledge.core.Mode;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Outcome;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Event;
import dev.pledge.core.history.HistoryEntry;
import dev.pledge.core.spi.DuplicateGidException;
import dev.pledge.core.spi.LeaseHeldException;
import dev.pledge.core.spi.TransactionLog;
import dev.pledge.core.spi.TransactionLog.Page;
import dev.pledge.core.spi.TransactionLog.Query;
import dev.pledge.core.spi.TransactionLog.QueueHead;
import dev.pledge.core.spi.TransactionLog.QueueKey;
import dev.pledge.core.spi.VersionConflictException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
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
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Named;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The contract of {@link TransactionLog}, as its Javadoc states it, checked against any
 * implementation. An implementation's test extends this class and says how to make a fresh, empty
 * log:
 *
 * <pre>{@code
 * class PostgresTransactionLogTest extends TransactionLogContract {
 *   @Override
 *   protected TransactionLog newLog() {
 *     return PostgresTransactionLog.open(freshSchema());
 *   }
 * }
 * }</pre>
 *
 * <p>A durable implementation also overrides {@link #reopen} to close the log and open it again on
 * the same storage, so that the suite checks that what was written is still there.
 *
 * <p>Every transaction here is made by the real engine from a spec and a sequence of events, so the
 * log sees exactly what a coordinator writes: every mode, branches with op progress in every
 * status, messages with deliveries, check-backs, flags, non-ASCII payloads. Gids start with the
 * test's name, as DTM's tests do, so a row left in a shared database says which test wrote it.
 * Instants are whole milliseconds and must come back exactly.
 *
 * <p>What the suite cannot check: that a write survives a crash of the machine, and that operating
 * failures surface as {@code LogUnavailableException}. Those belong in the implementation's own
 * fault tests.
 */
public abstract class TransactionLogContract {
  /** Writers in the race tests; enough to make collisions likely on any machine. */
  private static final int RACERS = 8;

  /** Gids raced on, one race each. */
  private static final int RACES = 200;

  private static final Duration RACE_TIMEOUT = Duration.ofSeconds(30);

  protected TransactionLog log;
  private String testName;

  /**
   * A new, empty log. Called before every test, before the subclass's own {@code @BeforeEach}
   * methods run, so whatever it needs (a database, a schema) must be ready by then: made here, or
   * in a {@code @BeforeAll}.
   */
  protected abstract TransactionLog newLog();

  /**
   * The same storage as {@code log}, closed and opened again. The default returns {@code log}
   * itself, which is right only for a log that lives in memory.
   */
  protected TransactionLog reopen(TransactionLog log) {
    return log;
  }

  /**
   * Another handle on the same storage as {@code log}, opened after it (so with a newer epoch), as
   * a second coordinator sharing the database would open one.
   */
  protected abstract TransactionLog newHandle(TransactionLog log);

  @BeforeEach
  final void freshLog(TestInfo info) {
    log = newLog();
    String method = info.getTestMethod().map(m -> m.getName()).orElse("test");
    testName = method.replaceAll("[^A-Za-z0-9.:-]", ".");
    if (testName.length() > 96) {
      testName = testName.substring(0, 96);
    }
  }

  /** A gid naming the test and the role of the transaction in it. */
  protected final Gid gid(String suffix) {
    return Gid.of(testName + "-" + suffix);
  }

  // --- create and load ---

  @ParameterizedTest
  @EnumSource(Mode.class)
  void create_thenLoad_returnsEveryFieldOfAJustStartedTransaction(Mode mode) {
    Transaction first = Fixtures.started(mode, gid(mode.code())).latest();

    log.create(first);

    assertThat(log.load(first.gid())).contains(first);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("decidedStories")
  void update_thenLoad_returnsEveryFieldOfEachDecidedVersion(Fixtures.Shape shape) {
    List<Transaction> versions = shape.make(gid("tx"), T0).versions();

    log.create(versions.get(0));
    assertThat(log.load(versions.get(0).gid())).contains(versions.get(0));
    for (Transaction next : versions.subList(1, versions.size())) {
      log.update(next);
      assertThat(log.load(next.gid())).contains(next);
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
  void load_ofUnknownGid_isEmpty() {
    log.create(Fixtures.started(Mode.SAGA, gid("known")).latest());

    assertThat(log.load(gid("unknown"))).isEmpty();
  }

  @Test
  void create_keepsTransactionsApart() {
    List<Transaction> all = new ArrayList<>();
    for (Mode mode : Mode.values()) {
      all.add(Fixtures.started(mode, gid(mode.code())).latest());
    }

    all.forEach(log::create);

    for (Transaction tx : all) {
      assertThat(log.load(tx.gid())).contains(tx);
    }
  }

  @Test
  void create_ofExistingGid_throwsDuplicateGidAndChangesNothing() {
    Transaction original = Fixtures.started(Mode.TWO_PC, gid("tx")).latest();
    Transaction impostor = Fixtures.started(Mode.SAGA, gid("tx")).latest().withFlag("impostor");
    log.create(original);

    assertThatThrownBy(() -> log.create(impostor)).isInstanceOf(DuplicateGidException.class);
    assertThatThrownBy(() -> log.create(original)).isInstanceOf(DuplicateGidException.class);

    assertThat(log.load(original.gid())).contains(original);
    assertThat(log.page(new Query(null, null, Query.MAX_LIMIT, null)).items())
        .containsExactly(original);
  }

  @Test
  void create_ofGidAlreadyUpdated_throwsDuplicateGidAndKeepsTheLatestVersion() {
    Story story = Fixtures.twoPcCommitted(gid("tx"), T0);
    log.create(story.first());
    log.update(story.versions().get(1));

    assertThatThrownBy(() -> log.create(story.first())).isInstanceOf(DuplicateGidException.class);

    assertThat(log.load(story.first().gid())).contains(story.versions().get(1));
  }

  // --- update with an expected version ---

  @Test
  void update_withNextVersion_replacesTheStoredOne() {
    Story story = Fixtures.tccCommitted(gid("tx"), T0);
    List<Transaction> versions = story.versions();
    log.create(versions.get(0));

    log.update(versions.get(1));
    log.update(versions.get(2));

    assertThat(log.load(story.first().gid())).contains(versions.get(2));
  }

  @Test
  void update_withStaleVersion_throwsVersionConflictAndChangesNothing() {
    List<Transaction> versions = Fixtures.tccCommitted(gid("tx"), T0).versions();
    log.create(versions.get(0));
    log.update(versions.get(1));
    log.update(versions.get(2));

    Transaction sameVersionAgain = versions.get(2).withFlag("a writer that lost the race");
    assertThatThrownBy(() -> log.update(sameVersionAgain))
        .isInstanceOf(VersionConflictException.class);
    assertThatThrownBy(() -> log.update(versions.get(1)))
        .isInstanceOf(VersionConflictException.class);

    assertThat(log.load(versions.get(0).gid())).contains(versions.get(2));
  }

  @Test
  void update_withFutureVersion_throwsVersionConflictAndChangesNothing() {
    List<Transaction> versions = Fixtures.tccCommitted(gid("tx"), T0).versions();
    log.create(versions.get(0));

    assertThatThrownBy(() -> log.update(versions.get(2)))
        .isInstanceOf(VersionConflictException.class);
    assertThatThrownBy(() -> log.update(versions.get(versions.size() - 1)))
        .isInstanceOf(VersionConflictException.class);

    assertThat(log.load(versions.get(0).gid())).contains(versions.get(0));
    log.update(versions.get(1));
    assertThat(log.load(versions.get(0).gid())).contains(versions.get(1));
  }

  @Test
  void update_ofUnknownGid_throwsVersionConflictAndCreatesNothing() {
    Transaction second = Fixtures.twoPcCommitted(gid("tx"), T0).versions().get(1);

    assertThatThrownBy(() -> log.update(second)).isInstanceOf(VersionConflictException.class);

    assertThat(log.load(second.gid())).isEmpty();
    assertThat(log.unsettled(null, 10)).isEmpty();
  }

  @Test
  void racingWritersOfTheSameNextVersion_exactlyOneWins() throws Exception {
    ExecutorService pool = Executors.newFixedThreadPool(RACERS);
    try {
      for (int race = 0; race < RACES; race++) {
        Transaction first = Fixtures.started(Mode.TWO_PC, gid("race-" + race)).latest();
        log.create(first);
        List<Transaction> candidates = new ArrayList<>();
        for (int writer = 0; writer < RACERS; writer++) {
          candidates.add(first.withFlag("writer " + writer).nextVersion(T0.plusMillis(writer)));
        }

        List<Boolean> won = race(pool, candidates, candidate -> () -> tryUpdate(candidate));

        assertThat(won).as("race %d: who won", race).containsOnlyOnce(true);
        Transaction winner = candidates.get(won.indexOf(true));
        assertThat(log.load(first.gid())).as("race %d: stored", race).contains(winner);
      }
    } finally {
      shutDown(pool);
    }
  }

  @Test
  void racingCreatorsOfTheSameGid_exactlyOneWins() throws Exception {
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
        assertThat(log.load(first.gid())).as("race %d: stored", race).contains(winner);
      }
    } finally {
      shutDown(pool);
    }
  }

  private boolean tryUpdate(Transaction next) {
    try {
      log.update(next);
      return true;
    } catch (VersionConflictException lost) {
      return false;
    }
  }

  private boolean tryCreate(Transaction first) {
    try {
      log.create(first);
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

  private static void shutDown(ExecutorService pool) throws InterruptedException {
    pool.shutdownNow();
    assertThat(pool.awaitTermination(RACE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS))
        .as("writers finished")
        .isTrue();
  }

  // --- due work ---

  /**
   * Six transactions, created in an order unrelated to when they wake: four undecided ones waking
   * at T0 + 5 s, 10 s, 20 s and 25 s, a committed msg whose deliveries are due just after T0 + 10
   * s, and a committed saga that never wakes. Returns the five that wake, earliest first.
   */
  private List<Transaction> createDueSet() {
    Transaction tccAt5 = Fixtures.started(Mode.TCC, gid("tcc"), T0, Duration.ofSeconds(5)).latest();
    Transaction twoPcAt10 =
        Fixtures.started(Mode.TWO_PC, gid("2pc"), T0, Duration.ofSeconds(60)).latest();
    Transaction msgAt20 =
        Fixtures.started(Mode.MSG, gid("msg"), T0, Duration.ofSeconds(20)).latest();
    Transaction sagaAt25 =
        Fixtures.started(Mode.SAGA, gid("saga"), T0.plusSeconds(15), Duration.ofSeconds(60))
            .latest();
    Story delivering = Fixtures.msgDelivering(gid("delivering"), T0);
    Transaction deliveringAt10 = delivering.latest();
    Story settled = Fixtures.sagaCommitted(gid("settled"), T0);

    assertThat(tccAt5.wakeAt()).as("fixture").isEqualTo(T0.plusSeconds(5));
    assertThat(twoPcAt10.wakeAt()).as("fixture").isEqualTo(T0.plus(CALL_TIMEOUT));
    assertThat(deliveringAt10.wakeAt())
        .as("fixture")
        .isEqualTo(delivering.now().plus(CALL_TIMEOUT))
        .isAfter(twoPcAt10.wakeAt())
        .isBefore(T0.plusSeconds(11));
    assertThat(msgAt20.wakeAt()).as("fixture").isEqualTo(T0.plusSeconds(20));
    assertThat(sagaAt25.wakeAt()).as("fixture").isEqualTo(T0.plusSeconds(15).plus(CALL_TIMEOUT));
    assertThat(settled.latest().wakeAt()).as("fixture").isNull();

    log.create(sagaAt25);
    createAll(settled);
    log.create(msgAt20);
    log.create(tccAt5);
    createAll(delivering);
    log.create(twoPcAt10);
    return List.of(tccAt5, twoPcAt10, deliveringAt10, msgAt20, sagaAt25);
  }

  @Test
  void due_returnsOnlyTransactionsWhoseWakeAtIsAtOrBeforeNow() {
    List<Transaction> t = createDueSet();
    Instant deliveryDue = t.get(2).wakeAt();

    assertThat(log.due(T0, 100)).isEmpty();
    assertThat(log.due(T0.plusSeconds(5).minusMillis(1), 100)).isEmpty();
    assertThat(log.due(T0.plusSeconds(5), 100)).containsExactly(t.get(0));
    assertThat(log.due(deliveryDue.minusMillis(1), 100)).containsExactly(t.get(0), t.get(1));
    assertThat(log.due(deliveryDue, 100)).containsExactly(t.get(0), t.get(1), t.get(2));
  }

  @Test
  void due_returnsEarliestFirst_andNeverASettledTransaction() {
    List<Transaction> t = createDueSet();

    assertThat(log.due(T0.plus(Duration.ofDays(365)), 100)).containsExactlyElementsOf(t);
  }

  @Test
  void due_returnsAtMostLimit_theEarliest() {
    List<Transaction> t = createDueSet();
    Instant later = T0.plus(Duration.ofDays(1));

    assertThat(log.due(later, 1)).containsExactly(t.get(0));
    assertThat(log.due(later, 3)).containsExactlyElementsOf(t.subList(0, 3));
    assertThat(log.due(T0.plusSeconds(5), 3)).containsExactly(t.get(0));
  }

  @Test
  void due_followsTheWakeAtOfTheLatestVersion() {
    Story story = Fixtures.tccTimedOut(gid("tx"), T0);
    List<Transaction> versions = story.versions();
    Transaction begun = versions.get(versions.size() - 2);
    Transaction aborting = story.latest();
    Instant deadline = begun.deadline();
    log.create(versions.get(0));
    log.update(begun);
    assertThat(log.due(deadline, 10)).containsExactly(begun);

    log.update(aborting);
    assertThat(aborting.wakeAt()).as("fixture").isEqualTo(deadline.plus(CALL_TIMEOUT));
    assertThat(log.due(deadline, 10)).isEmpty();
    assertThat(log.due(deadline.plus(CALL_TIMEOUT), 10)).containsExactly(aborting);

    Story settled = story.succeedEverythingInFlight();
    log.update(settled.latest());
    assertThat(settled.latest().status()).as("fixture").isEqualTo(Status.ABORTED);
    assertThat(log.due(deadline.plus(Duration.ofDays(365)), 10)).isEmpty();
  }

  // --- leases and fencing ---

  /** Long enough never to expire during a test. */
  private static final Duration LONG_LEASE = Duration.ofMinutes(5);

  /** Short enough to wait out; long enough for the claims below to run inside it. */
  private static final Duration SHORT_LEASE = Duration.ofSeconds(3);

  private static final Instant LATER = T0.plus(Duration.ofDays(365));

  @Test
  void newHandle_hasANewerEpoch() {
    TransactionLog second = newHandle(log);
    TransactionLog third = newHandle(log);

    assertThat(second.epoch()).isGreaterThan(log.epoch());
    assertThat(third.epoch()).isGreaterThan(second.epoch());
  }

  @Test
  void claimDue_takesOnlyDueWork_earliestFirst_andAtMostLimit() {
    List<Transaction> t = createDueSet();

    assertThat(log.claimDue(T0, LONG_LEASE, 100)).isEmpty();
    assertThat(log.claimDue(T0.plusSeconds(5), LONG_LEASE, 100)).containsExactly(t.get(0));
    assertThat(log.claimDue(LATER, LONG_LEASE, 3)).containsExactlyElementsOf(t.subList(0, 3));
  }

  @Test
  void claimDue_ofWorkLeasedToAnotherHandle_skipsIt_whileTheLeaseLives() {
    List<Transaction> t = createDueSet();
    TransactionLog other = newHandle(log);

    assertThat(log.claimDue(LATER, LONG_LEASE, 2)).containsExactlyElementsOf(t.subList(0, 2));
    assertThat(other.claimDue(LATER, LONG_LEASE, 100)).containsExactlyElementsOf(t.subList(2, 5));
    assertThat(log.claimDue(LATER, LONG_LEASE, 100))
        .as("the first handle renews its own leases and sees none of the other's")
        .containsExactlyElementsOf(t.subList(0, 2));
  }

  @Test
  void claimDue_afterTheLeaseExpires_letsAnotherHandleTakeTheWork() {
    List<Transaction> t = createDueSet();
    TransactionLog other = newHandle(log);
    assertThat(log.claimDue(LATER, SHORT_LEASE, 100)).hasSize(t.size());
    assertThat(other.claimDue(LATER, LONG_LEASE, 100)).isEmpty();

    await()
        .atMost(SHORT_LEASE.multipliedBy(10))
        .pollInterval(Duration.ofMillis(100))
        .untilAsserted(
            () -> assertThat(other.claimDue(LATER, LONG_LEASE, 100)).containsExactlyElementsOf(t));
    assertThat(log.claimDue(LATER, LONG_LEASE, 100)).isEmpty();
  }

  @Test
  void racingClaimers_neverTakeTheSameTransaction() throws Exception {
    int count = 60;
    for (int i = 0; i < count; i++) {
      log.create(Fixtures.started(Mode.TCC, gid(String.format("%03d", i))).latest());
    }
    List<TransactionLog> handles = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      handles.add(newHandle(log));
    }
    ExecutorService pool = Executors.newFixedThreadPool(handles.size());
    try {
      List<Future<List<Gid>>> claims = new ArrayList<>();
      for (TransactionLog handle : handles) {
        claims.add(
            pool.submit(() -> {
              // A handle's claim returns its own leases again (a renewal), so it claims in rounds
              // of more than it holds until a round brings nothing new.
              Set<Gid> mine = new HashSet<>();
              boolean more = true;
              while (more) {
                more = false;
                for (Transaction tx : handle.claimDue(LATER, LONG_LEASE, mine.size() + 7)) {
                  more |= mine.add(tx.gid());
                }
              }
              return List.copyOf(mine);
            }));
      }
      Set<Gid> seen = new HashSet<>();
      int total = 0;
      for (Future<List<Gid>> claim : claims) {
        List<Gid> mine = claim.get(RACE_TIMEOUT.toSeconds(), TimeUnit.SECONDS);
        seen.addAll(mine);
        total += mine.size();
      }
      assertThat(total).as("claims in all").isEqualTo(count);
      assertThat(seen).as("distinct transactions claimed").hasSize(count);
    } finally {
      shutDown(pool);
    }
  }

  @Test
  void update_throughAnOlderHandle_whileANewerHoldsALiveLease_isFencedAndChangesNothing() {
    Story story = Fixtures.tccTimedOut(gid("tx"), T0);
    List<Transaction> versions = story.versions();
    Transaction begun = versions.get(versions.size() - 2);
    log.create(versions.get(0));
    log.update(begun);
    TransactionLog newer = newHandle(log);
    assertThat(newer.claimDue(LATER, LONG_LEASE, 10)).containsExactly(begun);

    assertThatThrownBy(() -> log.update(story.latest())).isInstanceOf(LeaseHeldException.class);
    assertThat(log.load(gid("tx"))).contains(begun);

    newer.update(story.latest());
    assertThat(log.load(gid("tx"))).contains(story.latest());
  }

  @Test
  void update_throughANewerHandle_whileAnOlderHoldsALiveLease_succeeds() {
    Story story = Fixtures.tccTimedOut(gid("tx"), T0);
    List<Transaction> versions = story.versions();
    Transaction begun = versions.get(versions.size() - 2);
    log.create(versions.get(0));
    log.update(begun);
    TransactionLog newer = newHandle(log);
    assertThat(log.claimDue(LATER, LONG_LEASE, 10)).containsExactly(begun);

    newer.update(story.latest());

    assertThat(newer.load(gid("tx"))).contains(story.latest());
  }

  @Test
  void claimDue_ofASettledTransaction_neverReturnsIt() {
    Story settled = Fixtures.tccTimedOut(gid("tx"), T0).succeedEverythingInFlight();
    createAll(settled);

    assertThat(log.claimDue(LATER, LONG_LEASE, 10)).isEmpty();
  }

  // --- unsettled ---

  @Test
  void unsettled_excludesSettledTransactions_butKeepsACommittedMsgWithPendingDeliveries() {
    List<Story> unsettled =
        List.of(
            Fixtures.started(Mode.TCC, gid("01-tcc-begun")),
            Fixtures.twoPcFlagged(gid("03-2pc-committing"), T0),
            Fixtures.msgDelivering(gid("05-msg-committed-delivering"), T0),
            Fixtures.started(Mode.MSG, gid("07-msg-prepared")),
            Fixtures.msgCommitting(gid("09-msg-committing"), T0),
            Fixtures.tccTimedOut(gid("11-tcc-aborting"), T0),
            Fixtures.msgCheckedBack(gid("13-msg-committed-retrying"), T0));
    List<Story> settled =
        List.of(
            Fixtures.sagaCommitted(gid("02-saga-committed"), T0),
            Fixtures.twoPcRolledBack(gid("04-2pc-aborted"), T0),
            Fixtures.msgDelivered(gid("06-msg-delivered"), T0),
            Fixtures.msgAborted(gid("08-msg-aborted"), T0),
            Fixtures.msgCommittedWithoutSubscribers(gid("10-msg-no-subscribers"), T0),
            Fixtures.sagaCompensated(gid("12-saga-compensated"), T0));
    assertThat(unsettled.get(2).latest().status()).as("fixture").isEqualTo(Status.COMMITTED);
    settled.forEach(s -> assertThat(s.latest().isSettled()).as("fixture").isTrue());
    unsettled.forEach(s -> assertThat(s.latest().isSettled()).as("fixture").isFalse());
    settled.forEach(this::createAll);
    unsettled.forEach(this::createAll);

    assertThat(log.unsettled(null, 100))
        .containsExactlyElementsOf(unsettled.stream().map(Story::latest).toList());
  }

  @Test
  void unsettled_pagesThroughByGid_afterTheGivenGid() {
    List<Mode> modes = List.of(Mode.SAGA, Mode.TCC, Mode.TWO_PC, Mode.MSG);
    List<Transaction> expected = new ArrayList<>();
    for (int i = 1; i <= 20; i++) {
      Gid gid = gid(String.format("%02d", i));
      if (i % 2 == 0) {
        createAll(Fixtures.twoPcCommitted(gid, T0));
      } else {
        Story story = Fixtures.started(modes.get((i / 2) % modes.size()), gid);
        createAll(story);
        expected.add(story.latest());
      }
    }

    List<Transaction> walked = new ArrayList<>();
    Gid after = null;
    for (int page = 0; page < 10; page++) {
      List<Transaction> items = log.unsettled(after, 4);
      assertThat(items).as("page %d", page).hasSizeLessThanOrEqualTo(4);
      if (items.isEmpty()) {
        break;
      }
      walked.addAll(items);
      after = items.get(items.size() - 1).gid();
    }

    assertThat(walked).containsExactlyElementsOf(expected);
    assertThat(log.unsettled(null, 4)).containsExactlyElementsOf(expected.subList(0, 4));
    assertThat(log.unsettled(gid("04"), 2)).containsExactly(expected.get(2), expected.get(3));
    assertThat(log.unsettled(gid("19"), 4)).isEmpty();
    assertThat(log.unsettled(gid("00"), 1)).containsExactly(expected.get(0));
  }

  @Test
  void unsettled_dropsATransactionOnceItSettles() {
    Story story = Fixtures.msgDelivered(gid("tx"), T0);
    List<Transaction> versions = story.versions();
    log.create(versions.get(0));
    for (Transaction next : versions.subList(1, versions.size() - 1)) {
      log.update(next);
      assertThat(log.unsettled(null, 10)).containsExactly(next);
    }

    log.update(story.latest());

    assertThat(log.unsettled(null, 10)).isEmpty();
  }

  // --- page ---

  /**
   * Creates {@code count} transactions of every mode and several statuses, one a second (so their
   * creation times, too, say which is newer), and returns them oldest first.
   */
  private List<Transaction> createMixed(int count) {
    List<Fixtures.Shape> shapes =
        List.of(
            Fixtures::sagaCommitted,
            Fixtures::tccCommitted,
            Fixtures::twoPcRolledBack,
            Fixtures::msgDelivering,
            (gid, start) -> Fixtures.started(Mode.SAGA, gid, start, Fixtures.TIMEOUT),
            Fixtures::tccTimedOut,
            Fixtures::twoPcCommitted,
            Fixtures::msgAborted);
    List<Transaction> created = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      Story story =
          shapes.get(i % shapes.size()).make(gid(String.format("%03d", i)), T0.plusSeconds(i));
      createAll(story);
      created.add(story.latest());
    }
    return created;
  }

  @Test
  void page_listsNewestFirst() {
    List<Transaction> created = createMixed(6);

    Page page = log.page(new Query(null, null, 10, null));

    assertThat(page.items()).containsExactlyElementsOf(created.reversed());
    assertThat(page.nextCursor()).isNull();
  }

  @Test
  void page_ofEmptyLog_isEmptyAndLast() {
    Page page = log.page(new Query(null, null, 10, null));

    assertThat(page.items()).isEmpty();
    assertThat(page.nextCursor()).isNull();
  }

  @Test
  void page_filtersByStatus() {
    List<Transaction> created = createMixed(16);

    for (Status status : Status.values()) {
      assertThat(log.page(new Query(status, null, Query.MAX_LIMIT, null)).items())
          .as("status %s", status)
          .containsExactlyElementsOf(
              created.reversed().stream().filter(tx -> tx.status() == status).toList());
    }
  }

  @Test
  void page_filtersByMode() {
    List<Transaction> created = createMixed(16);

    for (Mode mode : Mode.values()) {
      assertThat(log.page(new Query(null, mode, Query.MAX_LIMIT, null)).items())
          .as("mode %s", mode)
          .containsExactlyElementsOf(
              created.reversed().stream().filter(tx -> tx.mode() == mode).toList());
    }
  }

  @Test
  void page_filtersByStatusAndMode() {
    List<Transaction> created = createMixed(16);

    Page committedSagas = log.page(new Query(Status.COMMITTED, Mode.SAGA, Query.MAX_LIMIT, null));
    Page abortedMsgs = log.page(new Query(Status.ABORTED, Mode.MSG, Query.MAX_LIMIT, null));
    Page preparedTcc = log.page(new Query(Status.PREPARED, Mode.TCC, Query.MAX_LIMIT, null));

    assertThat(committedSagas.items())
        .hasSize(2)
        .containsExactlyElementsOf(
            created.reversed().stream()
                .filter(tx -> tx.status() == Status.COMMITTED && tx.mode() == Mode.SAGA)
                .toList());
    assertThat(abortedMsgs.items())
        .hasSize(2)
        .allMatch(tx -> tx.status() == Status.ABORTED && tx.mode() == Mode.MSG);
    assertThat(preparedTcc.items()).isEmpty();
    assertThat(preparedTcc.nextCursor()).isNull();
  }

  @Test
  void page_cursorWalksEveryPageWithoutGapOrDuplicate() {
    List<Transaction> created = createMixed(23);

    List<Page> pages = walk(null, null, 5);

    assertThat(pages).extracting(p -> p.items().size()).containsExactly(5, 5, 5, 5, 3);
    assertThat(pages.stream().flatMap(p -> p.items().stream()))
        .containsExactlyElementsOf(created.reversed());
  }

  @Test
  void page_cursorWalksAFilteredListWithoutGapOrDuplicate() {
    List<Transaction> created = createMixed(40);
    List<Transaction> expected =
        created.reversed().stream()
            .filter(tx -> tx.mode() == Mode.TCC && tx.status() == Status.ABORTING)
            .toList();
    assertThat(expected).as("fixture").hasSize(5);

    List<Page> pages = walk(Status.ABORTING, Mode.TCC, 2);

    assertThat(pages).extracting(p -> p.items().size()).containsExactly(2, 2, 1);
    assertThat(pages.stream().flatMap(p -> p.items().stream())).containsExactlyElementsOf(expected);
  }

  @Test
  void page_thatEndsExactlyAtTheLastItem_hasNoCursor() {
    List<Transaction> created = createMixed(10);

    List<Page> pages = walk(null, null, 5);

    assertThat(pages).hasSize(2);
    assertThat(pages.get(1).items()).containsExactlyElementsOf(created.reversed().subList(5, 10));
  }

  @Test
  void page_cursorIsStable_whileTransactionsAreCreatedAndUpdated() {
    List<Story> stories = new ArrayList<>();
    for (int i = 0; i < 12; i++) {
      Story story = Fixtures.twoPcCommitted(gid(String.format("%02d", i)), T0.plusSeconds(i));
      log.create(story.first());
      stories.add(story);
    }

    List<Gid> walked = new ArrayList<>();
    String cursor = null;
    int round = 0;
    do {
      Page page = log.page(new Query(null, null, 4, cursor));
      page.items().forEach(tx -> walked.add(tx.gid()));
      cursor = page.nextCursor();
      // Between pages, the oldest transaction moves on and a new one arrives: neither may shift
      // the walk.
      Story oldest = stories.get(0);
      log.update(oldest.versions().get(round + 1));
      Instant later = T0.plus(Duration.ofHours(1)).plusSeconds(round);
      log.create(
          Fixtures.started(Mode.SAGA, gid("new-" + round), later, Fixtures.TIMEOUT).latest());
      round++;
    } while (cursor != null && round < 10);

    assertThat(walked)
        .containsExactlyElementsOf(stories.reversed().stream().map(s -> s.first().gid()).toList());
  }

  @Test
  void page_filtersByTextInTheGid_caseSensitively() {
    List<Transaction> created = createMixed(12);
    log.create(Fixtures.started(Mode.SAGA, gid("Order-7"), T0, Fixtures.TIMEOUT).latest());
    log.create(Fixtures.started(Mode.TCC, gid("order-7b"), T0, Fixtures.TIMEOUT).latest());

    assertThat(log.page(new Query(null, null, "order-7", null, null, 10, null)).items())
        .extracting(Transaction::gid)
        .containsExactly(gid("order-7b"));
    assertThat(log.page(new Query(null, null, "-00", null, null, 10, null)).items())
        .containsExactlyElementsOf(
            created.reversed().stream().filter(tx -> tx.gid().value().contains("-00")).toList())
        .hasSize(10);
    assertThat(log.page(new Query(null, null, "nowhere", null, null, 10, null)).items()).isEmpty();
  }

  @Test
  void page_ofDeadLetters_listsTransactionsHoldingADeadDelivery_byItsSubscription() {
    createMixed(6); // msgs among them, none with a dead delivery
    Story billing = Fixtures.msgDeadTo(gid("dead-billing"), T0.plusSeconds(20), "billing");
    Story archive = Fixtures.msgDeadTo(gid("dead-archive"), T0.plusSeconds(21), "archive");
    createAll(billing);
    createAll(archive);
    assertThat(billing.latest().deadSubscriptions()).containsExactly("billing");

    assertThat(log.page(Query.deadLetters(null, 10, null)).items())
        .containsExactly(archive.latest(), billing.latest());
    assertThat(log.page(Query.deadLetters("billing", 10, null)).items())
        .containsExactly(billing.latest());
    assertThat(log.page(Query.deadLetters("archive", 10, null)).items())
        .containsExactly(archive.latest());
    // A name inside another's is not a match; nor is one with nothing dead.
    assertThat(log.page(Query.deadLetters("bill", 10, null)).items()).isEmpty();
    assertThat(log.page(Query.deadLetters("shipping", 10, null)).items()).isEmpty();

    Page first = log.page(Query.deadLetters(null, 1, null));
    assertThat(first.items()).containsExactly(archive.latest());
    Page second = log.page(Query.deadLetters(null, 1, first.nextCursor()));
    assertThat(second.items()).containsExactly(billing.latest());
    assertThat(second.nextCursor()).isNull();
  }

  @Test
  void page_ofDeadLetters_dropsATransactionOnceNothingInItIsDead() {
    Story story = Fixtures.msgDeadTo(gid("dead-then-redriven"), T0, "archive");
    createAll(story);
    int written = story.versions().size();
    String messageId = story.latest().messages().get(2).messageId();

    story.on(new Event.Redrive(messageId, "archive"));
    for (Transaction next : story.versions().subList(written, story.versions().size())) {
      log.update(next, story.historyOf(next.version()));
    }

    assertThat(story.latest().deadSubscriptions()).isEmpty();
    assertThat(log.page(Query.deadLetters(null, 10, null)).items()).isEmpty();
    assertThat(log.load(story.latest().gid())).contains(story.latest());
  }

  @Test
  void query_ofDeadLettersToABadName_isRefused() {
    assertThatThrownBy(() -> Query.deadLetters("a,b", 10, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("deadTo must match [A-Za-z0-9._:-]{1,128}, got 'a,b'");
    assertThatThrownBy(() -> new Query(null, null, null, null, null, false, "billing", 10, null))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("deadTo 'billing' requires withDeadLetters");
  }

  @Test
  void page_filtersByCreationTime_afterInclusiveBeforeExclusive() {
    List<Transaction> created = createMixed(10); // created at T0 + 0 s .. T0 + 9 s

    Page middle =
        log.page(
            new Query(
                null, null, null, T0.plusSeconds(3), T0.plusSeconds(7), Query.MAX_LIMIT, null));
    Page older = log.page(new Query(null, null, null, null, T0.plusSeconds(2), 10, null));

    assertThat(middle.items()).containsExactlyElementsOf(created.subList(3, 7).reversed());
    assertThat(older.items()).containsExactlyElementsOf(created.subList(0, 2).reversed());
  }

  @Test
  void page_cursorWalksAListFilteredByEveryCriterion() {
    List<Transaction> created = createMixed(64);
    Query first =
        new Query(
            Status.COMMITTED, Mode.SAGA, "-0", T0.plusSeconds(1), T0.plusSeconds(60), 2, null);
    List<Transaction> expected = created.reversed().stream().filter(first::matches).toList();
    assertThat(expected).as("fixture").hasSizeGreaterThan(2);

    List<Transaction> walked = new ArrayList<>();
    String cursor = null;
    int pages = 0;
    do {
      Page page =
          log.page(
              new Query(
                  first.status(),
                  first.mode(),
                  first.gidContains(),
                  first.createdAfter(),
                  first.createdBefore(),
                  first.limit(),
                  cursor));
      walked.addAll(page.items());
      cursor = page.nextCursor();
    } while (cursor != null && ++pages < 64);

    assertThat(walked).containsExactlyElementsOf(expected);
  }

  @Test
  void query_rejectsGidTextOutsideTheGidAlphabet() {
    for (String text : new String[] {"", "a%", "a b", "é", "x".repeat(129)}) {
      assertThatThrownBy(() -> new Query(null, null, text, null, null, 10, null))
          .as("text '%s'", text)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("gidContains");
    }
  }

  // --- counts ---

  @Test
  void counts_ofEmptyLog_isEmpty() {
    assertThat(log.counts()).isEmpty();
  }

  @Test
  void counts_oneRowPerModeAndStatus_followingUpdates() {
    List<Transaction> created = createMixed(16);
    Map<String, Long> expected = new TreeMap<>();
    for (Transaction tx : created) {
      expected.merge(tx.mode().code() + " " + tx.status().label(), 1L, Long::sum);
    }

    assertThat(countsByKey()).isEqualTo(expected);

    Story story = Fixtures.twoPcCommitted(gid("moves"), T0);
    log.create(story.first());
    expected.merge("2pc " + story.first().status().label(), 1L, Long::sum);
    assertThat(countsByKey()).isEqualTo(expected);
    for (Transaction next : story.versions().subList(1, story.versions().size())) {
      log.update(next);
    }
    expected.merge("2pc " + story.first().status().label(), -1L, Long::sum);
    expected.values().removeIf(n -> n == 0);
    expected.merge("2pc " + story.latest().status().label(), 1L, Long::sum);
    assertThat(countsByKey()).isEqualTo(expected);
  }

  private Map<String, Long> countsByKey() {
    Map<String, Long> out = new TreeMap<>();
    for (TransactionLog.Count count : log.counts()) {
      assertThat(count.transactions()).as("%s", count).isPositive();
      assertThat(out.put(count.mode().code() + " " + count.status().label(), count.transactions()))
          .as("one row for %s", count)
          .isNull();
    }
    return out;
  }

  @Test
  void page_withMaximumLimit_returnsEverythingAtOnce() {
    List<Transaction> created = createMixed(Query.MAX_LIMIT);

    Page page = log.page(new Query(null, null, Query.MAX_LIMIT, null));

    assertThat(page.items()).containsExactlyElementsOf(created.reversed());
    assertThat(page.nextCursor()).isNull();
  }

  /** Every page of a query, following cursors; fails if the walk does not end. */
  private List<Page> walk(Status status, Mode mode, int limit) {
    List<Page> pages = new ArrayList<>();
    Set<String> cursors = new HashSet<>();
    String cursor = null;
    do {
      Page page = log.page(new Query(status, mode, limit, cursor));
      assertThat(page.items()).as("page %d", pages.size()).hasSizeLessThanOrEqualTo(limit);
      pages.add(page);
      cursor = page.nextCursor();
      assertThat(cursor == null || cursors.add(cursor)).as("cursor %s is new", cursor).isTrue();
    } while (cursor != null && pages.size() <= Query.MAX_LIMIT);
    assertThat(cursor).as("the walk ends").isNull();
    return pages;
  }

  @Test
  void query_rejectsLimitZeroNegativeAndAboveMaximum() {
    for (int limit : new int[] {0, -1, Query.MAX_LIMIT + 1, Integer.MAX_VALUE}) {
      assertThatThrownBy(() -> new Query(null, null, limit, null))
          .as("limit %d", limit)
          .isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining(Integer.toString(limit));
    }
  }

  @ParameterizedTest
  @ValueSource(ints = {1, Query.MAX_LIMIT})
  void query_acceptsLimitsFromOneToMaximum(int limit) {
    assertThatCode(() -> new Query(Status.BEGUN, Mode.SAGA, limit, null))
        .doesNotThrowAnyException();
  }

  // --- history ---

  @Test
  void history_ofGidWithoutEntries_isEmpty() {
    log.create(Fixtures.started(Mode.SAGA, gid("tx")).latest());

    assertThat(log.history(gid("tx"))).isEmpty();
    assertThat(log.history(gid("unknown"))).isEmpty();
  }

  @Test
  void history_isWrittenWithEachCreateAndUpdate_inOrder_perGid() {
    Story saga = Fixtures.sagaCompensated(gid("saga"), T0);
    Story msg = Fixtures.msgCheckedBack(gid("msg"), T0);
    assertThat(saga.history()).as("fixture: the saga has a history").hasSizeGreaterThan(3);
    assertThat(saga.history())
        .as("fixture: answers carry a latency")
        .anyMatch(entry -> entry.latency() != null);

    log.create(saga.first(), saga.historyOf(1));
    log.create(msg.first(), msg.historyOf(1));
    int longest = Math.max(saga.versions().size(), msg.versions().size());
    for (int v = 2; v <= longest; v++) {
      for (Story story : List.of(saga, msg)) {
        if (v <= story.versions().size()) {
          log.update(story.versions().get(v - 1), story.historyOf(v));
        }
      }
    }

    assertThat(log.history(gid("saga"))).containsExactlyElementsOf(saga.history());
    assertThat(log.history(gid("msg"))).containsExactlyElementsOf(msg.history());
  }

  @Test
  void history_ofARefusedWrite_isNotStored() {
    Story story = Fixtures.tccCommitted(gid("tx"), T0);
    log.create(story.first(), story.historyOf(1));
    log.update(story.versions().get(1), story.historyOf(2));

    assertThatThrownBy(() -> log.update(story.versions().get(1), story.historyOf(2)))
        .isInstanceOf(VersionConflictException.class);
    assertThatThrownBy(() -> log.create(story.first(), story.historyOf(1)))
        .isInstanceOf(DuplicateGidException.class);

    assertThat(log.history(gid("tx")))
        .containsExactlyElementsOf(
            Stream.concat(story.historyOf(1).stream(), story.historyOf(2).stream()).toList());
  }

  @Test
  void history_keepsEveryFieldOfAnEntry() {
    Instant at = T0.plusNanos(123_456_789);
    List<HistoryEntry> entries =
        List.of(
            new HistoryEntry(
                at,
                1,
                HistoryEntry.Kind.STATE,
                null,
                null,
                null,
                Status.BEGUN,
                null,
                0,
                null,
                "started"),
            new HistoryEntry(
                at,
                1,
                HistoryEntry.Kind.ANSWER,
                "b1",
                "action",
                null,
                null,
                "unknown",
                3,
                Duration.ofNanos(4_567_000),
                "x".repeat(HistoryEntry.MAX_DETAIL_CHARS + 10)),
            new HistoryEntry(
                at, 1, HistoryEntry.Kind.OPERATOR, null, "retry", null, null, null, 0, null, null));
    log.create(Fixtures.started(Mode.SAGA, gid("tx")).latest(), entries);

    assertThat(log.history(gid("tx"))).containsExactlyElementsOf(entries);
    assertThat(log.history(gid("tx")).get(1).detail()).hasSize(HistoryEntry.MAX_DETAIL_CHARS);
  }

  // --- durability ---

  @Test
  void everythingWritten_isThereAfterReopening() {
    Story story = Fixtures.msgCheckedBack(gid("tx"), T0);
    Story other = Fixtures.started(Mode.TCC, gid("other"), T0.plusSeconds(1), Fixtures.TIMEOUT);
    createAll(story);
    createAll(other);

    log = reopen(log);

    assertThat(log.load(gid("tx"))).contains(story.latest());
    assertThat(log.load(gid("other"))).contains(other.latest());
    assertThat(log.history(gid("tx"))).containsExactlyElementsOf(story.history());
    assertThat(log.unsettled(null, 10)).containsExactly(other.latest(), story.latest());
    assertThatThrownBy(() -> log.update(story.versions().get(1)))
        .isInstanceOf(VersionConflictException.class);
    Transaction aborted = other.on(new Event.AbortRequested()).latest();
    log.update(aborted);
    assertThat(log.load(gid("other"))).contains(aborted);
  }

  // --- key queues (order per key across transactions) ---

  private static final QueueKey BILLING_ORDER_7 = new QueueKey("billing", "order-7");
  private static final QueueKey SHIPPING_ORDER_7 = new QueueKey("shipping", "order-7");

  /** A msg committed and fanned out, nothing of its two keyed messages sent yet. */
  private static Story fannedOut(Story story) {
    return story
        .after(Duration.ofMillis(2))
        .on(new Event.SubscribersResolved(Fixtures.SUBSCRIPTIONS));
  }

  private static String messageOf(Story story, int index) {
    return story.latest().gid().value() + "#" + index;
  }

  private static QueueHead head(QueueKey queue, Story story, int index, boolean started) {
    return new QueueHead(queue, story.latest().gid(), messageOf(story, index), started);
  }

  /** Writes the versions of {@code story} after {@code written} (0: creates it too). */
  private int writeFrom(Story story, int written) {
    List<Transaction> versions = story.versions();
    for (int i = written; i < versions.size(); i++) {
      Transaction next = versions.get(i);
      if (i == 0) {
        log.create(next, story.historyOf(1));
      } else {
        log.update(next, story.historyOf(next.version()));
      }
    }
    return versions.size();
  }

  @Test
  void heads_ofKeyQueues_followCommitOrderAcrossTransactions_andMoveOnWhenTheHeadIsDone() {
    Story first = fannedOut(Fixtures.msgCommitting(gid("first"), T0));
    Story second = fannedOut(Fixtures.msgCommitting(gid("second"), T0.plusSeconds(1)));
    int firstWritten = writeFrom(first, 0);
    int secondWritten = writeFrom(second, 0);
    // Both transactions put #1 and #2 (key order-7) in the billing and shipping queues: the first
    // one's #1 heads both, in the order of the writes that committed them.
    assertThat(log.heads(List.of(BILLING_ORDER_7, SHIPPING_ORDER_7)))
        .containsExactlyInAnyOrder(
            head(BILLING_ORDER_7, first, 1, false), head(SHIPPING_ORDER_7, first, 1, false));
    assertThat(
            log.heads(
                List.of(new QueueKey("billing", "order-8"), new QueueKey("nobody", "order-7"))))
        .isEmpty();

    // Sent, it is started; acknowledged, it leaves, and the next of the same transaction heads.
    first.on(new Event.KeyTurn(messageOf(first, 1), "billing"));
    firstWritten = writeFrom(first, firstWritten);
    assertThat(log.heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, first, 1, true));
    first.answerDelivery(messageOf(first, 1), "billing", new Outcome.Unknown("HTTP 503"));
    firstWritten = writeFrom(first, firstWritten);
    assertThat(log.heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, first, 1, true));
    first
        .after(Duration.ofSeconds(1))
        .on(new Event.Tick())
        .answerDelivery(messageOf(first, 1), "billing", Outcome.SUCCEEDED);
    firstWritten = writeFrom(first, firstWritten);
    assertThat(log.heads(List.of(BILLING_ORDER_7, SHIPPING_ORDER_7)))
        .containsExactlyInAnyOrder(
            head(BILLING_ORDER_7, first, 2, false), head(SHIPPING_ORDER_7, first, 1, false));

    // The write that frees the head for another transaction makes that one due at once.
    Instant freedAt = first.now().plusSeconds(1);
    first.at(freedAt).on(new Event.KeyTurn(messageOf(first, 2), "billing"));
    firstWritten = writeFrom(first, firstWritten);
    assertThat(second.latest().wakeAt()).isAfter(freedAt);
    first.answerDelivery(messageOf(first, 2), "billing", Outcome.SUCCEEDED);
    firstWritten = writeFrom(first, firstWritten);
    assertThat(log.heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, second, 1, false));
    assertThat(log.due(freedAt, 10)).contains(second.latest());
    assertThat(log.heads(List.of(SHIPPING_ORDER_7)))
        .containsExactly(head(SHIPPING_ORDER_7, first, 1, false));

    // The queues are in the log: another handle, and the log reopened, see the same heads.
    assertThat(newHandle(log).heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, second, 1, false));
    log = reopen(log);
    assertThat(log.heads(List.of(BILLING_ORDER_7, SHIPPING_ORDER_7)))
        .containsExactlyInAnyOrder(
            head(BILLING_ORDER_7, second, 1, false), head(SHIPPING_ORDER_7, first, 1, false));
    assertThat(secondWritten).isEqualTo(second.versions().size());
  }

  @Test
  void heads_ofKeyQueues_skipADeadHead_andARedrivenDeliveryJoinsTheTail() {
    // Delivered by the impatient engine: one failed attempt makes a dead letter.
    Story first =
        fannedOut(
            Story.start(
                    Fixtures.IMPATIENT_ENGINE,
                    Fixtures.spec(Mode.MSG, gid("first"), Fixtures.TIMEOUT),
                    T0)
                .after(Duration.ofMillis(80))
                .on(new Event.CommitRequested()));
    Story second = fannedOut(Fixtures.msgCommitting(gid("second"), T0.plusSeconds(1)));
    int firstWritten = writeFrom(first, 0);
    writeFrom(second, 0);
    for (int index = 1; index <= 2; index++) {
      first.on(new Event.KeyTurn(messageOf(first, index), "billing"));
      first.answerDelivery(messageOf(first, index), "billing", new Outcome.Unknown("HTTP 503"));
      assertThat(
              first
                  .latest()
                  .message(messageOf(first, index))
                  .delivery("billing")
                  .progress()
                  .status())
          .isEqualTo(OpStatus.DEAD);
      firstWritten = writeFrom(first, firstWritten);
    }
    // Dead letters leave their queue: the next transaction's message heads it.
    assertThat(log.heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, second, 1, false));

    // Re-driven, a dead letter joins the tail, behind what was queued meanwhile.
    first.on(new Event.Redrive(messageOf(first, 1), "billing"));
    writeFrom(first, firstWritten);
    assertThat(log.heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, second, 1, false));
    int secondWritten = second.versions().size();
    second.takeTurns();
    for (int index = 1; index <= 2; index++) {
      second.answerDelivery(messageOf(second, index), "billing", Outcome.SUCCEEDED);
      second.takeTurns();
    }
    writeFrom(second, secondWritten);
    assertThat(log.heads(List.of(BILLING_ORDER_7)))
        .containsExactly(head(BILLING_ORDER_7, first, 1, false));
  }

  /** Writes every version of {@code story} with its history: a create, then one update each. */
  private void createAll(Story story) {
    List<Transaction> versions = story.versions();
    log.create(versions.get(0), story.historyOf(1));
    for (Transaction next : versions.subList(1, versions.size())) {
      log.update(next, story.historyOf(next.version()));
    }
  }
}
