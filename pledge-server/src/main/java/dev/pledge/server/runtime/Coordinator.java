package dev.pledge.server.runtime;

import dev.pledge.core.Gid;
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
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.MDC;

/**
 * The runtime around the engine: it turns events into decisions, writes each decision to the log,
 * and only then carries out its effects (persist, then act). It is the server's counterpart of the
 * simulator's coordinator, with real threads, a real clock and real participants.
 *
 * <p>Concurrency: events for one transaction are decided one at a time under a lock striped by gid,
 * so this process never races itself; across processes sharing a log, the log's version check makes
 * one writer win, and the loser decides again on the fresh state. Effects run on virtual threads
 * and feed their answers back as events. Due work (retries, answer deadlines, timeouts) is found by
 * a timer per write and, as a safety net, by polling the log's {@code due} index.
 *
 * <p>Recovery: {@link #start()} feeds {@code Recovered} to every unsettled transaction in the log
 * before anything else, so work a crashed coordinator left in flight is sent again.
 */
public final class Coordinator implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(Coordinator.class);
  private static final int STRIPES = 1024;
  private static final int MAX_CONFLICT_RETRIES = 16;
  private static final int DUE_BATCH = 512;
  private static final int RECOVERY_PAGE = 256;

  /**
   * How long due work this coordinator claims stays its own: another coordinator sharing the log
   * takes it over only after this long without a renewal (judged by the log's clock).
   */
  static final Duration CLAIM_LEASE = Duration.ofSeconds(10);

  /**
   * The most participant calls, check-backs and deliveries awaiting an answer at once. Past it, new
   * transactions are refused ({@link OverloadedException}) until answers come back: the work
   * already accepted is never dropped, and the backlog cannot grow without bound.
   */
  public static final int MAX_EFFECTS_IN_FLIGHT = 20_000;

  /**
   * The most long polls ({@link #awaitFinal}) waiting at once: half the HTTP server's request
   * bound, so waiting clients can never starve the requests that would end their transactions.
   */
  public static final int MAX_LONG_POLLS = 512;

  /** The longest a long poll may wait. */
  public static final Duration MAX_LONG_POLL = Duration.ofSeconds(30);

  /** A long poll was refused because {@link #MAX_LONG_POLLS} already wait; poll again shortly. */
  public static final class TooManyWaitersException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    TooManyWaitersException(String message) {
      super(message);
    }
  }

  /** A new transaction was refused because too much work is in flight; try again shortly. */
  public static final class OverloadedException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    OverloadedException(String message) {
      super(message);
    }
  }

  private final Engine engine;
  private final TransactionLog log;
  private final InstantSource clock;
  private final Effects effects;
  private final Subscriptions subscriptions;
  private final Duration pollInterval;
  private final ReentrantLock[] stripes = new ReentrantLock[STRIPES];
  private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
  private final ScheduledExecutorService timer =
      Executors.newSingleThreadScheduledExecutor(
          Thread.ofPlatform().daemon().name("pledge-timer").factory());
  private volatile boolean running;
  private final int maxEffectsInFlight;

  /** State changes by mode and the status they reached, for {@code /metrics}. */
  private final Map<String, LongAdder> transitions = new ConcurrentHashMap<>();

  private final AtomicLong effectsInFlight = new AtomicLong();

  private final FinalWaiters waiters = new FinalWaiters(MAX_LONG_POLLS);

  /** What the coordinator says to a request. */
  public sealed interface Answer {
    record Accepted(Transaction state) implements Answer {}

    record Rejected(String reason) implements Answer {}

    record NotFound() implements Answer {}
  }

  public Coordinator(
      Engine engine,
      TransactionLog log,
      InstantSource clock,
      Effects effects,
      Subscriptions subscriptions,
      Duration pollInterval) {
    this(engine, log, clock, effects, subscriptions, pollInterval, MAX_EFFECTS_IN_FLIGHT);
  }

  /**
   * @param maxEffectsInFlight calls awaiting answers past which new transactions are refused, in
   *     [1, {@value #MAX_EFFECTS_IN_FLIGHT}]
   */
  public Coordinator(
      Engine engine,
      TransactionLog log,
      InstantSource clock,
      Effects effects,
      Subscriptions subscriptions,
      Duration pollInterval,
      int maxEffectsInFlight) {
    if (maxEffectsInFlight < 1 || maxEffectsInFlight > MAX_EFFECTS_IN_FLIGHT) {
      throw new IllegalArgumentException(
          "maxEffectsInFlight must be in [1, "
              + MAX_EFFECTS_IN_FLIGHT
              + "], got "
              + maxEffectsInFlight);
    }
    this.maxEffectsInFlight = maxEffectsInFlight;
    this.engine = Objects.requireNonNull(engine, "engine");
    this.log = Objects.requireNonNull(log, "log");
    this.clock = Objects.requireNonNull(clock, "clock");
    this.effects = Objects.requireNonNull(effects, "effects");
    this.subscriptions = Objects.requireNonNull(subscriptions, "subscriptions");
    this.pollInterval = Objects.requireNonNull(pollInterval, "pollInterval");
    if (pollInterval.isNegative()
        || pollInterval.isZero()
        || pollInterval.compareTo(Duration.ofMinutes(1)) > 0) {
      throw new IllegalArgumentException("pollInterval must be in (0, 1 min], got " + pollInterval);
    }
    for (int i = 0; i < STRIPES; i++) {
      stripes[i] = new ReentrantLock();
    }
  }

  /** Recovers every unsettled transaction from the log, then starts looking for due work. */
  public void start() {
    running = true;
    Gid after = null;
    int recovered = 0;
    while (true) {
      List<Transaction> page = log.unsettled(after, RECOVERY_PAGE);
      if (page.isEmpty()) {
        break;
      }
      for (Transaction tx : page) {
        apply(tx.gid(), new Event.Recovered(), null);
        recovered++;
      }
      after = page.get(page.size() - 1).gid();
    }
    LOG.info("recovered {} unsettled transactions", recovered);
    long pollMillis = pollInterval.toMillis();
    var unused =
        timer.scheduleWithFixedDelay(this::pollDue, pollMillis, pollMillis, TimeUnit.MILLISECONDS);
  }

  /**
   * Starts a global transaction. Idempotent on the gid: when it exists, its current state is
   * returned (the API compares the request body).
   *
   * @throws dev.pledge.core.InvalidSpecException listing every broken rule
   */
  public Transaction begin(TransactionSpec spec) {
    Decision decision;
    ReentrantLock lock = lockOf(spec.gid());
    lock.lock();
    try {
      Transaction existing = log.load(spec.gid()).orElse(null);
      if (existing != null) {
        return existing; // a replay is answered even when new work is refused
      }
      long inFlight = effectsInFlight.get();
      if (inFlight >= maxEffectsInFlight) {
        throw new OverloadedException(
            inFlight + " calls are awaiting answers (at most " + maxEffectsInFlight + ")");
      }
      Instant now = clock.instant();
      decision = engine.start(spec, now);
      try {
        log.create(decision.next(), History.ofStart(decision, now));
      } catch (DuplicateGidException e) {
        return log.load(spec.gid())
            .orElseThrow(() ->
                new LogUnavailableException("gid " + spec.gid() + " exists but cannot be loaded"));
      }
    } finally {
      lock.unlock();
    }
    afterWrite(decision);
    return decision.next();
  }

  /** An initiator's or operator's request: register, commit, abort, retry now. */
  public Answer request(Gid gid, Event event) {
    return apply(gid, event, null);
  }

  public Transaction load(Gid gid) {
    return log.load(gid).orElse(null);
  }

  /**
   * Waits up to {@code wait} (at most {@link #MAX_LONG_POLL}) for the transaction to become final,
   * and answers its state then, or its current state when the wait ends first. Waiters are woken by
   * the write that makes the transaction final; nothing polls the log. A transaction made final by
   * another coordinator sharing the log is seen when the wait ends.
   *
   * @return the state, or null when there is no such transaction
   * @throws TooManyWaitersException when {@link #MAX_LONG_POLLS} long polls already wait
   */
  public Transaction awaitFinal(Gid gid, Duration wait) {
    if (wait.isNegative() || wait.compareTo(MAX_LONG_POLL) > 0) {
      throw new IllegalArgumentException("wait must be in [0, " + MAX_LONG_POLL + "], got " + wait);
    }
    if (wait.isZero()) {
      return load(gid);
    }
    return waiters.await(gid, wait, () -> load(gid));
  }

  /** Long polls waiting now. */
  public int longPollsWaiting() {
    return waiters.waiting();
  }

  /** The history of a transaction, oldest first (empty when there is none). */
  public List<HistoryEntry> history(Gid gid) {
    return log.history(gid);
  }

  private Answer apply(Gid gid, Event event, Duration latency) {
    Transaction before;
    Decision decision;
    ReentrantLock lock = lockOf(gid);
    lock.lock();
    try {
      int conflicts = 0;
      while (true) {
        before = log.load(gid).orElse(null);
        if (before == null) {
          return new Answer.NotFound();
        }
        Instant now = clock.instant();
        decision = engine.decide(before, event, now);
        if (decision.isRejected()) {
          return new Answer.Rejected(decision.rejection());
        }
        if (!decision.changes(before)) {
          break;
        }
        try {
          log.update(
              decision.next(),
              History.of(
                  decision.next(),
                  List.of(new History.Noted(event, latency)),
                  decision.fired(),
                  decision.effects(),
                  now));
          break;
        } catch (VersionConflictException e) {
          // Another coordinator sharing the log wrote first: decide again on what it wrote.
          if (++conflicts > MAX_CONFLICT_RETRIES) {
            throw new LogUnavailableException(
                "transaction " + gid + " kept changing under " + conflicts + " attempts", e);
          }
        }
      }
    } finally {
      lock.unlock();
    }
    afterWrite(decision);
    return new Answer.Accepted(decision.next());
  }

  /** Logs the transitions, schedules the next wake-up, and runs the effects: the write is done. */
  private void afterWrite(Decision decision) {
    Transaction next = decision.next();
    MDC.put("gid", next.gid().value());
    try {
      for (Transition row : decision.fired()) {
        if (row.from() != row.to()) {
          transitions
              .computeIfAbsent(
                  "mode=\"" + next.mode().code() + "\",to=\"" + row.to().label() + "\"",
                  k -> new LongAdder())
              .increment();
          LOG.info(
              "{} {} -> {} on {} (v{})",
              next.gid(),
              row.from() == null ? "[new]" : row.from().label(),
              row.to().label(),
              row.trigger().label(),
              next.version());
        } else {
          LOG.debug("{} {} on {}", next.gid(), row.to().label(), row.trigger().label());
        }
      }
    } finally {
      MDC.remove("gid");
    }
    if (next.isFinal()) {
      waiters.finalized(next);
    }
    scheduleWake(next);
    for (Effect effect : decision.effects()) {
      execute(effect);
    }
  }

  private void execute(Effect effect) {
    if (!running) {
      return; // closing: recovery on the next start sends it again
    }
    switch (effect) {
      case Effect.CallOp call ->
          whenDone(
              call.gid(),
              effects.call(call),
              outcome ->
                  new Event.OpCompleted(call.branchId(), call.op(), call.attempt(), outcome));
      case Effect.CheckBack check ->
          whenDone(
              check.gid(),
              effects.checkBack(check),
              outcome -> new Event.CheckCompleted(check.attempt(), outcome));
      case Effect.Deliver delivery -> {
        String target = subscriptions.target(delivery.subscription());
        CompletableFuture<Outcome> sent =
            target == null
                ? CompletableFuture.completedFuture(
                    new Outcome.Unknown(
                        "subscription " + delivery.subscription() + " no longer exists"))
                : effects.deliver(delivery, target);
        whenDone(
            delivery.gid(),
            sent,
            outcome ->
                new Event.DeliveryCompleted(
                    delivery.messageId(), delivery.subscription(), delivery.attempt(), outcome));
      }
      case Effect.ResolveSubscribers resolve ->
          workers.execute(() ->
              apply(
                  resolve.gid(),
                  new Event.SubscribersResolved(subscriptions.byTopic(resolve.topics())),
                  null));
    }
  }

  private void whenDone(
      Gid gid,
      CompletableFuture<Outcome> sent,
      java.util.function.Function<Outcome, Event> toEvent) {
    effectsInFlight.incrementAndGet();
    long sentNanos = System.nanoTime();
    var unused =
        sent.thenAccept(outcome -> {
          effectsInFlight.decrementAndGet();
          Duration latency = Duration.ofNanos(System.nanoTime() - sentNanos);
          if (running) {
            workers.execute(() -> guarded(gid, toEvent.apply(outcome), latency));
          }
        });
  }

  /**
   * Applies an event from a background task; a failing log is reported, and the work found again
   * later.
   */
  private void guarded(Gid gid, Event event, Duration latency) {
    try {
      apply(gid, event, latency);
    } catch (LeaseHeldException e) {
      LOG.debug("{}: left to the coordinator that took it over: {}", gid, e.getMessage());
    } catch (LogUnavailableException e) {
      LOG.warn(
          "{}: could not record {}: {}; it will be found again as due work",
          gid,
          event.getClass().getSimpleName(),
          e.getMessage());
    }
  }

  private void scheduleWake(Transaction tx) {
    Instant wake = tx.wakeAt();
    if (wake == null || !running) {
      return;
    }
    long delayMillis = Math.max(0, Duration.between(clock.instant(), wake).toMillis());
    // Far wake-ups are left to the poll, so timers stay few: one per recent write at most.
    if (delayMillis <= 2 * pollInterval.toMillis()) {
      var unused =
          timer.schedule(
              () -> workers.execute(() -> guarded(tx.gid(), new Event.Tick(), null)),
              delayMillis,
              TimeUnit.MILLISECONDS);
    }
  }

  private void pollDue() {
    if (!running) {
      return;
    }
    try {
      List<Gid> due = new ArrayList<>();
      for (Transaction tx : log.claimDue(clock.instant(), CLAIM_LEASE, DUE_BATCH)) {
        due.add(tx.gid());
      }
      for (Gid gid : due) {
        workers.execute(() -> guarded(gid, new Event.Tick(), null));
      }
    } catch (LogUnavailableException e) {
      LOG.warn("looking for due work failed: {}; trying again in {}", e.getMessage(), pollInterval);
    }
  }

  /** Participant calls, check-backs and deliveries awaiting an answer now. */
  public long effectsInFlight() {
    return effectsInFlight.get();
  }

  /** The coordinator's counters in Prometheus' text format. */
  public void appendMetrics(StringBuilder out) {
    out.append("# HELP pledge_transitions_total State changes, by mode and the state reached.\n");
    out.append("# TYPE pledge_transitions_total counter\n");
    transitions.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(entry ->
            out.append("pledge_transitions_total{")
                .append(entry.getKey())
                .append("} ")
                .append(entry.getValue().sum())
                .append('\n'));
    out.append("# HELP pledge_effects_in_flight Participant calls, check-backs and deliveries")
        .append(" awaiting an answer.\n");
    out.append("# TYPE pledge_effects_in_flight gauge\n");
    out.append("pledge_effects_in_flight ").append(effectsInFlight.get()).append('\n');
    out.append("# HELP pledge_long_polls_waiting Long polls waiting for a final state.\n");
    out.append("# TYPE pledge_long_polls_waiting gauge\n");
    out.append("pledge_long_polls_waiting ").append(waiters.waiting()).append('\n');
  }

  private ReentrantLock lockOf(Gid gid) {
    return stripes[Math.floorMod(gid.value().hashCode(), STRIPES)];
  }

  /**
   * Stops taking work; effects in flight are abandoned, and recovery sends them again next time.
   */
  @Override
  public void close() {
    running = false;
    timer.shutdownNow();
    workers.shutdown();
    try {
      if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
        workers.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      workers.shutdownNow();
    }
  }
}
