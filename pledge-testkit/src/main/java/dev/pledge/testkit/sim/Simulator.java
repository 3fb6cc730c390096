package dev.pledge.testkit.sim;

import dev.pledge.core.BranchSpec;
import dev.pledge.core.Delivery;
import dev.pledge.core.Gid;
import dev.pledge.core.Message;
import dev.pledge.core.MessageSpec;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Outcome;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.engine.Event;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import java.util.TreeMap;
import java.util.function.Consumer;

/**
 * The deterministic simulator. One seed fixes everything: the mode and shape of a few global
 * transactions, the fault profile, and every random choice of the network, the participants, the
 * clients and the coordinator's crashes and clock jumps. The production runtime runs inside {@link
 * SimHost} with a simulated clock, scheduler, network and log; simulated participants keep a
 * barrier and the ground truth of their data. After the run, {@link Checker} holds the ground truth
 * against every guarantee of DESIGN.md.
 */
public final class Simulator {
  static final String SUBSCRIPTION_SHIPPING = "shipping";
  static final String SUBSCRIPTION_AUDIT = "audit";
  static final String SUBSCRIPTION_ARCHIVE = "archive";
  private static final List<Mode> MODES =
      List.of(Mode.SAGA, Mode.TCC, Mode.TWO_PC, Mode.MSG, Mode.XA, Mode.THREE_PC, Mode.LRA);
  private static final List<String> TOPICS = List.of("orders", "audit", "nowhere");
  private static final List<String> KEYS = List.of("k1", "k2");
  private static final int MAX_CRASHES = 6;

  /** Every simulated transaction's timeout is shorter than this. */
  static final long MAX_TIMEOUT_MILLIS = 5_000;

  private static final int CLIENT_TRIES = 3;
  private static final long CLIENT_WAIT_MILLIS = 1_000;

  private final SimOptions options;

  /** Immutable and shared by every run (and thread): the deciders keep no state of their own. */
  private final Engine engine;

  public Simulator(SimOptions options) {
    this.options = options;
    this.engine = options.engine();
  }

  /**
   * Runs one seed to its end and checks it, keeping its whole trace. Deterministic: the same seed
   * gives the same result.
   */
  public SimResult run(long seed) {
    return run(seed, true);
  }

  /**
   * Runs one seed; {@code traced} keeps its trace. A trace costs about a tenth of a seed's CPU and
   * is read only for a failing seed, so the runner runs untraced and runs a failing seed again,
   * traced. The trace draws no random choice, so both runs make the same choices and counts ({@code
   * SimulatorTest} checks that).
   */
  SimResult run(long seed, boolean traced) {
    SplittableRandom random = new SplittableRandom(seed);
    // The draw happens even when the mode is forced, so that "--seed S --mode M" replays exactly
    // the
    // run that seed S made when it drew M by itself.
    Mode drawn = MODES.get(random.nextInt(MODES.size()));
    Mode mode = options.mode() != null ? options.mode() : drawn;
    Faults faults =
        options.partitions()
            ? Faults.drawWithPartition(random, Participants.ABORT_TIMEOUT_MILLIS)
            : Faults.draw(random);
    World world = new World(random, faults, traced);
    List<String> violations = new ArrayList<>();
    Run run = new Run(seed, mode, world, violations);
    if (world.tracing()) {
      world.trace("seed " + seed + ", mode " + mode.code() + ", " + faults);
    }
    run.plan();
    run.planOperator();
    run.planDeadLetterOperator();
    run.coordinator.boot();
    long limit = run.hardLimitMillis();
    world.run(limit, run::finished);
    new Checker(run, violations).check();
    if (!violations.isEmpty()) {
      world.trace("VIOLATIONS: " + violations);
    }
    return new SimResult(
        seed,
        mode,
        run.specs.size(),
        (int)
            run.coordinator.transactions().stream()
                .filter(t -> t.status() == dev.pledge.core.Status.COMMITTED)
                .count(),
        (int)
            run.coordinator.transactions().stream()
                .filter(t -> t.status() == dev.pledge.core.Status.ABORTED)
                .count(),
        world.events(),
        run.coordinator.decisions(),
        run.coordinator.crashes(),
        List.copyOf(violations),
        List.copyOf(world.trace()),
        run.coordinator.fired(),
        run.coordinator.written(),
        run.coordinator.coordinators(),
        run.coordinator.fenced());
  }

