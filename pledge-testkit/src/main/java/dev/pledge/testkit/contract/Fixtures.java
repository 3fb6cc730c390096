package dev.pledge.testkit.contract;

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
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.engine.Event;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * Realistic transactions for the contract, each made by the engine from a spec and a sequence of
 * events. Every instant is a whole number of milliseconds: the suite asks a log to return instants
 * exactly, and no durable log is expected to keep nanoseconds.
 */
final class Fixtures {
  /** The instant every fixture's clock starts from. */
  static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

  static final Engine ENGINE = new Engine(Limits.DEFAULT, RetryPolicy.DEFAULT);

  /**
   * Flags a must-finish op after its first failed attempt, so a transaction carries a flag early.
   */
  static final Engine IMPATIENT_ENGINE =
      new Engine(
          Limits.DEFAULT,
          new RetryPolicy(
              Duration.ofMillis(200), Duration.ofSeconds(30), 2.0, 0.2, Duration.ofSeconds(10), 1));

  /** How long an answer is awaited: a call sent at t is due again at t plus this. */
  static final Duration CALL_TIMEOUT = RetryPolicy.DEFAULT.callTimeout();

  static final Duration TIMEOUT = Duration.ofSeconds(60);

  /** Non-ASCII on purpose: a log must keep payloads byte for byte. */
  static final String PAYLOAD = "{\"sku\":\"Ω-42\",\"qty\":3,\"note\":\"naïve café\"}";

  static final String TOPIC_ORDERS = "orders";
  static final String TOPIC_AUDIT = "audit";

  /** The subscriptions committed messages fan out to. */
  static final Map<String, List<String>> SUBSCRIPTIONS =
      Map.of(TOPIC_ORDERS, List.of("billing", "shipping"), TOPIC_AUDIT, List.of("archive"));

  private Fixtures() {}

  /**
   * A transaction of {@code mode} just started: saga three steps in a row, 2pc and xa three
   * branches, 3pc two, tcc none yet, msg three messages (two sharing a key) with a check URL.
   */
  static Story started(Mode mode, Gid gid, Instant now, Duration timeout) {
    return Story.start(ENGINE, spec(mode, gid, timeout), now);
  }

  static Story started(Mode mode, Gid gid) {
    return started(mode, gid, T0, TIMEOUT);
  }

  static TransactionSpec spec(Mode mode, Gid gid, Duration timeout) {
    return switch (mode) {
      case SAGA ->
          new TransactionSpec(
              gid,
              mode,
              timeout,
              List.of(
                  sagaStep("reserve", List.of()),
                  sagaStep("charge", List.of()),
                  sagaStep("ship", List.of())),
              List.of(),
              null);
      case TWO_PC, XA ->
          new TransactionSpec(
              gid,
              mode,
              timeout,
              List.of(twoPcBranch("orders"), twoPcBranch("stock"), twoPcBranch("payments")),
              List.of(),
              null);
      case THREE_PC ->
          new TransactionSpec(
              gid,
              mode,
              timeout,
              List.of(threePcBranch("orders"), threePcBranch("stock")),
              List.of(),
              null);
      case TCC -> new TransactionSpec(gid, mode, timeout, List.of(), List.of(), null);
      case MSG ->
          new TransactionSpec(
              gid,
              mode,
              timeout,
              List.of(),
              List.of(
                  new MessageSpec(
                      TOPIC_ORDERS,
                      "order-7",
                      PAYLOAD,
                      Map.of("content-type", "application/json", "tenant", "acme")),
                  new MessageSpec(TOPIC_ORDERS, "order-7", "{\"status\":\"paid\"}", Map.of()),
                  new MessageSpec(TOPIC_AUDIT, null, "{}", null)),
              "http://127.0.0.1:8081/orders/check");
    };
  }

  static BranchSpec sagaStep(String id, List<String> after) {
    return new BranchSpec(
        id,
        Map.of(Op.ACTION, url(id, "action"), Op.COMPENSATE, url(id, "compensate")),
        PAYLOAD,
        after);
  }

