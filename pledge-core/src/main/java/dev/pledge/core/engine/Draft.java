package dev.pledge.core.engine;

import dev.pledge.core.Branch;
import dev.pledge.core.Delivery;
import dev.pledge.core.Message;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Outcome;
import dev.pledge.core.Progress;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Transaction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The scratch pad of one decision: the state being changed, the effects asked for and the rows
 * fired. It lives for one call of a decider and is never shared, so the decider stays a pure
 * function of its arguments. Every status change goes through {@link #fire}, so it follows a row of
 * the table.
 */
public final class Draft {
  /** The rejection of a re-drive in a mode that has no deliveries. */
  public static final String NO_DELIVERIES = "only msg transactions have deliveries to re-drive";

  /** The rejection of a participant leaving in a mode other than lra. */
  public static final String ONLY_LRA_LEAVES = "only lra participants leave";

  /** How a decider reads one answer, before the mode's own rules apply. */
  public enum Answer {
    /** Not about the current attempt of an op still under way: a duplicate, or too late. */
    STALE,
    SUCCEEDED,
    /** A business "no" where that is allowed. */
    FAILED,
    /** Unknown, pending, or a "no" where none is allowed: ask again later. */
    RETRY
  }

  private final Transaction original;
  private final Instant now;
  private final RetryPolicy policy;
  private final TransitionTable table;
  private final List<Effect> effects = new ArrayList<>();
  private final List<Transition> fired = new ArrayList<>();
  private final boolean creating;
  private Transaction state;
  private boolean changed;

  /** A draft of a change to {@code state}. */
  public Draft(Transaction state, Instant now, RetryPolicy policy, TransitionTable table) {
    this(state, now, policy, table, false);
  }

  /** A draft of a transaction being created: {@code initial} is its first version. */
  public static Draft creating(
      Transaction initial, Instant now, RetryPolicy policy, TransitionTable table) {
    return new Draft(initial, now, policy, table, true);
  }

  private Draft(
      Transaction state, Instant now, RetryPolicy policy, TransitionTable table, boolean creating) {
    this.creating = creating;
    this.original = state;
    this.state = state;
    this.now = now;
    this.policy = policy;
    this.table = table;
  }

  public Transaction state() {
    return state;
  }

  public Instant now() {
    return now;
  }

  public RetryPolicy policy() {
    return policy;
  }

  /** Moves along the row for the current status and {@code trigger}; no such row is a bug. */
  public void fire(Trigger trigger) {
    Transition row = table.transition(state.status(), trigger);
    fired.add(row);
    if (row.to() != state.status()) {
      state = state.withStatus(row.to());
      changed = true;
    }
  }

  /** Records a row that fired when the transaction was created. */
  public void fireStart() {
    fired.add(table.transition(null, Trigger.STARTED));
    changed = true;
  }

  public Progress progress(Slot slot) {
    return switch (slot) {
      case Slot.BranchOp op -> state.branch(op.branchId()).op(op.op());
      case Slot.Check check -> state.check();
      case Slot.MessageDelivery d ->
          state.message(d.messageId()).delivery(d.subscription()).progress();
    };
  }

  public void set(Slot slot, Progress progress) {
    state =
        switch (slot) {
          case Slot.BranchOp op -> state.withBranch(op.branchId(), b -> b.with(op.op(), progress));
          case Slot.Check check -> state.withCheck(progress);
          case Slot.MessageDelivery d ->
              state.withMessage(
                  d.messageId(), m -> m.withDeliveries(replace(m, d.subscription(), progress)));
        };
    changed = true;
  }

  private static List<Delivery> replace(Message message, String subscription, Progress progress) {
    List<Delivery> next = new ArrayList<>(message.deliveries().size());
    for (Delivery delivery : message.deliveries()) {
      next.add(
          delivery.subscription().equals(subscription)
              ? new Delivery(subscription, progress)
              : delivery);
    }
    return next;
  }

  public void change(Transaction next) {
    state = next;
    changed = true;
  }

  /** Sends the next attempt of {@code slot}: logged as in flight, with the call as an effect. */
  public void send(Slot slot) {
    Progress next = progress(slot).sent(now, policy.callTimeout());
    set(slot, next);
    int attempt = next.attempts();
    effects.add(
        switch (slot) {
          case Slot.BranchOp op -> {
            Branch branch = state.branch(op.branchId());
            yield new Effect.CallOp(
                state.gid(),
                state.mode(),
                branch.branchId(),
                op.op(),
                attempt,
                branch.url(op.op()),
                branch.payload());
          }
          case Slot.Check check -> new Effect.CheckBack(state.gid(), state.checkUrl(), attempt);
          case Slot.MessageDelivery d -> {
            Message m = state.message(d.messageId());
            yield new Effect.Deliver(
                state.gid(),
                m.messageId(),
                d.subscription(),
                attempt,
                m.topic(),
                m.key(),
                m.payload(),
                m.headers());
          }
        });
  }

  public void effect(Effect effect) {
    effects.add(effect);
  }

  /** Classifies an answer to attempt {@code attempt} of {@code slot}. */
  public Answer classify(Slot slot, int attempt, Outcome outcome) {
    Progress progress = progress(slot);
    if (!progress.status().isActive() || attempt < 1 || attempt > progress.attempts()) {
      // Not under way any more, or an attempt that was never sent: a forged or confused answer.
      return Answer.STALE;
    }
    boolean current = progress.status() == OpStatus.IN_FLIGHT && attempt == progress.attempts();
    return switch (outcome) {
      // Ops are idempotent at the participant (the barrier), so a definitive answer to an earlier
      // attempt is as good as one to the latest.
      case Outcome.Succeeded s -> Answer.SUCCEEDED;
      case Outcome.Failed f ->
          slot.mayFail() ? Answer.FAILED : current ? Answer.RETRY : Answer.STALE;
      case Outcome.Pending p -> current ? Answer.RETRY : Answer.STALE;
      case Outcome.Unknown u -> current ? Answer.RETRY : Answer.STALE;
    };
  }

  /**
   * Schedules the next attempt of {@code slot} after the backoff, firing {@code retryTrigger}. A
   * must-finish slot that reaches the policy's bound also fires {@code RETRY_BOUND_REACHED}: a
   * delivery becomes a dead letter ({@link OpStatus#DEAD}: kept, not sent again until an operator
   * re-drives it); an op flags the transaction for an operator and keeps retrying at the capped
   * backoff.
   */
  public void retryLater(Slot slot, String reason, Trigger retryTrigger) {
    Progress progress = progress(slot);
    if (slot instanceof Slot.MessageDelivery && progress.attempts() >= policy.flagAfterAttempts()) {
      set(slot, progress.dead(reason));
      fire(retryTrigger);
      fire(Trigger.RETRY_BOUND_REACHED);
      return;
    }
    Instant due =
        now.plus(
            policy.backoff(
                Math.max(1, progress.attempts()), state.gid().value() + "/" + slot.key()));
    set(slot, progress.waitUntil(due, reason));
    fire(retryTrigger);
    boolean mustFinish = !(slot instanceof Slot.BranchOp op && op.op().isForward());
    if (mustFinish && progress.attempts() >= policy.flagAfterAttempts() && state.flag() == null) {
      fire(Trigger.RETRY_BOUND_REACHED);
      state =
          state.withFlag(
              slot.key() + " has failed " + progress.attempts() + " attempts: " + reason);
    }
  }

  /** The reason carried by an outcome that is not a success. */
  public static String reason(Outcome outcome) {
    return switch (outcome) {
      case Outcome.Succeeded s -> "succeeded";
      case Outcome.Failed f -> "failed: " + f.reason();
      case Outcome.Pending p -> "pending";
      case Outcome.Unknown u -> "unknown: " + u.reason();
    };
  }

  /** Every active slot among {@code slots} whose due time has come. */
  public List<Slot> due(List<? extends Slot> slots) {
    List<Slot> due = new ArrayList<>();
    for (Slot slot : slots) {
      if (progress(slot).isDue(now)) {
        due.add(slot);
      }
    }
    return due;
  }

  /**
   * Handles every due slot among {@code slots}: a waiting one is sent again, firing {@code
   * RETRY_DUE}; an in-flight one whose answer is overdue counts as unknown and waits out its
   * backoff, firing {@code retryTrigger} (so a participant that hangs is backed off, and flagged,
   * like one that fails).
   */
  public void onDue(List<? extends Slot> slots, Trigger retryTrigger) {
    for (Slot slot : due(slots)) {
      if (progress(slot).status() == OpStatus.IN_FLIGHT) {
        retryLater(slot, "no answer within " + policy.callTimeout(), retryTrigger);
      } else {
        send(slot);
        fire(Trigger.RETRY_DUE);
      }
    }
  }

  /**
   * Sends again, now, every slot among {@code slots} still under way: after a recovery, or for an
   * operator.
   */
  public void resendActive(List<? extends Slot> slots) {
    for (Slot slot : slots) {
      if (progress(slot).status().isActive()) {
        send(slot);
      }
    }
  }

  /** Marks every active slot among {@code slots} abandoned: its answers no longer matter. */
  public void abandon(List<? extends Slot> slots) {
    for (Slot slot : slots) {
      if (progress(slot).status().isActive()) {
        set(slot, progress(slot).abandoned());
      }
    }
  }

  public Decision reject(String reason) {
    return Decision.rejected(original, reason);
  }

  public Decision finish() {
    Transaction next = creating ? state : changed ? state.nextVersion(now) : original;
    return new Decision(next, effects, fired, null);
  }

  /** Every (branch, op) slot of the transaction for one op. */
  public List<Slot.BranchOp> slots(dev.pledge.core.Op op) {
    List<Slot.BranchOp> slots = new ArrayList<>();
    for (Branch branch : state.branches()) {
      slots.add(new Slot.BranchOp(branch.branchId(), op));
    }
    return slots;
  }

  /** Every delivery slot of the transaction. */
  public List<Slot.MessageDelivery> deliverySlots() {
    List<Slot.MessageDelivery> slots = new ArrayList<>();
    for (Message message : state.messages()) {
      for (Delivery delivery : message.deliveries()) {
        slots.add(new Slot.MessageDelivery(message.messageId(), delivery.subscription()));
      }
    }
    return slots;
  }
}