  static String describe(Outcome outcome) {
    return switch (outcome) {
      case Outcome.Succeeded s -> "2xx";
      case Outcome.Failed f -> "409 " + f.reason();
      case Outcome.Pending p -> "425";
      case Outcome.Unknown u -> "unknown (" + u.reason() + ")";
    };
  }

  /** The state of one run: the coordinator, the simulated services and the clients' progress. */
  final class Run implements SimHost.Network {
    final long seed;
    final Mode mode;
    final World world;
    final SimHost coordinator;
    final Participants participants;
    final List<TransactionSpec> specs = new ArrayList<>();

    /** The producer's barrier per msg gid: "committed" or "rolled_back". */
    final Map<String, String> producerBarrier = new TreeMap<>();

    /** Every delivery each subscription received, duplicates included, in order. */
    final Map<String, List<Effect.Deliver>> received = new TreeMap<>();

    final Map<String, List<String>> subscriptions = new TreeMap<>();
    int clientsRunning;

    Run(long seed, Mode mode, World world, List<String> violations) {
      this.seed = seed;
      this.mode = mode;
      this.world = world;
      this.participants = new Participants(world, 0.1);
      this.coordinator =
          new SimHost(
              world,
              engine,
              this,
              options.runtimeBugs(),
              options.coordinators(),
              MAX_CRASHES,
              violations);
      subscriptions.put("orders", List.of(SUBSCRIPTION_SHIPPING, SUBSCRIPTION_AUDIT));
      subscriptions.put("audit", List.of(SUBSCRIPTION_ARCHIVE));
    }

    boolean finished() {
      if (clientsRunning > 0) {
        return false;
      }
      // A dead letter waits for the operator's re-drive.
      return coordinator.allTransactions(tx -> tx.isSettled() && tx.deadSubscriptions().isEmpty());
    }

    /**
     * The operator of dead letters: once faults stop, every second, re-drives every dead delivery
     * (a delivery that failed past the retry bound during the faults), as a person would from the
     * dead-letter page. So each committed message still reaches each subscription.
     */
    void planDeadLetterOperator() {
      if (mode != Mode.MSG) {
        return;
      }
      world.at(world.faults().endMillis() + 1_000, "dead-letter operator", this::redriveDead);
    }

    private void redriveDead() {
      if (coordinator.alive()) {
        for (Transaction tx : coordinator.transactions()) {
          for (Message message : tx.messages()) {
            for (Delivery delivery : message.deliveries()) {
              if (delivery.progress().status() == OpStatus.DEAD) {
                world.trace(
                    "operator re-drives " + message.messageId() + " -> " + delivery.subscription());
                coordinator.request(
                    tx.gid(),
                    new Event.Redrive(message.messageId(), delivery.subscription()),
                    answer -> {});
              }
            }
          }
        }
      }
      if (world.now() < hardLimitMillis()) {
        world.at(1_000, "dead-letter operator", this::redriveDead);
      }
    }

    /**
     * Faults end, then every transaction gets its timeout plus the settling bound, three times
     * over.
     */
    long hardLimitMillis() {
      long longestTimeout = 0;
      for (TransactionSpec spec : specs) {
        longestTimeout = Math.max(longestTimeout, spec.timeout().toMillis());
      }
      return world.faults().endMillis() + 2_000 + longestTimeout + 3 * Checker.settleBoundMillis();
    }