  static BranchSpec threePcBranch(String id) {
    return new BranchSpec(
        id,
        Map.of(
            Op.CAN_COMMIT,
            url(id, "can-commit"),
            Op.PRE_COMMIT,
            url(id, "pre-commit"),
            Op.DO_COMMIT,
            url(id, "do-commit"),
            Op.ABORT,
            url(id, "abort")),
        PAYLOAD,
        null);
  }

  static BranchSpec twoPcBranch(String id) {
    return new BranchSpec(
        id,
        Map.of(
            Op.PREPARE,
            url(id, "prepare"),
            Op.COMMIT,
            url(id, "commit"),
            Op.ROLLBACK,
            url(id, "rollback")),
        PAYLOAD,
        null);
  }

  static BranchSpec tccBranch(String id) {
    return new BranchSpec(
        id,
        Map.of(
            Op.TRY, url(id, "try"), Op.CONFIRM, url(id, "confirm"), Op.CANCEL, url(id, "cancel")),
        "{\"amount\":\"12.50\"}",
        null);
  }

  private static String url(String service, String op) {
    return "http://127.0.0.1:8080/" + service + "/" + op;
  }

  // --- Decided stories: one per shape a coordinator writes, each starting at a given instant. ---

  /** A way to make a story: the gid it is about and when it starts. */
  @FunctionalInterface
  interface Shape {
    Story make(Gid gid, Instant start);
  }

  /** A saga whose steps form a DAG (two in parallel after the first), run to its end: committed. */
  static Story sagaCommitted(Gid gid, Instant start) {
    TransactionSpec spec =
        new TransactionSpec(
            gid,
            Mode.SAGA,
            TIMEOUT,
            List.of(
                sagaStep("reserve", List.of()),
                sagaStep("charge", List.of("reserve")),
                sagaStep("notify", List.of("reserve")),
                sagaStep("ship", List.of("charge", "notify"))),
            List.of(),
            null);
    return Story.start(ENGINE, spec, start)
        .after(Duration.ofMillis(40))
        .succeedEverythingInFlight();
  }

  /**
   * A saga of three steps whose second action says no: the third is skipped, the second's
   * compensation is answered unknown once, then every compensation succeeds: aborted.
   */
  static Story sagaCompensated(Gid gid, Instant start) {
    return started(Mode.SAGA, gid, start, TIMEOUT)
        .after(Duration.ofMillis(30))
        .answer("reserve", Op.ACTION, Outcome.SUCCEEDED)
        .after(Duration.ofMillis(30))
        .answer("charge", Op.ACTION, new Outcome.Failed("card declined"))
        .after(Duration.ofMillis(30))
        .answer("charge", Op.COMPENSATE, new Outcome.Unknown("HTTP 503"))
        .after(Duration.ofSeconds(1))
        .on(new Event.Tick())
        .after(Duration.ofMillis(30))
        .succeedEverythingInFlight();
  }

  /** A saga whose second action is still waiting to be called again: begun, an op waiting. */
  static Story sagaRetrying(Gid gid, Instant start) {
    return started(Mode.SAGA, gid, start, TIMEOUT)
        .after(Duration.ofMillis(30))
        .answer("reserve", Op.ACTION, Outcome.SUCCEEDED)
        .after(Duration.ofMillis(30))
        .answer("charge", Op.ACTION, Outcome.PENDING);
  }

  /** A tcc with two branches, committed; one confirm said pending once. */
  static Story tccCommitted(Gid gid, Instant start) {
    return started(Mode.TCC, gid, start, TIMEOUT)
        .on(new Event.BranchRegistered(tccBranch("wallet")))
        .after(Duration.ofMillis(5))
        .on(new Event.BranchRegistered(tccBranch("points")))
        .after(Duration.ofMillis(50))
        .on(new Event.CommitRequested())
        .after(Duration.ofMillis(20))
        .answer("wallet", Op.CONFIRM, Outcome.SUCCEEDED)
        .answer("points", Op.CONFIRM, Outcome.PENDING)
        .after(Duration.ofSeconds(1))
        .on(new Event.Tick())
        .after(Duration.ofMillis(20))
        .succeedEverythingInFlight();
  }

