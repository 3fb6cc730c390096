package dev.pledge.testkit.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.BranchSpec;
import dev.pledge.core.Gid;
import dev.pledge.core.Limits;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.history.HistoryEntry;
import dev.pledge.core.runtime.Coordinator;
import dev.pledge.core.runtime.RuntimeConfig;
import dev.pledge.core.runtime.RuntimeListener;
import dev.pledge.core.runtime.Scheduler;
import dev.pledge.core.runtime.SubscriptionDirectory;
import dev.pledge.core.runtime.Transport;
import dev.pledge.core.spi.TransactionLog;
import dev.pledge.testkit.FakeClock;
import dev.pledge.testkit.InMemoryTransactionLog;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Collection;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Queue;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The runtime's ownership and batching, on a fake clock and a hand-driven scheduler: what it reads
 * from the log, how often it writes, and how much it keeps in memory.
 */
class CoordinatorOwnershipTest {
  private final FakeClock clock = new FakeClock(Instant.parse("2026-01-01T00:00:00Z"));
  private final InMemoryTransactionLog storage = new InMemoryTransactionLog(clock);
  private final AtomicInteger loads = new AtomicInteger();
  private final AtomicInteger updates = new AtomicInteger();
  private final Queue<Runnable> tasks = new ArrayDeque<>();
  private final List<CompletableFuture<Outcome>> calls = new ArrayList<>();

  private final Scheduler scheduler =
      new Scheduler() {
        @Override
        public void execute(Runnable task) {
          tasks.add(task);
        }

        @Override
        public void schedule(Duration delay, Runnable task) {
          // Timers never fire here: the test drives every event itself.
        }
      };

