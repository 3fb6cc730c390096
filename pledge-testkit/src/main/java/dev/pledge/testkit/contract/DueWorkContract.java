package dev.pledge.testkit.contract;

import static dev.pledge.testkit.contract.Fixtures.CALL_TIMEOUT;
import static dev.pledge.testkit.contract.Fixtures.T0;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.pledge.core.Gid;
import dev.pledge.core.Mode;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.spi.LeaseHeldException;
import dev.pledge.core.spi.TransactionLog;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * Due work, and its claim under a lease fenced by the epoch of the handle that took it: what keeps
 * two coordinators sharing the log off each other's transactions.
 */
interface DueWorkContract extends LogContractPart {
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

    log().create(sagaAt25);
    createAll(settled);
    log().create(msgAt20);
    log().create(tccAt5);
    createAll(delivering);
    log().create(twoPcAt10);
    return List.of(tccAt5, twoPcAt10, deliveringAt10, msgAt20, sagaAt25);
  }

  @Test
  default void due_returnsOnlyTransactionsWhoseWakeAtIsAtOrBeforeNow() {
    List<Transaction> t = createDueSet();
    Instant deliveryDue = t.get(2).wakeAt();

    assertThat(log().due(T0, 100)).isEmpty();
    assertThat(log().due(T0.plusSeconds(5).minusMillis(1), 100)).isEmpty();
    assertThat(log().due(T0.plusSeconds(5), 100)).containsExactly(t.get(0));
    assertThat(log().due(deliveryDue.minusMillis(1), 100)).containsExactly(t.get(0), t.get(1));
    assertThat(log().due(deliveryDue, 100)).containsExactly(t.get(0), t.get(1), t.get(2));
  }

  @Test
  default void due_returnsEarliestFirst_andNeverASettledTransaction() {
    List<Transaction> t = createDueSet();

    assertThat(log().due(T0.plus(Duration.ofDays(365)), 100)).containsExactlyElementsOf(t);
  }

  @Test
  default void due_returnsAtMostLimit_theEarliest() {
    List<Transaction> t = createDueSet();
    Instant later = T0.plus(Duration.ofDays(1));

    assertThat(log().due(later, 1)).containsExactly(t.get(0));
    assertThat(log().due(later, 3)).containsExactlyElementsOf(t.subList(0, 3));
    assertThat(log().due(T0.plusSeconds(5), 3)).containsExactly(t.get(0));
  }

  @Test
  default void due_followsTheWakeAtOfTheLatestVersion() {
    Story story = Fixtures.tccTimedOut(gid("tx"), T0);
    List<Transaction> versions = story.versions();
    Transaction begun = versions.get(versions.size() - 2);
    Transaction aborting = story.latest();
    Instant deadline = begun.deadline();
    log().create(versions.get(0));
    log().update(begun);
    assertThat(log().due(deadline, 10)).containsExactly(begun);

    log().update(aborting);
    assertThat(aborting.wakeAt()).as("fixture").isEqualTo(deadline.plus(CALL_TIMEOUT));
    assertThat(log().due(deadline, 10)).isEmpty();
    assertThat(log().due(deadline.plus(CALL_TIMEOUT), 10)).containsExactly(aborting);

    Story settled = story.succeedEverythingInFlight();
    log().update(settled.latest());
    assertThat(settled.latest().status()).as("fixture").isEqualTo(Status.ABORTED);
    assertThat(log().due(deadline.plus(Duration.ofDays(365)), 10)).isEmpty();
  }

  /** Long enough never to expire during a test. */
  Duration LONG_LEASE = Duration.ofMinutes(5);

  /** Short enough to wait out; long enough for the claims below to run inside it. */
  Duration SHORT_LEASE = Duration.ofSeconds(3);

  Instant LATER = T0.plus(Duration.ofDays(365));

  @Test
  default void newHandle_hasANewerEpoch() {
    TransactionLog second = anotherHandle();
    TransactionLog third = anotherHandle();

    assertThat(second.epoch()).isGreaterThan(log().epoch());
    assertThat(third.epoch()).isGreaterThan(second.epoch());
  }

  @Test
  default void claimDue_takesOnlyDueWork_earliestFirst_andAtMostLimit() {
    List<Transaction> t = createDueSet();

    assertThat(log().claimDue(T0, LONG_LEASE, 100)).isEmpty();
    assertThat(log().claimDue(T0.plusSeconds(5), LONG_LEASE, 100)).containsExactly(t.get(0));
    assertThat(log().claimDue(LATER, LONG_LEASE, 3)).containsExactlyElementsOf(t.subList(0, 3));
  }

  @Test
  default void claimDue_ofWorkLeasedToAnotherHandle_skipsIt_whileTheLeaseLives() {
    List<Transaction> t = createDueSet();
    TransactionLog other = anotherHandle();

    assertThat(log().claimDue(LATER, LONG_LEASE, 2)).containsExactlyElementsOf(t.subList(0, 2));
    assertThat(other.claimDue(LATER, LONG_LEASE, 100)).containsExactlyElementsOf(t.subList(2, 5));
    assertThat(log().claimDue(LATER, LONG_LEASE, 100))
        .as("the first handle renews its own leases and sees none of the other's")
        .containsExactlyElementsOf(t.subList(0, 2));
  }

  @Test
  default void claimDue_afterTheLeaseExpires_letsAnotherHandleTakeTheWork() {
    List<Transaction> t = createDueSet();
    TransactionLog other = anotherHandle();
    assertThat(log().claimDue(LATER, SHORT_LEASE, 100)).hasSize(t.size());
    assertThat(other.claimDue(LATER, LONG_LEASE, 100)).isEmpty();

    await()
        .atMost(SHORT_LEASE.multipliedBy(10))
        .pollInterval(Duration.ofMillis(100))
        .untilAsserted(
            () -> assertThat(other.claimDue(LATER, LONG_LEASE, 100)).containsExactlyElementsOf(t));
    assertThat(log().claimDue(LATER, LONG_LEASE, 100)).isEmpty();
  }

  @Test
  default void racingClaimers_neverTakeTheSameTransaction() throws Exception {
    int count = 60;
    for (int i = 0; i < count; i++) {
      log().create(Fixtures.started(Mode.TCC, gid(String.format("%03d", i))).latest());
    }
    List<TransactionLog> handles = new ArrayList<>();
    for (int i = 0; i < 4; i++) {
      handles.add(anotherHandle());
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
  default void update_throughAnOlderHandle_whileANewerHoldsALiveLease_isFencedAndChangesNothing() {
    Story story = Fixtures.tccTimedOut(gid("tx"), T0);
    List<Transaction> versions = story.versions();
    Transaction begun = versions.get(versions.size() - 2);
    log().create(versions.get(0));
    log().update(begun);
    TransactionLog newer = anotherHandle();
    assertThat(newer.claimDue(LATER, LONG_LEASE, 10)).containsExactly(begun);

    assertThatThrownBy(() -> log().update(story.latest())).isInstanceOf(LeaseHeldException.class);
    assertThat(log().load(gid("tx"))).contains(begun);

    newer.update(story.latest());
    assertThat(log().load(gid("tx"))).contains(story.latest());
  }

  @Test
  default void update_throughANewerHandle_whileAnOlderHoldsALiveLease_succeeds() {
    Story story = Fixtures.tccTimedOut(gid("tx"), T0);
    List<Transaction> versions = story.versions();
    Transaction begun = versions.get(versions.size() - 2);
    log().create(versions.get(0));
    log().update(begun);
    TransactionLog newer = anotherHandle();
    assertThat(log().claimDue(LATER, LONG_LEASE, 10)).containsExactly(begun);

    newer.update(story.latest());

    assertThat(newer.load(gid("tx"))).contains(story.latest());
  }

  @Test
  default void claimDue_ofASettledTransaction_neverReturnsIt() {
    Story settled = Fixtures.tccTimedOut(gid("tx"), T0).succeedEverythingInFlight();
    createAll(settled);

    assertThat(log().claimDue(LATER, LONG_LEASE, 10)).isEmpty();
  }
}
