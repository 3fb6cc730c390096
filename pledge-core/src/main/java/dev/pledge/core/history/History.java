package dev.pledge.core.history;

import dev.pledge.core.Outcome;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Transition;
import dev.pledge.core.history.HistoryEntry.Kind;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The history entries one log write carries: the events it decided (answers, requests, operator
 * actions), the state changes they caused, and the calls they start. Pure: the runtime passes the
 * time and each answer's latency in.
 *
 * <p>Bounded per transaction: a write carries at most {@link #MAX_ENTRIES_PER_WRITE} entries (the
 * rest are summed up in one note), and from version {@link #MAX_VERSIONS_RECORDED} + 1 on only
 * state changes are recorded (announced once by a note). Statuses only move forward, so a
 * transaction has at most {@value #MAX_VERSIONS_RECORDED} × {@value #MAX_ENTRIES_PER_WRITE} + 8
 * entries however long it retries, plus one per forced event: an operator's forced action is always
 * recorded, past either bound, and there are few (a force moves the transaction forward: one abort,
 * at most one per op of each branch).
 */
public final class History {
  /** The most entries one write carries. */
  public static final int MAX_ENTRIES_PER_WRITE = 24;

  /** Versions past this one record state changes only. */
  public static final long MAX_VERSIONS_RECORDED = 128;

  /** The most entries a transaction's history can hold. */
  public static final long MAX_ENTRIES_PER_TRANSACTION =
      MAX_VERSIONS_RECORDED * MAX_ENTRIES_PER_WRITE + 8;

  private History() {}

  /**
   * An event the runtime decided, and for an answer how long after its call it came; {@code forced}
   * when an operator forced it (the event is then recorded as the operator's action, not as a
   * participant's answer or a caller's request), else null.
   */
  public record Noted(Event event, Duration latency, Forced forced) {
    public Noted(Event event, Duration latency) {
      this(event, latency, null);
    }

    public static Noted of(Event event) {
      return new Noted(event, null, null);
    }

    /** {@code event}, sent by an operator's forced {@code action} for {@code reason}. */
    public static Noted forced(Event event, String action, String reason) {
      return new Noted(event, null, new Forced(action, reason));
    }
  }

  /**
   * An operator's forced action, as the timeline names it.
   *
   * @param action what was forced, as the API names it ({@code abort}, {@code skip-op}, {@code
   *     mark-committed})
   * @param reason the operator's reason, as given (the audit log keeps who gave it)
   */
  public record Forced(String action, String reason) {
    public Forced {
      Objects.requireNonNull(action, "action");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /**
   * The entries of the write of {@code next}, which deciding {@code events} produced (with {@code
   * fired} rows and {@code effects}) at {@code now}.
   */
  public static List<HistoryEntry> of(
      Transaction next,
      List<Noted> events,
      List<Transition> fired,
      List<Effect> effects,
      Instant now) {
    long version = next.version();
    List<HistoryEntry> states = new ArrayList<>();
    for (Transition row : fired) {
      if (row.from() != row.to()) {
        states.add(
            new HistoryEntry(
                now,
                version,
                Kind.STATE,
                null,
                null,
                row.from(),
                row.to(),
                null,
                0,
                null,
                row.trigger().label()));
      }
    }
    if (version > MAX_VERSIONS_RECORDED) {
      // Past the bound: state changes and what an operator forced, nothing else.
      List<HistoryEntry> kept = new ArrayList<>();
      for (Noted noted : events) {
        if (noted.forced() != null) {
          kept.add(ofForced(noted, now, version));
        }
      }
      kept.addAll(states);
      if (version == MAX_VERSIONS_RECORDED + 1) {
        kept.add(
            note(
                now,
                version,
                "history bound reached: from version "
                    + version
                    + " on, only state changes and operators' forced actions are recorded"));
      }
      return kept;
    }
    List<HistoryEntry> entries = new ArrayList<>();
    List<HistoryEntry> forced = new ArrayList<>();
    for (Noted noted : events) {
      HistoryEntry entry =
          noted.forced() != null ? ofForced(noted, now, version) : ofEvent(noted, now, version);
      if (entry != null) {
        entries.add(entry);
        if (noted.forced() != null) {
          forced.add(entry);
        }
      }
    }
    entries.addAll(states);
    for (Effect effect : effects) {
      HistoryEntry entry = ofEffect(effect, now, version);
      if (entry != null) {
        entries.add(entry);
      }
    }
    if (entries.size() <= MAX_ENTRIES_PER_WRITE) {
      return entries;
    }
    // Keep every forced action and state change, fill up with the rest in order, and say what was
    // left out.
    List<HistoryEntry> kept = new ArrayList<>(forced);
    kept.addAll(states);
    int room = MAX_ENTRIES_PER_WRITE - 1 - kept.size();
    int left = 0;
    for (HistoryEntry entry : entries) {
      if (entry.kind() == Kind.STATE || forced.contains(entry)) {
        continue;
      }
      if (room > 0) {
        kept.add(entry);
        room--;
      } else {
        left++;
      }
    }
    kept.add(note(now, version, left + " more calls and answers of this write not recorded"));
    return kept;
  }

  /** The entries of a new transaction's first write. */
  public static List<HistoryEntry> ofStart(Decision decision, Instant now) {
    return of(decision.next(), List.of(), decision.fired(), decision.effects(), now);
  }

  private static HistoryEntry note(Instant now, long version, String text) {
    return new HistoryEntry(now, version, Kind.NOTE, null, null, null, null, null, 0, null, text);
  }

  private static HistoryEntry ofEvent(Noted noted, Instant now, long version) {
    return switch (noted.event()) {
      case Event.OpCompleted done ->
          answer(
              now,
              version,
              done.branchId(),
              done.op().label(),
              done.attempt(),
              done.outcome(),
              noted.latency());
      case Event.CheckCompleted done ->
          answer(now, version, "check", "check", done.attempt(), done.outcome(), noted.latency());
      case Event.DeliveryCompleted done ->
          answer(
              now,
              version,
              done.messageId() + ">" + done.subscription(),
              "deliver",
              done.attempt(),
              done.outcome(),
              noted.latency());
      case Event.BranchRegistered registered ->
          request(now, version, Kind.REQUEST, registered.branch().branchId(), "register");
      case Event.BranchLeft left -> request(now, version, Kind.REQUEST, left.branchId(), "leave");
      case Event.CommitRequested commit -> request(now, version, Kind.REQUEST, null, "commit");
      case Event.AbortRequested abort -> request(now, version, Kind.REQUEST, null, "abort");
      case Event.RetryNow retry -> request(now, version, Kind.OPERATOR, null, "retry");
      case Event.Redrive redrive ->
          request(
              now,
              version,
              Kind.OPERATOR,
              redrive.messageId() + ">" + redrive.subscription(),
              "redrive");
      case Event.KeyTurn turn -> null;
      case Event.Tick tick -> null;
      case Event.Recovered recovered -> null;
      case Event.SubscribersResolved resolved -> null;
    };
  }

  /**
   * An event an operator forced, as one operator entry: {@code force <action>}, on the branch whose
   * op it records (with the outcome recorded and its attempt), and the reason. A forced op answer
   * is never shown as the participant's: the participant did not give it.
   */
  private static HistoryEntry ofForced(Noted noted, Instant now, long version) {
    Forced forced = noted.forced();
    String op = "force " + forced.action();
    String reason = "reason: " + forced.reason();
    if (noted.event() instanceof Event.OpCompleted done) {
      return new HistoryEntry(
          now,
          version,
          Kind.OPERATOR,
          done.branchId(),
          op,
          null,
          null,
          label(done.outcome()),
          done.attempt(),
          null,
          done.op().label()
              + " recorded as "
              + (done.outcome() instanceof Outcome.Succeeded ? "done by hand" : "refused")
              + "; "
              + reason);
    }
    // The caller's abort (tcc, lra), or any other request an operator sends on the caller's behalf.
    return new HistoryEntry(
        now, version, Kind.OPERATOR, null, op, null, null, null, 0, null, reason);
  }

  private static String label(Outcome outcome) {
    return switch (outcome) {
      case Outcome.Succeeded s -> "succeeded";
      case Outcome.Failed f -> "failed";
      case Outcome.Pending p -> "pending";
      case Outcome.Unknown u -> "unknown";
    };
  }

  private static HistoryEntry ofEffect(Effect effect, Instant now, long version) {
    return switch (effect) {
      case Effect.CallOp call ->
          call(now, version, call.branchId(), call.op().label(), call.attempt());
      case Effect.CheckBack check -> call(now, version, "check", "check", check.attempt());
      case Effect.Deliver delivery ->
          call(
              now,
              version,
              delivery.messageId() + ">" + delivery.subscription(),
              "deliver",
              delivery.attempt());
      case Effect.ResolveSubscribers resolve -> null;
    };
  }

  private static HistoryEntry call(
      Instant now, long version, String subject, String op, int attempt) {
    return new HistoryEntry(
        now, version, Kind.CALL, subject, op, null, null, null, attempt, null, null);
  }

  private static HistoryEntry request(
      Instant now, long version, Kind kind, String subject, String op) {
    return new HistoryEntry(now, version, kind, subject, op, null, null, null, 0, null, null);
  }

  private static HistoryEntry answer(
      Instant now,
      long version,
      String subject,
      String op,
      int attempt,
      Outcome outcome,
      Duration latency) {
    String label;
    String error;
    switch (outcome) {
      case Outcome.Succeeded s -> {
        label = "succeeded";
        error = null;
      }
      case Outcome.Failed f -> {
        label = "failed";
        error = f.reason();
      }
      case Outcome.Pending p -> {
        label = "pending";
        error = null;
      }
      case Outcome.Unknown u -> {
        label = "unknown";
        error = u.reason();
      }
    }
    return new HistoryEntry(
        now, version, Kind.ANSWER, subject, op, null, null, label, attempt, latency, error);
  }
}
