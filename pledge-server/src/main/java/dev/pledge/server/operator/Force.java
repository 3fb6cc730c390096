package dev.pledge.server.operator;

import dev.pledge.core.Branch;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import dev.pledge.core.Progress;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Event;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;

/**
 * The rules of forcing a transaction: a pure function from a transaction and an operator's request
 * to a plan, either refused with the guarantee it would break, or allowed with what would change
 * and the events that do it. A dry run answers the plan; applying sends its events through the
 * coordinator like any other request, so the engine's own checks still stand behind these rules.
 *
 * <p>Forcing never changes a logged decision and never invents an outcome that a guarantee still
 * depends on. Per action:
 *
 * <ul>
 *   <li><b>abort</b>, only while no decision is logged ({@code begun}): tcc as the caller's abort
 *       (cancel every branch); saga, 2pc, xa and 3pc by recording the step under way as refused (a
 *       saga action's "no", a "no" vote), which is what a participant may always answer, so the
 *       usual abort follows (every action that may have run is compensated; presumed abort rolls
 *       every branch back). Never for msg (prepared): the producer's own transaction may have
 *       committed, and only its answer or the check-back may decide (a message of a committed
 *       transaction must be delivered). Never once a decision is logged.
 *   <li><b>skip-op</b>: records one op of the decided phase (a saga's compensation, tcc's confirm
 *       or cancel, 2pc's and xa's commit or rollback, 3pc's do-commit or abort) as done by hand,
 *       when it is pending (called at least once, in flight or waiting). The decision stands; the
 *       operator vouches that the op's effect was applied outside Pledge. Never an op whose answer
 *       still decides the outcome (a forward action, a try, a prepare), and never a delivery
 *       (re-drive it instead).
 *   <li><b>mark-committed</b>: for tcc, 2pc, xa and 3pc in {@code committing} only (the commit is
 *       logged): every pending confirm or commit recorded as done by hand; the same as skip-op on
 *       each. Never without a logged commit decision, never for msg (deliveries are owed) or saga
 *       (a saga is committed only by its actions).
 * </ul>
 */
public final class Force {
  /** The most characters of a reason kept with an op's last error. */
  static final int MAX_REASON_IN_ERROR = 200;

  private Force() {}

  /** What an operator may force. */
  public enum Action {
    ABORT("abort"),
    SKIP_OP("skip-op"),
    MARK_COMMITTED("mark-committed");

    private final String label;

    Action(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }

    /** The action named {@code label}, or null. */
    public static Action fromLabel(String label) {
      for (Action action : values()) {
        if (action.label.equals(label)) {
          return action;
        }
      }
      return null;
    }
  }

  /**
   * An operator's request; {@code branchId} and {@code op} name the op for {@link Action#SKIP_OP}
   * and are null otherwise.
   */
  public record Request(Action action, String branchId, Op op, String reason) {
    public Request {
      Objects.requireNonNull(action, "action");
      Objects.requireNonNull(reason, "reason");
    }
  }

  /** The answer: refused, or allowed with what it would change. */
  public sealed interface Plan {
    /** Which rule decided, as a short stable name (for the audit log and the console). */
    String rule();
  }

  /** Forcing would break {@code why}; nothing is done. */
  public record Refused(String rule, String why) implements Plan {}

  /** Allowed: {@code changes} in words, {@code events} to send to the coordinator in order. */
  public record Allowed(String rule, List<String> changes, List<Event> events) implements Plan {
    public Allowed {
      changes = List.copyOf(changes);
      events = List.copyOf(events);
      if (events.isEmpty()) {
        throw new IllegalArgumentException("an allowed plan does something");
      }
    }
  }

  /** The plan for {@code request} on {@code tx} as it stands. */
  public static Plan plan(Transaction tx, Request request) {
    Status status = tx.status();
    if (tx.isFinal()) {
      return new Refused(
          "final",
          "the transaction is already "
              + status.label()
              + "; a final outcome never changes, and there is nothing left to force");
    }
    return switch (request.action()) {
      case ABORT -> abort(tx, request);
      case SKIP_OP -> skip(tx, request);
      case MARK_COMMITTED -> markCommitted(tx, request);
    };
  }

