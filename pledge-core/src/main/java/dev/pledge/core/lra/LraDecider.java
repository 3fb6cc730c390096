package dev.pledge.core.lra;

import static dev.pledge.core.Status.ABORTED;
import static dev.pledge.core.Status.ABORTING;
import static dev.pledge.core.Status.BEGUN;
import static dev.pledge.core.Status.COMMITTED;
import static dev.pledge.core.Status.COMMITTING;
import static dev.pledge.core.Status.PREPARED;
import static dev.pledge.core.engine.Trigger.ABORT_REQUESTED;
import static dev.pledge.core.engine.Trigger.ALL_ENDED;
import static dev.pledge.core.engine.Trigger.BRANCH_LEFT;
import static dev.pledge.core.engine.Trigger.BRANCH_REGISTERED;
import static dev.pledge.core.engine.Trigger.COMMIT_REQUESTED;
import static dev.pledge.core.engine.Trigger.NESTED_CLOSE_REQUESTED;
import static dev.pledge.core.engine.Trigger.OPERATOR_RETRY;
import static dev.pledge.core.engine.Trigger.OP_FAILED_FINALLY;
import static dev.pledge.core.engine.Trigger.OP_RETRY;
import static dev.pledge.core.engine.Trigger.OP_SUCCEEDED;
import static dev.pledge.core.engine.Trigger.RECOVERED;
import static dev.pledge.core.engine.Trigger.RETRY_DUE;
import static dev.pledge.core.engine.Trigger.STALE_ANSWER;
import static dev.pledge.core.engine.Trigger.TIMEOUT;