    void plan() {
      SplittableRandom random = world.random;
      int count = 1 + random.nextInt(4);
      for (int i = 0; i < count; i++) {
        Gid gid = Gid.of("s" + seed + "-" + mode.code() + "-" + (i + 1));
        Duration timeout =
            Duration.ofMillis(1_000 + random.nextInt((int) MAX_TIMEOUT_MILLIS - 1_000));
        long startAt = random.nextInt(2_000);
        TransactionSpec spec =
            switch (mode) {
              case SAGA ->
                  new TransactionSpec(gid, mode, timeout, sagaSteps(random), List.of(), null);
              case LRA -> new TransactionSpec(gid, mode, timeout, List.of(), List.of(), null);
              case TWO_PC, XA, THREE_PC, TCC ->
                  new TransactionSpec(
                      gid,
                      mode,
                      timeout,
                      mode == Mode.TCC ? List.of() : branches(random, mode),
                      List.of(),
                      null);
              case MSG ->
                  new TransactionSpec(
                      gid, mode, timeout, List.of(), messages(random), "http://127.0.0.1/check");
            };
        specs.add(spec);
        clientsRunning++;
        switch (mode) {
          case SAGA, TWO_PC, XA, THREE_PC -> world.at(startAt, "client " + gid, () -> submit(spec));
          case TCC -> {
            List<BranchSpec> tccBranches = branches(random, mode);
            world.at(startAt, "initiator " + gid, () -> tccInitiator(spec, tccBranches));
          }
          case MSG -> world.at(startAt, "producer " + gid, () -> producer(spec));
          case LRA -> {
            List<BranchSpec> participants = branches(random, mode);
            world.at(startAt, "lra client " + gid, () -> lraClient(spec, participants));
          }
        }
      }
    }

    /** An operator who, now and then, asks for the next attempt of some transaction at once. */
    void planOperator() {
      int pokes = world.random.nextInt(3);
      for (int i = 0; i < pokes; i++) {
        world.at(
            world.random.nextInt((int) world.faults().endMillis() + 3_000),
            "operator",
            () -> {
              List<Transaction> all = coordinator.transactions();
              if (!all.isEmpty() && coordinator.alive()) {
                Transaction tx = all.get(world.random.nextInt(all.size()));
                world.trace("operator asks to retry " + tx.gid() + " now");
                coordinator.request(tx.gid(), new Event.RetryNow(), answer -> {});
              }
            });
      }
    }

    private List<BranchSpec> sagaSteps(SplittableRandom random) {
      List<BranchSpec> steps = branches(random, Mode.SAGA);
      if (steps.size() < 3 || random.nextDouble() < 0.6) {
        return steps;
      }
      // A DAG: each step after a random subset of the earlier ones (acyclic by construction).
      List<BranchSpec> dag = new ArrayList<>();
      for (int i = 0; i < steps.size(); i++) {
        List<String> after = new ArrayList<>();
        for (int j = 0; j < i; j++) {
          if (random.nextDouble() < 0.5) {
            after.add(steps.get(j).branchId());
          }
        }
        BranchSpec step = steps.get(i);
        dag.add(new BranchSpec(step.branchId(), step.urls(), step.payload(), after));
      }
      return dag;
    }

    private List<BranchSpec> branches(SplittableRandom random, Mode branchMode) {
      int count = 1 + random.nextInt(4);
      List<BranchSpec> branches = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        Map<Op, String> urls = new EnumMap<>(Op.class);
        for (Op op : branchMode.branchOps()) {
          urls.put(op, "http://127.0.0.1/" + op.label());
        }
        branches.add(new BranchSpec("b" + (i + 1), urls, "{\"n\":" + i + "}", List.of()));
      }
      return branches;
    }

    private List<MessageSpec> messages(SplittableRandom random) {
      int count = 1 + random.nextInt(4);
      List<MessageSpec> messages = new ArrayList<>();
      for (int i = 0; i < count; i++) {
        String topic = TOPICS.get(random.nextInt(TOPICS.size()));
        String key = random.nextDouble() < 0.8 ? KEYS.get(random.nextInt(KEYS.size())) : null;
        messages.add(
            new MessageSpec(
                topic, key, "{\"m\":" + i + "}", Map.of("sequence", Integer.toString(i))));
      }
      return messages;
    }

