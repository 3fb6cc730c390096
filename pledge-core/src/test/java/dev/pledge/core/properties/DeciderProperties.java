package dev.pledge.core.properties;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.Branch;
import dev.pledge.core.BranchSpec;
import dev.pledge.core.Delivery;
import dev.pledge.core.Gid;
import dev.pledge.core.Limits;
import dev.pledge.core.Message;
import dev.pledge.core.MessageSpec;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Outcome;
import dev.pledge.core.Progress;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.engine.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.constraints.IntRange;
import net.jqwik.api.constraints.Size;

/**
 * Properties of every decider over random event sequences: handling an event twice equals handling
 * it once, a logged decision never changes, and the state a decision writes records every call its
 * effects make (so recovery from that state re-derives them).
 */
class DeciderProperties {
  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  private static final Engine ENGINE = new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT);

  @Provide
  Arbitrary<List<Integer>> choices() {
    return Arbitraries.integers().between(0, 1_000_000).list().ofMinSize(5).ofMaxSize(60);
  }

  @Property(tries = 400)
  void handlingAnEventTwice_equalsHandlingItOnce(
      @ForAll Mode mode, @ForAll("choices") List<Integer> choices) {
    Walk walk = new Walk(mode, choices);
    while (walk.hasNext()) {
      Event event = walk.nextEvent();
      Decision once = walk.apply(event);
      if (event instanceof Event.Recovered
          || event instanceof Event.RetryNow
          || once.isRejected()) {
        continue; // re-sending is these events' very purpose; a rejection changes nothing anyway
      }
      Decision twice = ENGINE.decide(walk.state, event, walk.now);
      assertThat(twice.changes(walk.state)).as("second %s changed the state", event).isFalse();
      assertThat(twice.effects()).as("second %s asked for effects", event).isEmpty();
    }
  }

  @Property(tries = 400)
  void aLoggedDecision_neverChanges(@ForAll Mode mode, @ForAll("choices") List<Integer> choices) {
    Walk walk = new Walk(mode, choices);
    Status.Direction decided = Status.Direction.UNDECIDED;
    while (walk.hasNext()) {
      Status before = walk.state.status();
      walk.apply(walk.nextEvent());
      Status after = walk.state.status();
      if (decided != Status.Direction.UNDECIDED) {
        assertThat(after.direction()).isEqualTo(decided);
      }
      if (before.isFinal()) {
        assertThat(after).isEqualTo(before);
      }
      if (after.direction() != Status.Direction.UNDECIDED) {
        decided = after.direction();
      }
    }
  }

  /**
   * 3pc's status {@code prepared} counts as undecided (nothing has committed yet), so the property
   * above does not hold it; but once the pre-commit decision is logged, a pre-committed participant
   * may commit by itself, and the coordinator must never head for abort.
   */
  @Property(tries = 400)
  void a3pcPastThePreCommitDecision_neverHeadsForAbort(@ForAll("choices") List<Integer> choices) {
    Walk walk = new Walk(Mode.THREE_PC, choices);
    // Every branch votes yes first, so each try checks the walk after the pre-commit decision.
    for (Branch branch : walk.state.branches()) {
      walk.apply(new Event.OpCompleted(branch.branchId(), Op.CAN_COMMIT, 1, Outcome.SUCCEEDED));
    }
    assertThat(walk.state.status()).isEqualTo(Status.PREPARED);
    while (walk.hasNext()) {
      walk.apply(walk.nextEvent());
      assertThat(walk.state.status()).isIn(Status.PREPARED, Status.COMMITTING, Status.COMMITTED);
    }
  }

  @Property(tries = 400)
  void everyCallAnEffectMakes_isRecordedInFlightInTheStateWritten(
      @ForAll Mode mode, @ForAll("choices") List<Integer> choices) {
    Walk walk = new Walk(mode, choices);
    while (walk.hasNext()) {
      Decision decision = walk.apply(walk.nextEvent());
      Transaction next = decision.next();
      for (Effect effect : decision.effects()) {
        switch (effect) {
          case Effect.CallOp call ->
              assertInFlight(next.branch(call.branchId()).op(call.op()), call.attempt());
          case Effect.CheckBack check -> assertInFlight(next.check(), check.attempt());
          case Effect.Deliver d ->
              assertInFlight(
                  next.message(d.messageId()).delivery(d.subscription()).progress(), d.attempt());
          case Effect.ResolveSubscribers resolve ->
              assertThat(next.status()).isEqualTo(Status.COMMITTING);
        }
      }
    }
  }

  @Property(tries = 1000)
  void backoff_isCappedAndJitteredWithinBounds(
      @ForAll @IntRange(min = 1, max = 200) int attempts, @ForAll @Size(max = 40) String key) {
    RetryPolicy policy = RetryPolicy.DEFAULT;
    Duration wait = policy.backoff(attempts, key);
    double base =
        Math.min(
            (double) policy.maxBackoff().toMillis(),
            policy.initialBackoff().toMillis()
                * Math.pow(policy.multiplier(), Math.min(attempts - 1, 64)));

    assertThat(wait.toMillis()).isLessThanOrEqualTo(policy.maxBackoff().toMillis());
    assertThat((double) wait.toMillis())
        .isGreaterThanOrEqualTo(Math.floor(base * (1 - policy.jitter())));
    assertThat(policy.backoff(attempts, key)).isEqualTo(wait);
  }

  private static void assertInFlight(Progress progress, int attempt) {
    assertThat(progress.status()).isEqualTo(OpStatus.IN_FLIGHT);
    assertThat(progress.attempts()).isEqualTo(attempt);
  }

  /** A random but valid walk through one transaction's life, driven by a list of choices. */
  private static final class Walk {
    private final List<Integer> choices;
    private int next;
    Transaction state;
    Instant now = T0;

    Walk(Mode mode, List<Integer> choices) {
      this.choices = choices;
      this.state = ENGINE.start(spec(mode, pick(3) + 1), now).next();
    }

    boolean hasNext() {
      return next < choices.size();
    }

    private int pick(int bound) {
      return next < choices.size() ? choices.get(next++) % bound : 0;
    }

    Decision apply(Event event) {
      Decision decision = ENGINE.decide(state, event, now);
      state = decision.next();
      return decision;
    }

    Event nextEvent() {
      List<Event> candidates = new ArrayList<>();
      for (Branch branch : state.branches()) {
        for (Map.Entry<Op, Progress> op : branch.ops().entrySet()) {
          if (op.getValue().attempts() > 0) {
            candidates.add(
                new Event.OpCompleted(
                    branch.branchId(), op.getKey(), op.getValue().attempts(), outcome()));
          }
        }
      }
      if (state.check().attempts() > 0) {
        candidates.add(new Event.CheckCompleted(state.check().attempts(), outcome()));
      }
      for (Message message : state.messages()) {
        for (Delivery delivery : message.deliveries()) {
          candidates.add(
              new Event.DeliveryCompleted(
                  message.messageId(),
                  delivery.subscription(),
                  Math.max(1, delivery.progress().attempts()),
                  outcome()));
        }
      }
      if (state.mode() == Mode.TCC && state.branches().size() < 3) {
        candidates.add(new Event.BranchRegistered(branch("t" + state.branches().size(), Mode.TCC)));
      }
      if (state.mode() == Mode.LRA && state.branches().size() < 3) {
        candidates.add(new Event.BranchRegistered(branch("l" + state.branches().size(), Mode.LRA)));
      }
      if (state.mode() == Mode.LRA && !state.branches().isEmpty()) {
        candidates.add(new Event.BranchLeft(state.branches().get(0).branchId()));
      }
      candidates.add(new Event.CommitRequested());
      candidates.add(new Event.AbortRequested());
      candidates.add(new Event.SubscribersResolved(Map.of("orders", List.of("shipping", "audit"))));
      candidates.add(new Event.Recovered());
      candidates.add(new Event.RetryNow());
      int tick = pick(4);
      if (tick > 0) {
        now = now.plus(Duration.ofMillis(tick == 3 ? 70_000 : tick * 400L));
        return new Event.Tick();
      }
      return candidates.get(pick(candidates.size()));
    }

    private Outcome outcome() {
      return switch (pick(4)) {
        case 0 -> Outcome.SUCCEEDED;
        case 1 -> new Outcome.Failed("no");
        case 2 -> Outcome.PENDING;
        default -> new Outcome.Unknown("503");
      };
    }

    private static TransactionSpec spec(Mode mode, int size) {
      Gid gid = Gid.of("prop-" + mode.code());
      Duration timeout = Duration.ofSeconds(5);
      return switch (mode) {
        case SAGA, TWO_PC, XA, THREE_PC -> {
          List<BranchSpec> branches = new ArrayList<>();
          for (int i = 0; i < size; i++) {
            branches.add(branch("b" + i, mode));
          }
          yield new TransactionSpec(gid, mode, timeout, branches, List.of(), null);
        }
        case TCC, LRA -> new TransactionSpec(gid, mode, timeout, List.of(), List.of(), null);
        case MSG -> {
          List<MessageSpec> messages = new ArrayList<>();
          for (int i = 0; i < size; i++) {
            messages.add(new MessageSpec("orders", i % 2 == 0 ? "k" : null, "{}", Map.of()));
          }
          yield new TransactionSpec(
              gid, mode, timeout, List.of(), messages, "http://127.0.0.1/check");
        }
      };
    }

    private static BranchSpec branch(String id, Mode mode) {
      Map<Op, String> urls = new EnumMap<>(Op.class);
      for (Op op : mode.branchOps()) {
        urls.put(op, "http://127.0.0.1/" + op.label());
      }
      return new BranchSpec(id, urls, "{}", List.of());
    }
  }
}