  /** A tcc with one branch whose initiator never decided: the timeout cancels it (aborting). */
  static Story tccTimedOut(Gid gid, Instant start) {
    Story story =
        started(Mode.TCC, gid, start, TIMEOUT).on(new Event.BranchRegistered(tccBranch("wallet")));
    return story.at(story.first().deadline()).on(new Event.Tick());
  }

  /** A 2pc whose prepares all succeeded, then its commits: committed. */
  static Story twoPcCommitted(Gid gid, Instant start) {
    return started(Mode.TWO_PC, gid, start, TIMEOUT)
        .after(Duration.ofMillis(25))
        .succeedEverythingInFlight();
  }

  /**
   * A 2pc where one prepare succeeded, one said no and one was cut off (abandoned); every branch
   * was rolled back: aborted.
   */
  static Story twoPcRolledBack(Gid gid, Instant start) {
    return started(Mode.TWO_PC, gid, start, TIMEOUT)
        .after(Duration.ofMillis(25))
        .answer("orders", Op.PREPARE, Outcome.SUCCEEDED)
        .answer("stock", Op.PREPARE, new Outcome.Failed("out of stock"))
        .after(Duration.ofMillis(25))
        .succeedEverythingInFlight();
  }

  /** A 2pc committing, whose first commit failed and, under an impatient policy, flagged it. */
  static Story twoPcFlagged(Gid gid, Instant start) {
    return Story.start(IMPATIENT_ENGINE, spec(Mode.TWO_PC, gid, TIMEOUT), start)
        .after(Duration.ofMillis(25))
        .answer("orders", Op.PREPARE, Outcome.SUCCEEDED)
        .answer("stock", Op.PREPARE, Outcome.SUCCEEDED)
        .answer("payments", Op.PREPARE, Outcome.SUCCEEDED)
        .after(Duration.ofMillis(25))
        .answer("orders", Op.COMMIT, new Outcome.Unknown("connection reset"));
  }

  /** An xa whose prepares all succeeded, then its commits: committed. */
  static Story xaCommitted(Gid gid, Instant start) {
    return started(Mode.XA, gid, start, TIMEOUT)
        .after(Duration.ofMillis(25))
        .succeedEverythingInFlight();
  }

  /** A 3pc past its pre-commit decision: one pre-commit acknowledged, the other waiting. */
  static Story threePcPreCommitting(Gid gid, Instant start) {
    return started(Mode.THREE_PC, gid, start, TIMEOUT)
        .after(Duration.ofMillis(25))
        .answer("orders", Op.CAN_COMMIT, Outcome.SUCCEEDED)
        .answer("stock", Op.CAN_COMMIT, Outcome.SUCCEEDED)
        .after(Duration.ofMillis(25))
        .answer("orders", Op.PRE_COMMIT, Outcome.SUCCEEDED)
        .answer("stock", Op.PRE_COMMIT, new Outcome.Unknown("connection reset"));
  }

  /**
   * A 3pc committing, flagged with a heuristic outcome: a branch answered do-commit with 409,
   * having aborted by itself.
   */
  static Story threePcHeuristic(Gid gid, Instant start) {
    return started(Mode.THREE_PC, gid, start, TIMEOUT)
        .after(Duration.ofMillis(25))
        .answer("orders", Op.CAN_COMMIT, Outcome.SUCCEEDED)
        .answer("stock", Op.CAN_COMMIT, Outcome.SUCCEEDED)
        .answer("orders", Op.PRE_COMMIT, Outcome.SUCCEEDED)
        .answer("stock", Op.PRE_COMMIT, Outcome.SUCCEEDED)
        .after(Duration.ofMillis(25))
        .answer("orders", Op.DO_COMMIT, Outcome.SUCCEEDED)
        .answer("stock", Op.DO_COMMIT, new Outcome.Failed("aborted by itself"));
  }