    // ---- clients ---------------------------------------------------------------------------

    /**
     * A client request over the network, retried when no answer comes. {@code onAnswer} gets null
     * for accepted or the rejection; {@code onNoAnswer} runs once every try went unanswered.
     */
    private void request(
        String label,
        Consumer<Consumer<String>> call,
        Consumer<String> onAnswer,
        Runnable onNoAnswer) {
      boolean[] done = {false};
      attempt(label, call, onAnswer, onNoAnswer, done, CLIENT_TRIES);
    }

    private void attempt(
        String label,
        Consumer<Consumer<String>> call,
        Consumer<String> onAnswer,
        Runnable onNoAnswer,
        boolean[] done,
        int triesLeft) {
      world.send(
          label,
          () ->
              call.accept(answer ->
                  world.send(
                      world.tracing()
                          ? label + " answered " + (answer == null ? "ok" : answer)
                          : null,
                      () -> {
                        if (!done[0]) {
                          done[0] = true;
                          onAnswer.accept(answer);
                        }
                      })));
      world.at(
          CLIENT_WAIT_MILLIS,
          world.tracing() ? label + " wait" : null,
          () -> {
            if (done[0]) {
              return;
            }
            if (triesLeft > 1) {
              attempt(label, call, onAnswer, onNoAnswer, done, triesLeft - 1);
            } else {
              done[0] = true;
              onNoAnswer.run();
            }
          });
    }

    private void clientDone(String why) {
      world.trace("client  " + why);
      clientsRunning--;
    }

    private void submit(TransactionSpec spec) {
      request(
          "create " + spec.gid(),
          reply -> coordinator.create(spec, reply),
          answer -> clientDone(spec.gid() + " submitted: " + (answer == null ? "ok" : answer)),
          () -> clientDone(spec.gid() + " gave up submitting"));
    }

    /**
     * An LRA's client: starts it, has each participant join and then do its work (a participant
     * joins before it works, as the LRA filter does), then closes or cancels it. It may die on the
     * way: the time limit then cancels the LRA.
     */
    private void lraClient(TransactionSpec spec, List<BranchSpec> participants) {
      request(
          "start " + spec.gid(),
          reply -> coordinator.create(spec, reply),
          answer -> {
            if (answer != null) {
              clientDone(spec.gid() + " start rejected");
            } else {
              join(spec, participants, 0);
            }
          },
          () -> clientDone(spec.gid() + " gave up starting"));
    }

    private void join(TransactionSpec spec, List<BranchSpec> participants, int index) {
      if (world.fault(0.05)) {
        clientDone(spec.gid() + " client died while joining");
        return;
      }
      if (index == participants.size()) {
        if (participants.size() > 1 && world.random.nextDouble() < 0.2) {
          leave(spec, participants.get(participants.size() - 1));
          return;
        }
        decide(spec, world.random.nextDouble() < 0.7, "every participant joined and worked");
        return;
      }
      BranchSpec participant = participants.get(index);
      request(
          "join " + spec.gid() + "/" + participant.branchId(),
          reply -> coordinator.request(spec.gid(), new Event.BranchRegistered(participant), reply),
          answer -> {
            if (answer == null) {
              this.participants.workInLra(spec.gid().value(), participant.branchId());
              join(spec, participants, index + 1);
            } else {
              clientDone(spec.gid() + " join rejected: " + answer);
            }
          },
          () -> decide(spec, false, "join unanswered"));
    }

    /** The last participant leaves the LRA (its work stays: it is called for nothing). */
    private void leave(TransactionSpec spec, BranchSpec participant) {
      request(
          "leave " + spec.gid() + "/" + participant.branchId(),
          reply ->
              coordinator.request(spec.gid(), new Event.BranchLeft(participant.branchId()), reply),
          answer -> decide(spec, world.random.nextDouble() < 0.7, "a participant left"),
          () -> decide(spec, false, "leave unanswered"));
    }

