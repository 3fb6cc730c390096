package dev.pledge.bench;

import dev.pledge.core.BranchSpec;
import dev.pledge.core.Gid;
import dev.pledge.core.Limits;
import dev.pledge.core.MessageSpec;
import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.engine.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.Threads;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

/**
 * How many decisions the pure engine makes per second on one thread, so per core: the ceiling the
 * engine puts on a coordinator before any log write or network call. Each benchmark is one kind of
 * decision a running coordinator makes all the time; the score is decisions per second.
 *
 * <p>Workload, all with {@link Limits#DEFAULT} and {@link RetryPolicy#DEFAULT}, inputs built once
 * per trial (the measured loop allocates only what the decider itself allocates):
 *
 * <ul>
 *   <li>{@code twoPcPrepareAnswer}: a participant's "prepared" on a 2pc of 5 branches, averaged
 *       over the five answers of one prepare round: four record a vote, the fifth logs the commit
 *       decision and sends five commits.
 *   <li>{@code sagaActionAnswer}: an action's "succeeded" on a saga of 5 steps in a row, averaged
 *       over the five: four call the next action, the fifth commits the saga.
 *   <li>{@code tccCommitRequest}: the initiator's commit on a tcc with 2 registered branches: logs
 *       the decision and sends two confirms.
 *   <li>{@code msgCommitAndSubscribersResolved}: two decisions per invocation, scored per decision:
 *       the producer's commit of a msg of 3 messages on 2 topics, then the subscribers resolved (3
 *       subscriptions) fanning out to 5 deliveries, 3 sent at once (the second message waits for
 *       the first of its key).
 *   <li>{@code tickNothingDue}: a tick on a 2pc of 5 branches whose prepares are all in flight and
 *       not yet overdue: the decider finds nothing to do, what most ticks of a busy coordinator
 *       are.
 *   <li>{@code baselineRejectedRequest}: a commit request on a 2pc, which the decider rejects at
 *       once: the floor every decision pays (dispatch to the mode's decider, a scratch draft, the
 *       result); the others read as multiples of it.
 * </ul>
 *
 * <p>Run, in about a minute (one fork, 2 warm-up and 3 measured iterations of 2 s each):
 *
 * <pre>
 * mvn -B -q install -DskipTests -pl pledge-bench -am
 * java -jar pledge-bench/target/benchmarks.jar DeciderBenchmark -f 1 -wi 2 -w 2s -i 3 -r 2s -t 1
 * </pre>
 *
 * Add {@code -prof gc} for the bytes allocated per decision.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(1)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Threads(1)
public class DeciderBenchmark {
  private static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");
  private static final String PAYLOAD = "{\"orderId\":\"o-1042\",\"sku\":\"sku-77\",\"qty\":2}";
  private static final int ROUND = 5;

  private Engine engine;
  private Instant answerAt;

  private final Transaction[] twoPcBefore = new Transaction[ROUND];
  private final Event[] twoPcAnswer = new Event[ROUND];
  private int twoPcNext;

  private final Transaction[] sagaBefore = new Transaction[ROUND];
  private final Event[] sagaAnswer = new Event[ROUND];
  private int sagaNext;

  private Transaction tccBegun;
  private Event commitRequested;

  private Transaction msgPrepared;
  private Event subscribersResolved;

  private Transaction twoPcInFlight;
  private Event tick;

  @Setup
  public void setUp() {
    engine = new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT);
    answerAt = T0.plusMillis(35);
    commitRequested = new Event.CommitRequested();
    tick = new Event.Tick();

    twoPcInFlight = engine.start(twoPc(), T0).next();
    Transaction state = twoPcInFlight;
    for (int i = 0; i < ROUND; i++) {
      twoPcBefore[i] = state;
      twoPcAnswer[i] = new Event.OpCompleted(branchId(i), Op.PREPARE, 1, Outcome.SUCCEEDED);
      state = engine.decide(state, twoPcAnswer[i], answerAt).next();
    }
    require(state.status() == Status.COMMITTING, "the fifth prepare answer commits the 2pc");

    state = engine.start(saga(), T0).next();
    for (int i = 0; i < ROUND; i++) {
      sagaBefore[i] = state;
      sagaAnswer[i] = new Event.OpCompleted(branchId(i), Op.ACTION, 1, Outcome.SUCCEEDED);
      state = engine.decide(state, sagaAnswer[i], answerAt).next();
    }
    require(state.status() == Status.COMMITTED, "the fifth action answer commits the saga");

    tccBegun = engine.start(tcc(), T0).next();
    for (int i = 0; i < 2; i++) {
      tccBegun = engine.decide(tccBegun, new Event.BranchRegistered(tccBranch(i)), T0).next();
    }
    require(tccBegun.branches().size() == 2, "the tcc has two branches");
    require(
        engine.decide(tccBegun, commitRequested, answerAt).effects().size() == 2,
        "the tcc commit sends two confirms");

    msgPrepared = engine.start(msg(), T0).next();
    subscribersResolved =
        new Event.SubscribersResolved(
            Map.of("orders", List.of("billing", "shipping"), "audit", List.of("archive")));
    Decision committed = engine.decide(msgPrepared, commitRequested, answerAt);
    Decision resolved = engine.decide(committed.next(), subscribersResolved, answerAt);
    require(resolved.next().status() == Status.COMMITTED, "the msg commits");
    require(resolved.effects().size() == 3, "three deliveries go out at once");

    Decision idle = engine.decide(twoPcInFlight, tick, answerAt);
    require(
        !idle.changes(twoPcInFlight) && idle.effects().isEmpty(),
        "a tick before anything is due does nothing");
    require(
        engine.decide(twoPcInFlight, commitRequested, answerAt).isRejected(),
        "a 2pc rejects a commit request");
  }

  @Benchmark
  public void twoPcPrepareAnswer(Blackhole bh) {
    int i = twoPcNext;
    twoPcNext = i + 1 == ROUND ? 0 : i + 1;
    bh.consume(engine.decide(twoPcBefore[i], twoPcAnswer[i], answerAt));
  }

  @Benchmark
  public void sagaActionAnswer(Blackhole bh) {
    int i = sagaNext;
    sagaNext = i + 1 == ROUND ? 0 : i + 1;
    bh.consume(engine.decide(sagaBefore[i], sagaAnswer[i], answerAt));
  }

  @Benchmark
  public void tccCommitRequest(Blackhole bh) {
    bh.consume(engine.decide(tccBegun, commitRequested, answerAt));
  }

  @Benchmark
  @OperationsPerInvocation(2)
  public void msgCommitAndSubscribersResolved(Blackhole bh) {
    Decision committing = engine.decide(msgPrepared, commitRequested, answerAt);
    bh.consume(committing);
    bh.consume(engine.decide(committing.next(), subscribersResolved, answerAt));
  }

  @Benchmark
  public void tickNothingDue(Blackhole bh) {
    bh.consume(engine.decide(twoPcInFlight, tick, answerAt));
  }

  @Benchmark
  public void baselineRejectedRequest(Blackhole bh) {
    bh.consume(engine.decide(twoPcInFlight, commitRequested, answerAt));
  }

  private static void require(boolean holds, String what) {
    if (!holds) {
      throw new IllegalStateException("benchmark set-up is wrong: expected that " + what);
    }
  }

  private static String branchId(int i) {
    return "svc-" + (i + 1);
  }

  private static String url(String branchId, String op) {
    return "http://127.0.0.1:8080/" + branchId + "/" + op;
  }

  private static TransactionSpec twoPc() {
    List<BranchSpec> branches = new ArrayList<>();
    for (int i = 0; i < ROUND; i++) {
      String id = branchId(i);
      branches.add(
          new BranchSpec(
              id,
              Map.of(
                  Op.PREPARE, url(id, "prepare"),
                  Op.COMMIT, url(id, "commit"),
                  Op.ROLLBACK, url(id, "rollback")),
              PAYLOAD,
              null));
    }
    return new TransactionSpec(
        Gid.of("bench-2pc"),
        dev.pledge.core.Mode.TWO_PC,
        Duration.ofSeconds(60),
        branches,
        null,
        null);
  }

  private static TransactionSpec saga() {
    List<BranchSpec> steps = new ArrayList<>();
    for (int i = 0; i < ROUND; i++) {
      String id = branchId(i);
      steps.add(
          new BranchSpec(
              id,
              Map.of(Op.ACTION, url(id, "action"), Op.COMPENSATE, url(id, "compensate")),
              PAYLOAD,
              null));
    }
    return new TransactionSpec(
        Gid.of("bench-saga"), dev.pledge.core.Mode.SAGA, Duration.ofSeconds(60), steps, null, null);
  }

  private static TransactionSpec tcc() {
    return new TransactionSpec(
        Gid.of("bench-tcc"), dev.pledge.core.Mode.TCC, Duration.ofSeconds(60), null, null, null);
  }

  private static BranchSpec tccBranch(int i) {
    String id = branchId(i);
    return new BranchSpec(
        id,
        Map.of(
            Op.TRY, url(id, "try"), Op.CONFIRM, url(id, "confirm"), Op.CANCEL, url(id, "cancel")),
        PAYLOAD,
        null);
  }

  private static TransactionSpec msg() {
    return new TransactionSpec(
        Gid.of("bench-msg"),
        dev.pledge.core.Mode.MSG,
        Duration.ofSeconds(60),
        null,
        List.of(
            new MessageSpec(
                "orders", "o-1042", PAYLOAD, Map.of("content-type", "application/json")),
            new MessageSpec("orders", "o-1042", "{\"status\":\"paid\"}", null),
            new MessageSpec("audit", null, PAYLOAD, null)),
        "http://127.0.0.1:8080/orders/check");
  }
}