  private static Plan abort(Transaction tx, Request request) {
    Status status = tx.status();
    if (tx.mode() == Mode.MSG && status == Status.PREPARED) {
      return new Refused(
          "producer-decides",
          "the producer's own database transaction may have committed; only its answer or the"
              + " check-back may decide, or a message of a committed transaction would be lost");
    }
    if (status == Status.COMMITTING) {
      return new Refused(
          "decision-logged",
          "the commit decision is logged, and a logged decision never changes; if the remaining"
              + " confirmations were done by hand, use skip-op or mark-committed");
    }
    if (status == Status.ABORTING) {
      return new Refused(
          "already-aborting",
          "it is already aborting: every op it needs is retried until it succeeds; use retry, or"
              + " skip-op for an op done by hand");
    }
    if (status != Status.BEGUN) {
      return new Refused(
          "deciding", "every vote is in and the decision is being written; look again in a moment");
    }
    return switch (tx.mode()) {
      case MSG -> throw new IllegalStateException("msg is never begun; handled above");
      case TCC ->
          new Allowed(
              "no-decision",
              List.of(
                  "status begun → aborting: no decision was logged, so this is the caller's abort",
                  "cancel is called on each of the "
                      + tx.branches().size()
                      + " registered branch(es) until it succeeds",
                  "a later commit from the caller is refused (409)"),
              List.of(new Event.AbortRequested()));
      case LRA ->
          new Allowed(
              "no-decision",
              List.of(
                  "status begun → aborting: the LRA is cancelled, as its client's cancel would",
                  "compensate is called on each of the "
                      + tx.branches().size()
                      + " participant(s), the last to join first, until it succeeds",
                  "a later close from the client is refused"),
              List.of(new Event.AbortRequested()));
      case SAGA, TWO_PC, XA, THREE_PC -> refuseTheStepUnderWay(tx, request);
    };
  }

  private static Plan refuseTheStepUnderWay(Transaction tx, Request request) {
    Op forward =
        switch (tx.mode()) {
          case SAGA -> Op.ACTION;
          case THREE_PC -> Op.CAN_COMMIT;
          case TWO_PC, XA, TCC, MSG, LRA -> Op.PREPARE;
        };
    for (Branch branch : tx.branches()) {
      Progress progress = branch.op(forward);
      if (progress.status().isActive() && progress.attempts() >= 1) {
        List<String> changes = new ArrayList<>();
        if (tx.mode() == Mode.SAGA) {
          changes.add(
              branch.branchId()
                  + "'s action is recorded as refused, as its service may always answer: it may"
                  + " have run, so it is compensated like every step that was called");
          changes.add("status begun → aborting");
          changes.add(
              "every step whose action was ever called is compensated, newest first; steps never"
                  + " called are skipped");
        } else {
          changes.add(branch.branchId() + "'s " + forward.label() + " is recorded as a 'no' vote");
          changes.add("status begun → aborting: no commit decision was logged (presumed abort)");
          changes.add("rollback is sent to every branch until each succeeds");
        }
        return new Allowed(
            "no-decision",
            changes,
            List.of(
                new Event.OpCompleted(
                    branch.branchId(),
                    forward,
                    progress.attempts(),
                    new Outcome.Failed(
                        "forced abort by an operator: " + shorten(request.reason())))));
      }
    }
    return new Refused(
        "nothing-under-way",
        "no "
            + forward.label()
            + " is under way to refuse: the transaction is about to decide by itself; look again in"
            + " a moment");
  }

