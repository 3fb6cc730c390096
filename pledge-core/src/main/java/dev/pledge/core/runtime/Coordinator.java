package dev.pledge.core.runtime;

import dev.pledge.core.Branch;
import dev.pledge.core.BranchSpec;
import dev.pledge.core.Gid;
import dev.pledge.core.Message;
import dev.pledge.core.MessageSpec;
import dev.pledge.core.Mode;
import dev.pledge.core.Outcome;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Transition;
import dev.pledge.core.history.History;
import dev.pledge.core.history.HistoryEntry;
import dev.pledge.core.spi.DuplicateGidException;
import dev.pledge.core.spi.KeyQueues;
import dev.pledge.core.spi.LeaseHeldException;
import dev.pledge.core.spi.LogUnavailableException;
import dev.pledge.core.spi.TransactionLog;
import dev.pledge.core.spi.VersionConflictException;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReferenceArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.function.Function;

/**
 * The runtime: it turns events into decisions, writes each decision to the log, and only then
 * carries out its effects (persist, then act). One body of code for the server and the simulator:
 * time, timers, the network and the log are the SPIs it is given ({@link InstantSource}, {@link
 * Scheduler}, {@link Transport}, {@link TransactionLog}), so the simulator runs these very classes
 * with simulated ones.
 *
 * <p><b>Ownership.</b> The transactions this coordinator created, claimed or decided on are kept in
 * memory (up to {@link RuntimeConfig#maxOwned()}), so an answer is decided without reading and
 * decoding the log. A settled transaction leaves memory at once; past the bound, others are read
 * from the log when needed. The log's version check stays the judge: when another coordinator
 * sharing the log wrote first, or a newer coordinator's lease fences this one off, the write is
 * refused, the transaction leaves memory, and (for a stale version) it is decided again on what the
 * log holds. Answers to this coordinator's own calls and its timers are decided on the copy; but a
 * request from outside ({@link #request}, {@link #load}) may follow a write made through another
 * coordinator sharing the log (a client behind a load balancer joins through one and closes through
 * the other), so it first compares the copy's version with the log's ({@link
 * TransactionLog#version}, no decoding): when the log has moved on, the copy is dropped (this
 * coordinator no longer owns it) and the log's state is read. Likewise due work claimed from the
 * log at a newer version than the copy drops the copy: a coordinator taking over from one that died
 * acts on what the dead one wrote, not on what it last saw itself.
 *
 * <p><b>Batching.</b> Answers and wake-ups are queued per transaction and decided by one task: the
 * answers that arrived together are decided one after the other in memory and written once, as one
 * version. The log's group commit then batches writes across transactions.
 *
 * <p><b>Concurrency.</b> Events for one transaction are decided under a lock striped by gid, so
 * this process never races itself. Effects run through the transport; their answers come back as
 * events. An answer that does not come within {@link RuntimeConfig#answerTimeout()} is taken as
 * unknown. Due work is found by a timer per write (for wake-ups within {@link
 * RuntimeConfig#timerHorizon()}) and, as the safety net, by claiming due work from the log every
 * {@link RuntimeConfig#pollInterval()}.
 *
 * <p><b>Recovery.</b> {@link #start()} takes new work at once and feeds {@code Recovered} to every
 * unsettled transaction of the log in the background, a page of {@value #RECOVERY_PAGE} at a time,
 * pausing while more than half of {@link RuntimeConfig#maxEffectsInFlight()} calls are in flight:
 * work a crashed coordinator left in flight is sent again, and a large backlog does not keep the
 * API from taking new transactions. Each earlier transaction is recovered exactly once, by the
 * first of the scan and the first event decided on it (an answer cannot come, but a wake-up found
 * by the poll or a request can): under the transaction's lock, the first one notes its gid and
 * decides {@code Recovered} before anything else. Transactions created in this run are noted when
 * created, so the scan, which may meet them in the log, leaves them alone.
 */