  private final Transport transport =
      new Transport() {
        @Override
        public CompletableFuture<Outcome> call(Effect.CallOp call) {
          CompletableFuture<Outcome> answer = new CompletableFuture<>();
          calls.add(answer);
          return answer;
        }

        @Override
        public CompletableFuture<Outcome> checkBack(Effect.CheckBack check) {
          return new CompletableFuture<>();
        }

        @Override
        public CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target) {
          return new CompletableFuture<>();
        }
      };

  private final SubscriptionDirectory noSubscriptions =
      new SubscriptionDirectory() {
        @Override
        public String target(String subscription) {
          return null;
        }

        @Override
        public Map<String, List<String>> byTopic(Set<String> topics) {
          return Map.of();
        }
      };

  private Coordinator coordinator(int maxOwned) {
    Coordinator coordinator =
        new Coordinator(
            RuntimeConfig.defaults(Duration.ofSeconds(10)).withMaxOwned(maxOwned),
            new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT),
            new Counting(storage),
            clock,
            scheduler,
            transport,
            noSubscriptions,
            RuntimeListener.NONE);
    coordinator.start();
    return coordinator;
  }

  private static TransactionSpec twoPc(String gid, int branches) {
    List<BranchSpec> list = new ArrayList<>();
    for (int i = 1; i <= branches; i++) {
      Map<Op, String> urls = new EnumMap<>(Op.class);
      for (Op op : Mode.TWO_PC.branchOps()) {
        urls.put(op, "http://127.0.0.1/" + op.label());
      }
      list.add(new BranchSpec("b" + i, urls, "{}", List.of()));
    }
    return new TransactionSpec(Gid.of(gid), Mode.TWO_PC, Duration.ofSeconds(30), list, null, null);
  }

  private void runTasks() {
    while (!tasks.isEmpty()) {
      tasks.poll().run();
    }
  }

  @Test
  void answersThatArriveTogether_areDecidedWithoutALogRead_andWrittenOnce() {
    Coordinator coordinator = coordinator(100);
    coordinator.begin(twoPc("together", 3));
    assertThat(calls).hasSize(3);
    int loadsBefore = loads.get();
    int updatesBefore = updates.get();

    calls.forEach(call -> call.complete(Outcome.SUCCEEDED));
    runTasks();

    assertThat(loads.get() - loadsBefore).as("log reads to decide the answers").isZero();
    assertThat(updates.get() - updatesBefore).as("log writes for three answers").isEqualTo(1);
    Transaction stored = storage.load(Gid.of("together")).orElseThrow();
    assertThat(stored.status()).isEqualTo(Status.COMMITTING);
    assertThat(stored.version()).isEqualTo(2);
    assertThat(storage.history(Gid.of("together")))
        .filteredOn(entry -> entry.kind() == HistoryEntry.Kind.ANSWER)
        .hasSize(3);
  }

  @Test
  void pastTheBound_transactionsAreReadFromTheLog_andSettledOnesLeaveMemory() {
    Coordinator coordinator = coordinator(2);
    for (int i = 1; i <= 5; i++) {
      coordinator.begin(twoPc("bounded-" + i, 1));
    }
    assertThat(coordinator.owned()).isEqualTo(2);
    int loadsBefore = loads.get();

    // Every prepare and then every commit succeeds: all five settle, whether owned or not.
    for (int round = 0; round < 2; round++) {
      List<CompletableFuture<Outcome>> pending = new ArrayList<>(calls);
      calls.clear();
      pending.forEach(call -> call.complete(Outcome.SUCCEEDED));
      runTasks();
    }

    assertThat(loads.get() - loadsBefore)
        .as("reads of the three not held, once per round")
        .isEqualTo(6);
    for (int i = 1; i <= 5; i++) {
      assertThat(storage.load(Gid.of("bounded-" + i)).orElseThrow().status())
          .isEqualTo(Status.COMMITTED);
    }
    assertThat(coordinator.owned()).isZero();
  }

  @Test
  void aWriteRefusedForAStaleVersion_dropsTheCopy_andDecidesAgainOnTheLog() {
    Coordinator coordinator = coordinator(100);
    coordinator.begin(twoPc("stale", 1));
    // Another coordinator sharing the log writes a newer version behind this one's back.
    Transaction stored = storage.load(Gid.of("stale")).orElseThrow();
    storage.newHandle().update(stored.nextVersion(clock.instant()));

    calls.get(0).complete(Outcome.SUCCEEDED);
    runTasks();

    Transaction now = storage.load(Gid.of("stale")).orElseThrow();
    assertThat(now.version()).isEqualTo(3);
    assertThat(now.status()).isEqualTo(Status.COMMITTING);
  }

  @Test
  void aReadAfterAnotherCoordinatorsWrite_seesTheLog_andDropsTheStaleCopy() {
    Coordinator coordinator = coordinator(100);
    coordinator.begin(twoPc("shared", 1));
    assertThat(coordinator.owned()).isEqualTo(1);
    // Another coordinator sharing the log writes a newer version (a join through it, say).
    Transaction stored = storage.load(Gid.of("shared")).orElseThrow();
    storage.newHandle().update(stored.nextVersion(clock.instant()));

    assertThat(coordinator.load(Gid.of("shared")).version()).isEqualTo(2);
    assertThat(coordinator.owned()).as("the stale copy left memory").isZero();
  }

  /** The log, counting reads of one transaction and updates. */
  private final class Counting implements TransactionLog {
    private final TransactionLog log;

    Counting(TransactionLog log) {
      this.log = log;
    }

    @Override
    public void create(Transaction first, List<HistoryEntry> history) {
      log.create(first, history);
    }

    @Override
    public void update(Transaction next, List<HistoryEntry> history) {
      updates.incrementAndGet();
      log.update(next, history);
    }

    @Override
    public Optional<Transaction> load(Gid gid) {
      loads.incrementAndGet();
      return log.load(gid);
    }

    @Override
    public List<Transaction> due(Instant now, int limit) {
      return log.due(now, limit);
    }

    @Override
    public List<Transaction> claimDue(Instant now, Duration lease, int limit) {
      return log.claimDue(now, lease, limit);
    }

    @Override
    public long epoch() {
      return log.epoch();
    }

    @Override
    public List<Transaction> unsettled(Gid afterGid, int limit) {
      return log.unsettled(afterGid, limit);
    }

    @Override
    public Page page(Query query) {
      return log.page(query);
    }

    @Override
    public List<HistoryEntry> history(Gid gid) {
      return log.history(gid);
    }

    @Override
    public List<QueueHead> heads(Collection<QueueKey> queues) {
      return log.heads(queues);
    }

    @Override
    public List<Count> counts() {
      return log.counts();
    }
  }
}