  /** A msg whose producer committed and whose subscribers are known: deliveries in flight. */
  static Story msgDelivering(Gid gid, Instant start) {
    return started(Mode.MSG, gid, start, TIMEOUT)
        .after(Duration.ofMillis(80))
        .on(new Event.CommitRequested())
        .after(Duration.ofMillis(2))
        .on(new Event.SubscribersResolved(SUBSCRIPTIONS))
        .takeTurns();
  }

  /**
   * A msg committed whose deliveries to {@code deadTo} are dead letters (each failed once, past the
   * impatient engine's bound of one attempt) and whose other deliveries were acknowledged.
   */
  static Story msgDeadTo(Gid gid, Instant start, String deadTo) {
    Story story =
        Story.start(IMPATIENT_ENGINE, spec(Mode.MSG, gid, TIMEOUT), start)
            .after(Duration.ofMillis(80))
            .on(new Event.CommitRequested())
            .after(Duration.ofMillis(2))
            .on(new Event.SubscribersResolved(SUBSCRIPTIONS))
            .takeTurns()
            .after(Duration.ofMillis(5));
    for (int round = 0; round < 100; round++) {
      String inFlight = null;
      for (Message message : story.latest().messages()) {
        Delivery delivery = message.delivery(deadTo);
        if (delivery != null && delivery.progress().status() == OpStatus.IN_FLIGHT) {
          inFlight = message.messageId();
          break;
        }
      }
      if (inFlight == null) {
        List<Event> turns = Story.turns(story.latest(), deadTo);
        if (!turns.isEmpty()) {
          story.on(turns.get(0));
          continue;
        }
        return story.succeedEverythingInFlight();
      }
      story.answerDelivery(inFlight, deadTo, new Outcome.Unknown("HTTP 503"));
    }
    throw new IllegalStateException("fixture bug: deliveries to " + deadTo + " kept coming");
  }

  /** A msg committed whose every message reached every subscription. */
  static Story msgDelivered(Gid gid, Instant start) {
    return msgDelivering(gid, start).after(Duration.ofMillis(10)).succeedEverythingInFlight();
  }

  /** A msg committed whose topics have no subscription: nothing to deliver. */
  static Story msgCommittedWithoutSubscribers(Gid gid, Instant start) {
    return started(Mode.MSG, gid, start, TIMEOUT)
        .on(new Event.CommitRequested())
        .on(new Event.SubscribersResolved(Map.of()));
  }

  /** A msg committed, its subscriptions not resolved yet: committing. */
  static Story msgCommitting(Gid gid, Instant start) {
    return started(Mode.MSG, gid, start, TIMEOUT).on(new Event.CommitRequested());
  }

  /**
   * A msg whose producer never said: checked back (pending once, then committed), then delivered,
   * one subscription answering unknown.
   */
  static Story msgCheckedBack(Gid gid, Instant start) {
    Story story = started(Mode.MSG, gid, start, Duration.ofSeconds(5));
    return story
        .at(story.first().deadline())
        .on(new Event.Tick())
        .after(Duration.ofMillis(15))
        .answerCheck(Outcome.PENDING)
        .after(Duration.ofSeconds(1))
        .on(new Event.Tick())
        .after(Duration.ofMillis(15))
        .answerCheck(Outcome.SUCCEEDED)
        .on(new Event.SubscribersResolved(SUBSCRIPTIONS))
        .takeTurns()
        .after(Duration.ofMillis(15))
        .answerDelivery(gid.value() + "#1", "billing", new Outcome.Unknown("HTTP 502"));
  }

  /** A msg the producer aborted. */
  static Story msgAborted(Gid gid, Instant start) {
    return started(Mode.MSG, gid, start, TIMEOUT)
        .after(Duration.ofMillis(70))
        .on(new Event.AbortRequested());
  }
}