public final class Coordinator implements AutoCloseable {
  private static final int STRIPES = 1024;
  private static final int MAX_CONFLICT_RETRIES = 16;
  private static final int RECOVERY_PAGE = 256;

  /** A new transaction was refused because too much work is in flight; try again shortly. */
  public static final class OverloadedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    OverloadedException(String message) {
      super(message);
    }
  }

  /** What the coordinator says to a request. */
  public sealed interface Answer {
    record Accepted(Transaction state) implements Answer {}

    record Rejected(String reason) implements Answer {}

    record NotFound() implements Answer {}
  }

  private final RuntimeConfig config;
  private final Engine engine;
  private final TransactionLog log;
  private final InstantSource clock;
  private final Scheduler scheduler;
  private final Transport transport;
  private final SubscriptionDirectory subscriptions;
  private final RuntimeListener listener;

  /** Locks striped by gid, made when first needed (a simulated run makes many coordinators). */
  private final AtomicReferenceArray<ReentrantLock> stripes = new AtomicReferenceArray<>(STRIPES);

  private final Map<Gid, Transaction> owned = new ConcurrentHashMap<>();
  private final Map<Gid, List<History.Noted>> inbox = new ConcurrentHashMap<>();
  private final AtomicLong effectsInFlight = new AtomicLong();
  private final AtomicLong recovered = new AtomicLong();

  /**
   * While recovery goes on, the gids this run has already recovered or created: each is recovered
   * once, by whichever comes first, the background scan or the first event decided on it. Null once
   * the scan is done (then every earlier transaction has been recovered). The set is dropped, never
   * cleared, so a thread that read it before the scan ended still sees every gid in it.
   */
  private volatile Set<Gid> recoveredOrNew;

  private volatile boolean running;
  private volatile boolean pollArmedOnce;

  public Coordinator(
      RuntimeConfig config,
      Engine engine,
      TransactionLog log,
      InstantSource clock,
      Scheduler scheduler,
      Transport transport,
      SubscriptionDirectory subscriptions,
      RuntimeListener listener) {
    this.config = Objects.requireNonNull(config, "config");
    this.engine = Objects.requireNonNull(engine, "engine");
    this.log = Objects.requireNonNull(log, "log");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.scheduler = Objects.requireNonNull(scheduler, "scheduler");
    this.transport = Objects.requireNonNull(transport, "transport");
    this.subscriptions = Objects.requireNonNull(subscriptions, "subscriptions");
    this.listener = Objects.requireNonNull(listener, "listener");
  }

  public RuntimeConfig config() {
    return config;
  }

  /**
   * Starts taking work at once, and recovers in the background what the log holds unsettled from an
   * earlier run (see "Recovery" above).
   */
  public void start() {
    running = true;
    recoveredOrNew = ConcurrentHashMap.newKeySet();
    scheduler.execute(() -> recoverPage(null));
    armPoll();
  }

  /** Whether the background recovery of an earlier run's unsettled transactions is still going. */
  public boolean recovering() {
    return recoveredOrNew != null;
  }

  /** Transactions of an earlier run this coordinator has recovered since it started. */
  public long recovered() {
    return recovered.get();
  }

  /**
   * Starts a global transaction. Idempotent on the gid: the same request again answers the
   * transaction as it is now; another request with the same gid is rejected.
   *
   * @throws dev.pledge.core.InvalidSpecException listing every broken rule
   * @throws OverloadedException when too many calls await answers; nothing was recorded
   */
  public Answer begin(TransactionSpec spec) {
    Decision decision;
    ReentrantLock lock = lockOf(spec.gid());
    lock.lock();
    try {
      // No log read before the create: a new gid has nothing to read, and a replay of a gid this
      // coordinator does not hold is found by the create's conflict (DuplicateGidException).
      Transaction existing = owned.get(spec.gid());
      if (existing != null) {
        return same(existing, spec);
      }
      long inFlight = effectsInFlight.get();
      if (inFlight >= config.maxEffectsInFlight()) {
        existing = log.load(spec.gid()).orElse(null);
        if (existing != null) {
          return same(existing, spec); // a replay is answered even when new work is refused
        }
        throw new OverloadedException(
            inFlight + " calls are awaiting answers (at most " + config.maxEffectsInFlight() + ")");
      }
      Set<Gid> handled = recoveredOrNew;
      // New in this run: nothing to recover (undone below if the gid turns out to exist).
      boolean noted = handled != null && handled.add(spec.gid());
      Instant now = clock.instant();
      decision = engine.start(spec, now);
      listener.decided(decision);
      if (bug(PlantedBug.ACT_BEFORE_PERSIST)) {
        act(decision.next(), decision.effects());
      }
      try {
        log.create(decision.next(), History.ofStart(decision, now));
      } catch (DuplicateGidException e) {
        if (noted) {
          handled.remove(spec.gid()); // an earlier run's: left to recovery
        }
        Transaction raced =
            log.load(spec.gid())
                .orElseThrow(() ->
                    new LogUnavailableException(
                        "gid " + spec.gid() + " exists but cannot be loaded"));
        return same(raced, spec);
      } catch (RuntimeException e) {
        if (noted) {
          handled.remove(spec.gid()); // may or may not exist: recovery or the next event decides
        }
        throw e;
      }
      own(decision.next());
    } finally {
      lock.unlock();
    }
    afterWrite(decision.next(), decision.fired(), decision.effects());
    return new Answer.Accepted(decision.next());
  }

  /** An initiator's or operator's request (register, commit, abort, retry now), decided at once. */
  public Answer request(Gid gid, Event event) {
    return request(gid, History.Noted.of(event));
  }

  /**
   * A request as {@code noted} says, decided at once: an operator's forced event carries what was
   * forced and why ({@link History.Noted#forced}), so its timeline shows the operator's action.
   */
  public Answer request(Gid gid, History.Noted noted) {
    return decide(gid, null, List.of(noted), true);
  }

  /**
   * The transaction as the log holds it now, or null: this coordinator's copy when it owns one that
   * the log has not moved past (see "Ownership" above).
   */
  public Transaction load(Gid gid) {
    return fresh(gid);
  }

  /** The history of a transaction, oldest first (empty when there is none). */
  public List<HistoryEntry> history(Gid gid) {
    return log.history(gid);
  }

  /** Participant calls, check-backs and deliveries awaiting an answer now. */
  public long effectsInFlight() {
    return effectsInFlight.get();
  }

  /** Transactions held in memory now. */
  public int owned() {
    return owned.size();
  }

  // --- deciding -------------------------------------------------------------------------------

  private Transaction current(Gid gid) {
    Transaction tx = owned.get(gid);
    return tx != null ? tx : log.load(gid).orElse(null);
  }

  /**
   * As {@link #current}, but a copy in memory is used only when the log still holds its version;
   * otherwise another coordinator wrote since, and the copy is dropped.
   */
  private Transaction fresh(Gid gid) {
    Transaction tx = owned.get(gid);
    if (tx != null) {
      if (log.version(gid) == tx.version()) {
        return tx;
      }
      owned.remove(gid, tx);
    }
    return log.load(gid).orElse(null);
  }

  /**
   * Decides {@code events} in order on the transaction's current state and writes the result once.
   * {@code known}, when not null, is a state just read from the log. A single event's rejection is
   * answered; in a batch (answers, wake-ups), rejected events are dropped. {@code fromOutside}: a
   * request, which may follow another coordinator's write, so a copy in memory is checked first.
   */
  private Answer decide(
      Gid gid, Transaction known, List<History.Noted> events, boolean fromOutside) {
    Transaction next;
    List<Transition> fired;
    List<Effect> effects;
    Set<TransactionLog.QueueKey> queues;
    ReentrantLock lock = lockOf(gid);
    lock.lock();
    try {
      if (recoverFirst(gid)) {
        known = null; // recovery wrote or acted: decide on what is current now
      }
      int conflicts = 0;
      Transaction before = known;
      while (true) {
        if (before == null) {
          before = fromOutside ? fresh(gid) : current(gid);
          if (before == null) {
            return new Answer.NotFound();
          }
        }
        Instant now = clock.instant();
        Transaction state = before;
        fired = new ArrayList<>();
        effects = new ArrayList<>();
        List<History.Noted> applied = new ArrayList<>(events.size());
        for (History.Noted noted : events) {
          Decision decision = engine.decide(state, noted.event(), now);
          listener.decided(decision);
          if (decision.isRejected()) {
            if (events.size() == 1) {
              return new Answer.Rejected(decision.rejection());
            }
            continue;
          }
          fired.addAll(decision.fired());
          effects.addAll(decision.effects());
          if (decision.changes(state)) {
            applied.add(noted);
          }
          state = decision.next();
        }
        queues = KeyQueues.toCheck(before, state, wakesWaiting(events));
        if (state.version() == before.version()) {
          next = state; // nothing to write (a recovery re-sending what the log says): act at once
          break;
        }
        next = state.withVersion(before.version() + 1);
        if (bug(PlantedBug.ACT_BEFORE_PERSIST)) {
          act(next, effects);
        }
        try {
          long startNanos = nanos();
          log.update(next, History.of(next, applied, fired, effects, now));
          listener.logWritten(Duration.ofNanos(Math.max(0, nanos() - startNanos)));
          own(next);
          break;
        } catch (VersionConflictException e) {
          // Another coordinator sharing the log wrote first: decide again on what it wrote.
          owned.remove(gid);
          before = null;
          if (++conflicts > MAX_CONFLICT_RETRIES) {
            throw new LogUnavailableException(
                "transaction " + gid + " kept changing under " + conflicts + " attempts", e);
          }
        } catch (LeaseHeldException e) {
          owned.remove(gid);
          if (!bug(PlantedBug.ACCEPT_FENCED_WRITE)) {
            listener.fenced(next, e);
            throw e;
          }
          break; // the planted bug: acts on a decision the log refused
        } catch (RuntimeException e) {
          owned.remove(gid); // the write may or may not have happened: read the log next time
          throw e;
        }
      }
    } finally {
      lock.unlock();
    }
    afterWrite(next, fired, effects);
    passTurns(queues);
    return new Answer.Accepted(next);
  }

  /** Whether {@code events} should look again at every delivery waiting for its key's turn. */
  private static boolean wakesWaiting(List<History.Noted> events) {
    for (History.Noted noted : events) {
      if (noted.event() instanceof Event.Recovered
          || noted.event() instanceof Event.Tick
          || noted.event() instanceof Event.RetryNow) {
        return true;
      }
    }
    return false;
  }

  /**
   * Order per key: reads the heads of {@code queues} from the log and gives each head not sent yet
   * its turn ({@link Event.KeyTurn}), in whichever transaction holds it. Run after the write that
   * queued or freed them, so the log's queues already hold it. A failed read is tried again after
   * the poll interval.
   */
  private void passTurns(Set<TransactionLog.QueueKey> queues) {
    if (queues.isEmpty() || !running) {
      return;
    }
    List<TransactionLog.QueueHead> heads;
    try {
      heads = log.heads(queues);
    } catch (LogUnavailableException e) {
      listener.logFailed("reading the heads of " + queues.size() + " key queue(s)", e);
      scheduler.schedule(config.pollInterval(), () -> passTurns(queues));
      return;
    }
    for (TransactionLog.QueueHead head : heads) {
      if (!head.started()) {
        submit(
            head.gid(),
            History.Noted.of(new Event.KeyTurn(head.messageId(), head.queue().subscription())));
      }
    }
  }

  private long nanos() {
    Instant now = clock.instant();
    return now.getEpochSecond() * 1_000_000_000L + now.getNano();
  }

  /** Keeps {@code tx} in memory while it is unsettled and the bound allows. */
  private void own(Transaction tx) {
    if (tx.isSettled()) {
      owned.remove(tx.gid());
    } else if (owned.containsKey(tx.gid()) || owned.size() < config.maxOwned()) {
      owned.put(tx.gid(), tx);
    }
  }

  /** Tells the listener, arms the next wake-up and runs the effects: the write is done. */
  private void afterWrite(Transaction next, List<Transition> fired, List<Effect> effects) {
    for (Transition row : fired) {
      listener.transitioned(next, row);
    }
    if (next.isFinal()) {
      listener.finalized(next);
    }
    scheduleWake(next);
    if (!bug(PlantedBug.ACT_BEFORE_PERSIST)) {
      act(next, effects);
    }
  }

  private void act(Transaction tx, List<Effect> effects) {
    for (Effect effect : effects) {
      if (!running) {
        return; // closing: recovery on the next start sends it again
      }
      execute(tx.mode(), effect);
    }
  }

  private void execute(Mode mode, Effect effect) {
    switch (effect) {
      case Effect.CallOp call ->
          send(
              call.gid(),
              mode,
              call.op().label(),
              transport.call(call),
              outcome ->
                  new Event.OpCompleted(call.branchId(), call.op(), call.attempt(), outcome));
      case Effect.CheckBack check ->
          send(
              check.gid(),
              mode,
              "check",
              transport.checkBack(check),
              outcome -> new Event.CheckCompleted(check.attempt(), outcome));
      case Effect.Deliver delivery -> {
        String target = subscriptions.target(delivery.subscription());
        CompletableFuture<Outcome> sent =
            target == null
                ? CompletableFuture.completedFuture(
                    new Outcome.Unknown(
                        "subscription " + delivery.subscription() + " no longer exists"))
                : transport.deliver(delivery, target);
        send(
            delivery.gid(),
            mode,
            "deliver",
            sent,
            outcome ->
                new Event.DeliveryCompleted(
                    delivery.messageId(), delivery.subscription(), delivery.attempt(), outcome));
      }
      case Effect.ResolveSubscribers resolve ->
          submit(
              resolve.gid(),
              History.Noted.of(
                  new Event.SubscribersResolved(subscriptions.byTopic(resolve.topics()))));
    }
  }

  /**
   * Waits for the answer of one call, or for the answer timeout: whichever comes first becomes an
   * event for the transaction; the other is ignored.
   */
  private void send(
      Gid gid,
      Mode mode,
      String op,
      CompletableFuture<Outcome> sent,
      Function<Outcome, Event> toEvent) {
    effectsInFlight.incrementAndGet();
    Instant sentAt = clock.instant();
    AtomicBoolean done = new AtomicBoolean();
    Function<Outcome, Void> finish =
        outcome -> {
          if (done.compareAndSet(false, true)) {
            effectsInFlight.decrementAndGet();
            Duration latency = Duration.between(sentAt, clock.instant());
            if (latency.isNegative()) {
              latency = Duration.ZERO; // the clock went back
            }
            listener.answered(mode, op, outcome, latency);
            if (running) {
              submit(gid, new History.Noted(toEvent.apply(outcome), latency));
            }
          }
          return null;
        };
    scheduler.schedule(
        config.answerTimeout(),
        () -> finish.apply(new Outcome.Unknown("no answer within " + config.answerTimeout())));
    var unused = sent.thenApply(finish);
  }

  /** Queues an event for the transaction; one task decides all that are queued, written once. */
  private void submit(Gid gid, History.Noted noted) {
    boolean[] first = {false};
    inbox.compute(
        gid,
        (k, queued) -> {
          List<History.Noted> list = queued;
          if (list == null) {
            list = new ArrayList<>(2);
            first[0] = true;
          }
          list.add(noted);
          return list;
        });
    if (first[0]) {
      scheduler.execute(() -> drain(gid));
    }
  }

  private void drain(Gid gid) {
    List<History.Noted> events = inbox.remove(gid);
    if (events == null || !running) {
      return;
    }
    try {
      decide(gid, null, events, false);
    } catch (LeaseHeldException e) {
      // Left to the coordinator that took it over (the listener heard of it).
    } catch (LogUnavailableException e) {
      listener.logFailed("recording " + events.size() + " event(s) of " + gid, e);
    }
  }

  // --- recovery -------------------------------------------------------------------------------

  /**
   * Recovers one page of the log's unsettled transactions, then schedules the next page; pauses
   * while more than half the bound of calls in flight is used, so new transactions are still taken
   * while a large backlog is recovered.
   */
  private void recoverPage(Gid after) {
    Set<Gid> handled = recoveredOrNew;
    if (!running || handled == null) {
      return;
    }
    if (effectsInFlight.get() > config.maxEffectsInFlight() / 2) {
      scheduler.schedule(config.pollInterval(), () -> recoverPage(after)); // answers come back
      return;
    }
    List<Transaction> page;
    try {
      page = log.unsettled(after, RECOVERY_PAGE);
    } catch (LogUnavailableException e) {
      listener.logFailed("recovering the transactions after " + after, e);
      scheduler.schedule(config.pollInterval(), () -> recoverPage(after));
      return;
    }
    if (page.isEmpty()) {
      recoveryScanned();
      return;
    }
    // The page's transactions are recovered side by side, so their writes share the log's group
    // commits (one after the other, each waited for its own commit: 10,000 took minutes). At most
    // one page is in flight; the next is read once every one of this page is done.
    boolean lastPage = page.size() < RECOVERY_PAGE;
    Gid last = page.get(page.size() - 1).gid();
    AtomicInteger left = new AtomicInteger(page.size());
    for (Transaction tx : page) {
      scheduler.execute(() -> {
        try {
          recoverScanned(tx);
        } finally {
          if (left.decrementAndGet() == 0 && running) {
            if (lastPage) {
              recoveryScanned();
            } else {
              scheduler.execute(() -> recoverPage(last));
            }
          }
        }
      });
    }
  }

  private void recoverScanned(Transaction tx) {
    if (!running) {
      return;
    }
    try {
      recover(tx.gid(), tx);
    } catch (LeaseHeldException e) {
      // Another coordinator holds it now (the listener heard of it).
    } catch (LogUnavailableException e) {
      listener.logFailed("recovering " + tx.gid(), e); // found again: recovered on its next event
    }
  }

  private void recoveryScanned() {
    recoveredOrNew = null;
    listener.recoveryDone(recovered.get());
  }

  /** Feeds {@code Recovered} to {@code tx} unless this run recovered or created it already. */
  private void recover(Gid gid, Transaction tx) {
    ReentrantLock lock = lockOf(gid);
    lock.lock();
    try {
      Set<Gid> handled = recoveredOrNew;
      if (handled != null && handled.add(gid)) {
        recoverLocked(handled, gid, tx);
      }
    } finally {
      lock.unlock();
    }
  }

  /**
   * Under the transaction's lock: while recovery goes on, an event on a transaction of an earlier
   * run that has not been recovered yet first recovers it, so its calls in flight are sent again
   * exactly once, by one decision, whichever of the scan and the event comes first.
   *
   * @return whether a recovery was decided
   */
  private boolean recoverFirst(Gid gid) {
    Set<Gid> handled = recoveredOrNew;
    if (handled == null || !handled.add(gid)) {
      return false;
    }
    Transaction tx = current(gid);
    if (tx == null) {
      return false;
    }
    recoverLocked(handled, gid, tx);
    return true;
  }

  private void recoverLocked(Set<Gid> handled, Gid gid, Transaction tx) {
    if (tx.isSettled()) {
      return;
    }
    try {
      decide(gid, tx, List.of(History.Noted.of(new Event.Recovered())), false);
      recovered.incrementAndGet();
    } catch (RuntimeException e) {
      handled.remove(gid); // not recovered: the next event on it, or the poll, tries again
      throw e;
    }
  }

  // --- timers ---------------------------------------------------------------------------------

  private void scheduleWake(Transaction tx) {
    Instant wake = tx.wakeAt();
    if (wake == null || !running || bug(PlantedBug.LOSE_TIMERS)) {
      return;
    }
    Duration delay = Duration.between(clock.instant(), wake);
    if (delay.isNegative()) {
      delay = Duration.ZERO;
    }
    // Far wake-ups are left to the poll, so timers stay few.
    if (delay.compareTo(config.timerHorizon()) <= 0) {
      Gid gid = tx.gid();
      scheduler.schedule(
          delay,
          () -> {
            if (running) {
              submit(gid, History.Noted.of(new Event.Tick()));
            }
          });
    }
  }

  private void armPoll() {
    if (bug(PlantedBug.LOSE_TIMERS) && pollArmedOnce) {
      return;
    }
    pollArmedOnce = true;
    scheduler.schedule(config.pollInterval(), this::poll);
  }

  private void poll() {
    if (!running) {
      return;
    }
    try {
      for (Transaction tx :
          log.claimDue(clock.instant(), config.claimLease(), config.claimBatch())) {
        Transaction mine = owned.get(tx.gid());
        if (mine != null && mine.version() < tx.version()) {
          owned.remove(tx.gid(), mine); // written by another coordinator since: read it again
        }
        submit(tx.gid(), History.Noted.of(new Event.Tick()));
      }
    } catch (LogUnavailableException e) {
      listener.logFailed("looking for due work", e);
    } finally {
      armPoll();
    }
  }

  // --- requests -------------------------------------------------------------------------------

  /** Whether {@code tx} is what {@code spec} would have created: the same request again. */
  private Answer same(Transaction tx, TransactionSpec spec) {
    return sameRequest(tx, spec)
        ? new Answer.Accepted(tx)
        : new Answer.Rejected("transaction " + spec.gid() + " exists with another body");
  }

  private boolean sameRequest(Transaction tx, TransactionSpec spec) {
    if (tx.mode() != spec.mode()
        || !Duration.between(tx.createdAt(), tx.deadline()).equals(spec.timeoutOr(engine.limits()))
        || !Objects.equals(tx.checkUrl(), spec.checkUrl())) {
      return false;
    }
    if (spec.mode() != Mode.TCC) {
      if (tx.branches().size() != spec.branches().size()) {
        return false;
      }
      for (int i = 0; i < spec.branches().size(); i++) {
        Branch had = tx.branches().get(i);
        BranchSpec asked = spec.branches().get(i);
        if (!had.branchId().equals(asked.branchId())
            || !had.urls().equals(asked.urls())
            || !had.payload().equals(asked.payload())
            || !had.after().equals(asked.after())) {
          return false;
        }
      }
    }
    if (tx.messages().size() != spec.messages().size()) {
      return false;
    }
    for (int i = 0; i < spec.messages().size(); i++) {
      Message had = tx.messages().get(i);
      MessageSpec asked = spec.messages().get(i);
      String askedId = asked.id() != null ? asked.id() : spec.gid().value() + "#" + (i + 1);
      if (!had.messageId().equals(askedId)
          || !had.topic().equals(asked.topic())
          || !Objects.equals(had.key(), asked.key())
          || !had.payload().equals(asked.payload())
          || !had.headers().equals(asked.headers())) {
        return false;
      }
    }
    return true;
  }

  private boolean bug(PlantedBug bug) {
    return config.plantedBugs().contains(bug);
  }

  private ReentrantLock lockOf(Gid gid) {
    int stripe = Math.floorMod(gid.value().hashCode(), STRIPES);
    ReentrantLock lock = stripes.get(stripe);
    if (lock == null) {
      stripes.compareAndSet(stripe, null, new ReentrantLock());
      lock = stripes.get(stripe);
    }
    return lock;
  }

  /**
   * Stops taking work: answers, timers and queued events are dropped, and ownership with them;
   * recovery on the next start sends what was in flight again.
   */
  @Override
  public void close() {
    running = false;
    owned.clear();
    inbox.clear();
  }
}