import dev.pledge.core.Branch;
import dev.pledge.core.BranchSpec;
import dev.pledge.core.FieldError;
import dev.pledge.core.Limits;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Outcome;
import dev.pledge.core.Progress;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decider;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Draft;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.engine.Event;
import dev.pledge.core.engine.Slot;
import dev.pledge.core.engine.TransitionTable;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * MicroProfile Long Running Actions. An LRA is open ({@code begun}) while participants join it one
 * by one, each with optional complete, compensate, status, forget and after URLs. Close completes
 * every participant (all at once); cancel, or the time limit, compensates every participant one at
 * a time in reverse join order. A participant that answers {@code 202} is asked for its status
 * (when it has a status URL; otherwise the op is sent again) until it reports an end; one that
 * reports {@code FailedToComplete} or {@code FailedToCompensate} has failed for good. A participant
 * that had to remember its outcome (it answered {@code 202} or failed) is told to forget it. Then
 * every participant with an after URL hears the LRA's final status, and the LRA is over.
 *
 * <p>A nested LRA (its gid is its parent's gid, a dot, and its own part) joins its parent as a
 * participant. Closing it completes its participants provisionally ({@code prepared}); it ends when
 * its parent does: the parent's close closes it for good, the parent's cancel compensates every one
 * of its participants, completed or not.
 */
public final class LraDecider implements Decider {
  /** The final statuses an LRA reports, as Narayana's API names them. */
  public static final String CLOSED = "Closed";

  public static final String CANCELLED = "Cancelled";
  public static final String FAILED_TO_CLOSE = "FailedToClose";
  public static final String FAILED_TO_CANCEL = "FailedToCancel";

  /** The deadline of a nested LRA closed provisionally: its parent ends it, not a timer. */
  public static final Instant NO_DEADLINE = Instant.parse("2999-01-01T00:00:00Z");

  /** The last error an op keeps after its participant answered {@code 202}. */
  static final String ACCEPTED = "accepted: still working";

  /** The note a completion keeps once its nested LRA's parent closed after it. */
  static final String PROVISIONAL = "completed provisionally, before the parent closed";

  /** How the last error of an op begins when its participant answered with an HTTP error. */
  static final String HTTP_ERROR = "unknown: HTTP ";

  /** The transition table of mode {@code lra} ({@link LraTable}). */
  public static final TransitionTable TABLE = LraTable.TABLE;

  private final Limits limits;

  public LraDecider(Limits limits) {
    this.limits = Objects.requireNonNull(limits, "limits");
  }

  @Override
  public TransitionTable table() {
    return TABLE;
  }

  /** Whether {@code gid} names a nested LRA: its parent's gid, a dot, its own part. */
  public static boolean isNested(String gid) {
    return gid.indexOf('.') > 0;
  }

  /** The gid of a nested LRA's parent, or null for a top-level one. */
  public static String parentOf(String gid) {
    int dot = gid.lastIndexOf('.');
    return dot > 0 ? gid.substring(0, dot) : null;
  }

  /**
   * The status an LRA reports in Narayana's API: {@code Active}, {@code Closing}, {@code Closed},
   * {@code Cancelling}, {@code Cancelled}, {@code FailedToClose}, {@code FailedToCancel}.
   */
  public static String lraStatus(Transaction tx) {
    return switch (tx.status()) {
      case BEGUN -> "Active";
      case PREPARED ->
          allEnded(tx, Op.COMPLETE)
              ? anyFailed(tx, Op.COMPLETE) ? FAILED_TO_CLOSE : CLOSED
              : "Closing";
      case COMMITTING -> "Closing";
      case ABORTING -> "Cancelling";
      case COMMITTED -> anyFailed(tx, Op.COMPLETE) ? FAILED_TO_CLOSE : CLOSED;
      case ABORTED -> anyFailed(tx, Op.COMPENSATE) ? FAILED_TO_CANCEL : CANCELLED;
    };
  }

  /** The final status the after callbacks carry, once the main phase is over. */
  static String finalStatus(Transaction tx) {
    return tx.status() == ABORTING || tx.status() == ABORTED
        ? anyFailed(tx, Op.COMPENSATE) ? FAILED_TO_CANCEL : CANCELLED
        : anyFailed(tx, Op.COMPLETE) ? FAILED_TO_CLOSE : CLOSED;
  }

  private static boolean anyFailed(Transaction tx, Op op) {
    for (Branch branch : tx.branches()) {
      if (branch.op(op).status() == OpStatus.FAILED) {
        return true;
      }
    }
    return false;
  }

  private static boolean allEnded(Transaction tx, Op op) {
    for (Branch branch : tx.branches()) {
      if (!branch.op(op).status().isDone()) {
        return false;
      }
    }
    return true;
  }

  @Override
  public Decision start(TransactionSpec spec, Instant now, Instant deadline, RetryPolicy policy) {
    Transaction initial =
        new Transaction(
            spec.gid(),
            Mode.LRA,
            BEGUN,
            1,
            now,
            now,
            deadline,
            null,
            Progress.IDLE,
            List.of(),
            List.of(),
            null);
    Draft draft = Draft.creating(initial, now, policy, TABLE);
    draft.fireStart();
    return draft.finish();
  }

  @Override
  public Decision decide(Transaction state, Event event, Instant now, RetryPolicy policy) {
    Draft draft = new Draft(state, now, policy, TABLE);
    Status status = state.status();
    switch (event) {
      case Event.BranchRegistered registered -> {
        return join(draft, registered.branch());
      }
      case Event.BranchLeft left -> {
        return leave(draft, left.branchId());
      }
      case Event.Redrive r -> {
        return draft.reject(Draft.NO_DELIVERIES);
      }
      case Event.KeyTurn t -> {
        return draft.reject(Draft.NO_DELIVERIES);
      }
      case Event.CommitRequested close -> {
        if (status == COMMITTING || status == COMMITTED) {
          return draft.finish();
        }
        if (status == BEGUN && isNested(state.gid().value())) {
          // A nested LRA's close is provisional: its parent decides.
          draft.change(draft.state().withDeadline(NO_DEADLINE));
          draft.fire(NESTED_CLOSE_REQUESTED);
          advance(draft);
          return draft.finish();
        }
        if (status != BEGUN && status != PREPARED) {
          return draft.reject("cannot close: the LRA is " + lraStatus(state));
        }
        if (status == PREPARED) {
          markProvisional(draft);
        }
        draft.fire(COMMIT_REQUESTED);
        advance(draft);
      }
      case Event.AbortRequested cancel -> {
        if (status == ABORTING || status == ABORTED) {
          return draft.finish();
        }
        if (status != BEGUN && status != PREPARED) {
          return draft.reject("cannot cancel: the LRA is " + lraStatus(state));
        }
        draft.fire(ABORT_REQUESTED);
        draft.abandon(draft.slots(Op.COMPLETE)); // a provisional completion cut off by the parent
        advance(draft);
      }
      case Event.OpCompleted done -> {
        if (status.isFinal()) {
          return draft.finish();
        }
        onAnswer(draft, done);
      }
      case Event.Tick tick -> {
        if (status == BEGUN) {
          if (!now.isBefore(state.deadline())) {
            draft.fire(TIMEOUT);
            advance(draft);
          }
        } else if (!status.isFinal()) {
          onDue(draft);
          advance(draft);
        }
      }
      case Event.Recovered recovered -> {
        if (status == BEGUN) {
          draft.fire(RECOVERED);
        } else if (!status.isFinal()) {
          draft.fire(RECOVERED);
          resendActive(draft);
          advance(draft);
        }
      }
      case Event.RetryNow retry -> {
        if (!status.isFinal() && status != BEGUN) {
          draft.fire(OPERATOR_RETRY);
          resendActive(draft);
          advance(draft);
        }
      }
      case Event.CheckCompleted c -> {
        return draft.finish();
      }
      case Event.DeliveryCompleted d -> {
        return draft.finish();
      }
      case Event.SubscribersResolved s -> {
        return draft.finish();
      }
    }
    return draft.finish();
  }

  // --- joining and leaving --------------------------------------------------------------------

  private Decision join(Draft draft, BranchSpec spec) {
    Transaction state = draft.state();
    boolean listener = spec.urls().keySet().equals(java.util.Set.of(Op.AFTER));
    boolean in = state.branch(spec.branchId()) != null;
    boolean ending = !state.status().isFinal();
    if (in && (state.status() == BEGUN || state.status() == PREPARED || (listener && ending))) {
      // The same participant again: already in. (A nested LRA closed provisionally may still be
      // cancelled by a method of a participant in it, which joins it again first.)
      return draft.finish();
    }
    if (state.status() != BEGUN && !(listener && ending)) {
      // Even a participant that is in already: once the LRA is ending its join must fail.
      return draft.reject("too late to join: the LRA is " + lraStatus(state));
    }
    List<FieldError> errors = new ArrayList<>();
    validateParticipant(spec, limits, errors);
    if (state.branches().size() >= limits.maxBranches()) {
      errors.add(
          new FieldError(
              "participant", "the LRA already has " + limits.maxBranches() + " participants"));
    }
    if (!errors.isEmpty()) {
      return draft.reject(errors.toString());
    }
    List<Branch> branches = new ArrayList<>(state.branches());
    branches.add(Branch.of(spec, Mode.LRA));
    draft.change(state.withBranches(branches));
    draft.fire(BRANCH_REGISTERED);
    advance(draft); // an after listener joining an ending LRA
    return draft.finish();
  }

  /** A participant's id and URLs: every URL optional, at least one given. */
  public static void validateParticipant(BranchSpec spec, Limits limits, List<FieldError> errors) {
    if (spec.branchId().isEmpty()
        || !dev.pledge.core.Gid.isValid(spec.branchId())
        || spec.branchId().length() > 64) {
      errors.add(new FieldError("participant.branchId", "must match [A-Za-z0-9._:-]{1,64}"));
    }
    if (spec.urls().isEmpty()) {
      errors.add(new FieldError("participant", "needs at least one URL"));
    }
    for (var entry : spec.urls().entrySet()) {
      if (!Mode.LRA.branchOps().contains(entry.getKey())) {
        errors.add(
            new FieldError(
                "participant." + entry.getKey().label(), "not an op of an lra participant"));
      } else {
        TransactionSpec.validateUrl(
            entry.getValue(), "participant." + entry.getKey().label(), limits, errors);
      }
    }
    if (spec.payload().length() > limits.maxPayloadBytes()) {
      errors.add(
          new FieldError("participant.data", "larger than " + limits.maxPayloadBytes() + " bytes"));
    }
  }

  private static Decision leave(Draft draft, String branchId) {
    Transaction state = draft.state();
    if (state.branch(branchId) == null) {
      return draft.finish(); // not (or no longer) a participant
    }
    if (state.status() != BEGUN) {
      return draft.reject("too late to leave: the LRA is " + lraStatus(state));
    }
    List<Branch> branches = new ArrayList<>(state.branches().size());
    for (Branch branch : state.branches()) {
      if (!branch.branchId().equals(branchId)) {
        branches.add(branch);
      }
    }
    draft.change(state.withBranches(branches));
    draft.fire(BRANCH_LEFT);
    return draft.finish();
  }

  // --- ending ---------------------------------------------------------------------------------

  /** The op of the main phase: complete while closing, compensate while cancelling. */
  private static Op mainOp(Status status) {
    return status == ABORTING ? Op.COMPENSATE : Op.COMPLETE;
  }

  private static boolean done(Progress progress) {
    return progress.status().isDone();
  }

  /** Whether the participant must be told to forget: it answered 202 or failed, and can forget. */
  private static boolean needsForget(Transaction tx, Branch branch) {
    if (branch.url(Op.FORGET) == null) {
      return false;
    }
    Progress main = branch.op(mainOp(tx.status()));
    return main.status() == OpStatus.FAILED
        || (main.status() == OpStatus.SUCCEEDED
            && (ACCEPTED.equals(main.lastError()) || PROVISIONAL.equals(main.lastError())));
  }

  /**
   * The parent closes a nested LRA closed before: every participant that completed meanwhile did so
   * provisionally, keeping what it needed to compensate, and is told to forget it. (A completion
   * still under way when the parent closes is final: nothing to forget.)
   */
  private static void markProvisional(Draft draft) {
    for (Slot.BranchOp slot : draft.slots(Op.COMPLETE)) {
      Progress progress = draft.progress(slot);
      if (progress.status() == OpStatus.SUCCEEDED) {
        draft.set(slot, new Progress(OpStatus.SUCCEEDED, progress.attempts(), null, PROVISIONAL));
      }
    }
  }

  /**
   * Whether the participant answered the last attempt of its complete or compensate, but not with
   * its outcome ({@code 202}, or an HTTP error such as {@code 503}): it is then asked for its
   * status rather than sent the op again, as the specification asks.
   */
  static boolean answeredWithoutOutcome(String lastError) {
    return ACCEPTED.equals(lastError) || (lastError != null && lastError.startsWith(HTTP_ERROR));
  }

  /**
   * Sends what is due next and ends the LRA once nothing is left: the main phase (every participant
   * at once when closing, one at a time from the last to join when cancelling), then forgets, then
   * after callbacks.
   */
  private static void advance(Draft draft) {
    Transaction tx = draft.state();
    Status status = tx.status();
    if (status == BEGUN || status.isFinal()) {
      return;
    }
    Op main = mainOp(status);
    boolean mainDone = true;
    if (main == Op.COMPLETE) {
      for (Branch branch : tx.branches()) {
        Slot.BranchOp slot = new Slot.BranchOp(branch.branchId(), main);
        Progress progress = draft.progress(slot);
        if (progress.status() == OpStatus.IDLE) {
          if (branch.url(main) == null) {
            draft.set(slot, progress.skipped());
            continue;
          }
          send(draft, slot);
        }
        mainDone &= done(draft.progress(slot));
      }
    } else {
      List<Branch> branches = tx.branches();
      for (int i = branches.size() - 1; i >= 0; i--) {
        Branch branch = branches.get(i);
        Slot.BranchOp slot = new Slot.BranchOp(branch.branchId(), main);
        Progress progress = draft.progress(slot);
        if (done(progress)) {
          continue;
        }
        if (progress.status() == OpStatus.IDLE) {
          if (branch.url(main) == null) {
            draft.set(slot, progress.skipped());
            continue;
          }
          send(draft, slot);
        }
        mainDone = false;
        break; // one at a time, in reverse join order
      }
    }
    if (!mainDone) {
      return;
    }
    if (status == PREPARED) {
      return; // a nested LRA waits for its parent before forgetting and after callbacks
    }
    boolean forgotten = true;
    for (Branch branch : draft.state().branches()) {
      Slot.BranchOp slot = new Slot.BranchOp(branch.branchId(), Op.FORGET);
      Progress progress = draft.progress(slot);
      if (progress.status() == OpStatus.IDLE && needsForget(draft.state(), branch)) {
        send(draft, slot);
      } else if (progress.status() == OpStatus.IDLE) {
        continue;
      }
      forgotten &= done(draft.progress(slot));
    }
    if (!forgotten) {
      return;
    }
    boolean heard = true;
    for (Branch branch : draft.state().branches()) {
      Slot.BranchOp slot = new Slot.BranchOp(branch.branchId(), Op.AFTER);
      Progress progress = draft.progress(slot);
      if (progress.status() == OpStatus.IDLE) {
        if (branch.url(Op.AFTER) == null) {
          draft.set(slot, progress.skipped());
          continue;
        }
        send(draft, slot);
      }
      heard &= done(draft.progress(slot));
    }
    if (heard) {
      draft.fire(ALL_ENDED);
    }
  }

  /**
   * Sends the next attempt of {@code slot}. An op whose participant answered {@code 202} is
   * followed up with {@code GET status} when the participant has a status URL; an after callback
   * carries the LRA's final status; complete and compensate carry the participant's data.
   */
  private static void send(Draft draft, Slot.BranchOp slot) {
    Progress next = draft.progress(slot).sent(draft.now(), draft.policy().callTimeout());
    draft.set(slot, next);
    Transaction tx = draft.state();
    Branch branch = tx.branch(slot.branchId());
    Op op = slot.op();
    String url = branch.url(op);
    String payload = branch.payload();
    if ((op == Op.COMPLETE || op == Op.COMPENSATE)
        && answeredWithoutOutcome(next.lastError())
        && branch.url(Op.STATUS) != null) {
      op = Op.STATUS;
      url = branch.url(Op.STATUS);
      payload = "";
      // The poll is an attempt of the op it reports on; the status slot mirrors it, for the log.
      draft.set(new Slot.BranchOp(branch.branchId(), Op.STATUS), next);
    } else if (op == Op.AFTER) {
      payload = finalStatus(tx);
    } else if (op == Op.FORGET) {
      payload = "";
    }
    draft.effect(
        new Effect.CallOp(
            tx.gid(), Mode.LRA, branch.branchId(), op, next.attempts(), url, payload));
  }

  private static List<Slot.BranchOp> activeSlots(Draft draft) {
    List<Slot.BranchOp> slots = new ArrayList<>();
    for (Op op : List.of(Op.COMPLETE, Op.COMPENSATE, Op.FORGET, Op.AFTER)) {
      for (Slot.BranchOp slot : draft.slots(op)) {
        if (draft.progress(slot).status().isActive()) {
          slots.add(slot);
        }
      }
    }
    return slots;
  }

  private static void resendActive(Draft draft) {
    for (Slot.BranchOp slot : activeSlots(draft)) {
      send(draft, slot);
    }
  }

  private static void onDue(Draft draft) {
    for (Slot.BranchOp slot : activeSlots(draft)) {
      Progress progress = draft.progress(slot);
      if (!progress.isDue(draft.now())) {
        continue;
      }
      if (progress.status() == OpStatus.IN_FLIGHT) {
        settlePoll(draft, slot.branchId());
        draft.retryLater(
            slot,
            ACCEPTED.equals(progress.lastError())
                ? ACCEPTED
                : "no answer within " + draft.policy().callTimeout(),
            OP_RETRY);
      } else {
        send(draft, slot);
        draft.fire(RETRY_DUE);
      }
    }
  }

  /** Ends the status slot's mirror of a poll once the poll is answered or given up on. */
  private static void settlePoll(Draft draft, String branchId) {
    Slot.BranchOp poll = new Slot.BranchOp(branchId, Op.STATUS);
    Progress progress = draft.progress(poll);
    if (progress.status().isActive()) {
      draft.set(poll, progress.abandoned());
    }
  }

  private static void onAnswer(Draft draft, Event.OpCompleted done) {
    Transaction state = draft.state();
    Branch branch = state.branch(done.branchId());
    Op op = done.op() == Op.STATUS ? mainOp(state.status()) : done.op();
    boolean belongs =
        branch != null
            && state.status() != BEGUN
            && (op == mainOp(state.status()) || op == Op.FORGET || op == Op.AFTER);
    if (!belongs) {
      draft.fire(STALE_ANSWER);
      return;
    }
    Slot.BranchOp slot = new Slot.BranchOp(done.branchId(), op);
    Progress progress = draft.progress(slot);
    int attempt = done.attempt();
    if (!progress.status().isActive() || attempt < 1 || attempt > progress.attempts()) {
      draft.fire(STALE_ANSWER);
      return;
    }
    boolean current = progress.status() == OpStatus.IN_FLIGHT && attempt == progress.attempts();
    boolean mainPhase = op == Op.COMPLETE || op == Op.COMPENSATE;
    if (mainPhase) {
      settlePoll(draft, done.branchId());
    }
    switch (done.outcome()) {
      case Outcome.Succeeded s -> {
        draft.set(slot, progress.succeeded());
        draft.fire(OP_SUCCEEDED);
      }
      case Outcome.Failed f when mainPhase -> {
        draft.set(slot, progress.failed(f.reason()));
        draft.fire(OP_FAILED_FINALLY);
      }
      case Outcome.Failed f -> {
        if (!current) {
          draft.fire(STALE_ANSWER);
          return;
        }
        draft.retryLater(slot, Draft.reason(f), OP_RETRY);
      }
      case Outcome.Pending p -> {
        if (!current) {
          draft.fire(STALE_ANSWER);
          return;
        }
        draft.retryLater(slot, mainPhase ? ACCEPTED : "pending", OP_RETRY);
      }
      case Outcome.Unknown u -> {
        if (!current) {
          draft.fire(STALE_ANSWER);
          return;
        }
        // After a 202 the participant is still asked for its status: keep that in mind.
        draft.retryLater(
            slot, ACCEPTED.equals(progress.lastError()) ? ACCEPTED : Draft.reason(u), OP_RETRY);
      }
    }
    Status before = draft.state().status();
    advance(draft);
    if (before == PREPARED
        && draft.state().status() == PREPARED
        && allEnded(draft.state(), Op.COMPLETE)
        && done(draft.progress(slot))) {
      draft.fire(ALL_ENDED);
    }
  }
}