    private void tccInitiator(TransactionSpec spec, List<BranchSpec> branches) {
      request(
          "begin " + spec.gid(),
          reply -> coordinator.create(spec, reply),
          answer -> {
            if (answer != null) {
              clientDone(spec.gid() + " begin rejected");
            } else {
              register(spec, branches, 0);
            }
          },
          () -> clientDone(spec.gid() + " gave up beginning"));
    }

    private void register(TransactionSpec spec, List<BranchSpec> branches, int index) {
      if (world.fault(0.05)) {
        clientDone(spec.gid() + " initiator died while registering");
        return;
      }
      if (index == branches.size()) {
        tryAll(spec, branches);
        return;
      }
      BranchSpec branch = branches.get(index);
      request(
          "register " + spec.gid() + "/" + branch.branchId(),
          reply -> coordinator.request(spec.gid(), new Event.BranchRegistered(branch), reply),
          answer -> {
            if (answer == null) {
              register(spec, branches, index + 1);
            } else {
              decide(spec, false, "registration rejected: " + answer);
            }
          },
          () -> decide(spec, false, "registration unanswered"));
    }

    private void tryAll(TransactionSpec spec, List<BranchSpec> branches) {
      java.util.Set<String> succeeded = new java.util.TreeSet<>();
      boolean[] decided = {false};
      for (BranchSpec branch : branches) {
        world.send(
            "try " + spec.gid() + "/" + branch.branchId(),
            () -> {
              Outcome outcome =
                  participants.handle(spec.gid().value(), branch.branchId(), Mode.TCC, Op.TRY);
              world.send(
                  "try " + spec.gid() + "/" + branch.branchId() + " answered " + describe(outcome),
                  () -> {
                    if (decided[0]) {
                      return;
                    }
                    if (!(outcome instanceof Outcome.Succeeded)) {
                      decided[0] = true;
                      decide(spec, false, "the try of " + branch.branchId() + " did not succeed");
                      return;
                    }
                    succeeded.add(branch.branchId());
                    if (succeeded.size() == branches.size()) {
                      decided[0] = true;
                      decide(spec, true, "every try succeeded");
                    }
                  });
            });
      }
      world.at(
          CLIENT_WAIT_MILLIS,
          "tries wait " + spec.gid(),
          () -> {
            if (!decided[0]) {
              decided[0] = true;
              decide(spec, false, "a try went unanswered");
            }
          });
    }

    private void decide(TransactionSpec spec, boolean commit, String why) {
      if (world.fault(0.1)) {
        clientDone(spec.gid() + " initiator died before deciding (" + why + ")");
        return;
      }
      world.trace("client  " + spec.gid() + " " + (commit ? "commits" : "aborts") + ": " + why);
      Event event = commit ? new Event.CommitRequested() : new Event.AbortRequested();
      request(
          (commit ? "commit " : "abort ") + spec.gid(),
          reply -> coordinator.request(spec.gid(), event, reply),
          answer ->
              clientDone(spec.gid() + " decision answered " + (answer == null ? "ok" : answer)),
          () -> clientDone(spec.gid() + " decision unanswered"));
    }

    private void producer(TransactionSpec spec) {
      request(
          "prepare " + spec.gid(),
          reply -> coordinator.create(spec, reply),
          answer -> {
            if (answer != null) {
              clientDone(spec.gid() + " prepare rejected");
              return;
            }
            long localMillis = world.random.nextInt((int) (spec.timeout().toMillis() * 3 / 2));
            world.at(localMillis, "local tx " + spec.gid(), () -> localTransaction(spec));
          },
          () -> clientDone(spec.gid() + " gave up preparing"));
    }