  private static Plan skip(Transaction tx, Request request) {
    if (tx.mode() == Mode.MSG) {
      return new Refused(
          "deliveries-owed",
          "a message transaction has no ops to skip, and its deliveries are owed to their"
              + " subscribers: re-drive a dead letter instead");
    }
    Branch branch = request.branchId() == null ? null : tx.branch(request.branchId());
    if (branch == null || request.op() == null || !tx.mode().branchOps().contains(request.op())) {
      return new Refused(
          "no-such-op", "name a branch of this transaction and one of its ops (branchId and op)");
    }
    Op phaseOp = decidedPhaseOp(tx);
    if (phaseOp == null) {
      return new Refused(
          "no-decision-yet",
          "no decision is logged, so the op's answer still decides the outcome; skipping it would"
              + " invent a participant's answer. Abort the transaction instead, or let its timeout"
              + " abort it");
    }
    if (request.op() != phaseOp) {
      return new Refused(
          "not-this-phase",
          "the "
              + tx.status().label()
              + " phase calls "
              + phaseOp.label()
              + ", not "
              + request.op().label());
    }
    Progress progress = branch.op(phaseOp);
    if (!progress.status().isActive() || progress.attempts() < 1) {
      return new Refused(
          "not-pending",
          branch.branchId()
              + "'s "
              + phaseOp.label()
              + " is "
              + progress.status().name().toLowerCase(Locale.ROOT).replace('_', '-')
              + ": there is nothing pending to skip");
    }
    return new Allowed(
        "decided-phase",
        List.of(
            branch.branchId()
                + "'s "
                + phaseOp.label()
                + " is recorded as done by hand (it was "
                + progress.status().name().toLowerCase(Locale.ROOT).replace('_', '-')
                + " after "
                + progress.attempts()
                + " attempt(s)"
                + (progress.lastError() == null ? "" : "; last error: " + progress.lastError())
                + "), and is not called again",
            "the decision stands: once every "
                + phaseOp.label()
                + " is done the transaction is "
                + (tx.status() == Status.COMMITTING ? "committed" : "aborted")),
        List.of(
            new Event.OpCompleted(
                branch.branchId(), phaseOp, progress.attempts(), Outcome.SUCCEEDED)));
  }

  private static Plan markCommitted(Transaction tx, Request request) {
    if (tx.mode() == Mode.MSG) {
      return new Refused(
          "deliveries-owed",
          "a message transaction is committed when its messages reach their subscribers;"
              + " re-drive a dead letter instead");
    }
    if (tx.mode() == Mode.SAGA) {
      return new Refused(
          "saga-commits-by-its-actions",
          "a saga is committed only when every action has run; marking it committed would claim"
              + " work no one did");
    }
    if (tx.status() != Status.COMMITTING) {
      return new Refused(
          "no-commit-decision",
          "no commit decision is logged ("
              + tx.status().label()
              + "): marking it committed would overrule branches that may not have agreed");
    }
    Op phaseOp = decidedPhaseOp(tx);
    List<String> changes = new ArrayList<>();
    List<Event> events = new ArrayList<>();
    for (Branch branch : tx.branches()) {
      Progress progress = branch.op(phaseOp);
      if (progress.status().isActive() && progress.attempts() >= 1) {
        changes.add(
            branch.branchId()
                + "'s "
                + phaseOp.label()
                + " is recorded as done by hand (after "
                + progress.attempts()
                + " attempt(s))");
        events.add(
            new Event.OpCompleted(
                branch.branchId(), phaseOp, progress.attempts(), Outcome.SUCCEEDED));
      }
    }
    if (events.isEmpty()) {
      return new Refused(
          "nothing-pending",
          "no " + phaseOp.label() + " is pending: the transaction is about to be committed");
    }
    changes.add("status committing → committed once every " + phaseOp.label() + " is done");
    return new Allowed("commit-logged", changes, events);
  }

  /** The op the logged decision calls on every branch, or null while nothing is decided. */
  private static Op decidedPhaseOp(Transaction tx) {
    return switch (tx.status()) {
      case COMMITTING ->
          switch (tx.mode()) {
            case TCC -> Op.CONFIRM;
            case TWO_PC, XA -> Op.COMMIT;
            case THREE_PC -> Op.DO_COMMIT;
            case LRA -> Op.COMPLETE;
            case SAGA, MSG -> null;
          };
      case ABORTING ->
          switch (tx.mode()) {
            case SAGA -> Op.COMPENSATE;
            case TCC -> Op.CANCEL;
            case TWO_PC, XA -> Op.ROLLBACK;
            case THREE_PC -> Op.ABORT;
            case LRA -> Op.COMPENSATE;
            case MSG -> null;
          };
      case BEGUN, PREPARED, COMMITTED, ABORTED -> null;
    };
  }

  private static String shorten(String reason) {
    return reason.length() <= MAX_REASON_IN_ERROR
        ? reason
        : reason.substring(0, MAX_REASON_IN_ERROR) + "…";
  }
}