    private void localTransaction(TransactionSpec spec) {
      String gid = spec.gid().value();
      boolean committed;
      if (producerBarrier.containsKey(gid)) {
        world.trace(
            "local   " + gid + " blocked: check-back already wrote " + producerBarrier.get(gid));
        committed = false;
      } else if (world.chance(0.75)) {
        producerBarrier.put(gid, "committed");
        committed = true;
      } else {
        committed = false;
      }
      world.trace("local   " + gid + (committed ? " committed" : " rolled back"));
      if (world.fault(0.2)) {
        clientDone(gid + " producer died after its local transaction");
        return;
      }
      if (committed) {
        decide(spec, true, "local transaction committed");
      } else if (world.chance(0.5)) {
        decide(spec, false, "local transaction rolled back");
      } else {
        clientDone(gid + " producer says nothing");
      }
    }

    // ---- the coordinator's network --------------------------------------------------------

    @Override
    public void call(Effect.CallOp call, Consumer<Outcome> reply) {
      String label =
          world.tracing()
              ? call.op().label() + " " + call.gid() + "/" + call.branchId() + " #" + call.attempt()
              : null;
      world.send(
          label,
          () -> {
            if (partitioned(call.branchId(), label)) {
              return;
            }
            Outcome outcome =
                participants.handle(call.gid().value(), call.branchId(), call.mode(), call.op());
            String answered = answered(label, outcome);
            world.send(
                answered,
                () -> {
                  if (!partitioned(call.branchId(), answered)) {
                    reply.accept(outcome);
                  }
                });
          });
    }

    /** Whether the partition cuts {@code branchId} off now: then the message is lost. */
    private boolean partitioned(String branchId, String label) {
      if (world.faults().cuts(branchId, world.now())) {
        world.trace("cut off " + label + " (partition)"); // label is null when untraced
        return true;
      }
      return false;
    }

    @Override
    public void checkBack(Effect.CheckBack check, Consumer<Outcome> reply) {
      String label = world.tracing() ? "check " + check.gid() + " #" + check.attempt() : null;
      world.send(
          label,
          () -> {
            Outcome outcome = answerCheck(check.gid().value());
            world.send(answered(label, outcome), () -> reply.accept(outcome));
          });
    }

    /** The trace label of an answer to the message {@code label}: null when untraced. */
    private String answered(String label, Outcome outcome) {
      return world.tracing() ? label + " answered " + describe(outcome) : null;
    }

    private Outcome answerCheck(String gid) {
      if (world.fault(world.faults().serverError())) {
        return new Outcome.Unknown("503");
      }
      if (world.fault(world.faults().pending())) {
        return Outcome.PENDING;
      }
      // The SDK's check handler: insert a "rolled_back" barrier row unless one exists; whichever
      // row is there answers definitively, and a later local commit is blocked by it.
      String row = producerBarrier.computeIfAbsent(gid, g -> "rolled_back");
      return row.equals("committed") ? Outcome.SUCCEEDED : new Outcome.Failed("rolled_back");
    }

    @Override
    public void deliver(Effect.Deliver delivery, Consumer<Outcome> reply) {
      String label =
          world.tracing()
              ? "deliver "
                  + delivery.messageId()
                  + " -> "
                  + delivery.subscription()
                  + " #"
                  + delivery.attempt()
              : null;
      world.send(
          label,
          () -> {
            Outcome outcome;
            if (world.fault(world.faults().serverError())) {
              if (world.chance(0.5)) {
                outcome = new Outcome.Unknown("503 before processing");
              } else {
                received
                    .computeIfAbsent(delivery.subscription(), s -> new ArrayList<>())
                    .add(delivery);
                outcome = new Outcome.Unknown("500 after processing");
              }
            } else {
              received
                  .computeIfAbsent(delivery.subscription(), s -> new ArrayList<>())
                  .add(delivery);
              outcome = Outcome.SUCCEEDED;
            }
            world.send(answered(label, outcome), () -> reply.accept(outcome));
          });
    }

    @Override
    public Map<String, List<String>> subscriptions() {
      return subscriptions;
    }
  }
}
