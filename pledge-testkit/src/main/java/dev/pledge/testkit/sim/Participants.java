package dev.pledge.testkit.sim;

import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The simulated participant services. Each keeps, per (gid, branch), a barrier (DTM style: one row
 * per op, written in the same local transaction as the op's effect) and the ground truth of what
 * really happened to its data, which the checker compares with the coordinator's story.
 */
final class Participants {
  /**
   * 3pc: how long a participant that voted yes waits for pre-commit (or do-commit, or abort) before
   * it aborts by itself. 3pc is safe only if this exceeds the longest time the coordinator can take
   * to get its pre-commit through, and this is that assumption, stated for the simulator: faults
   * (losses, delays, crashes of the coordinator, clock jumps) stop before {@link
   * Faults#MAX_END_MILLIS}; a transaction's deadline is under {@link Simulator#MAX_TIMEOUT_MILLIS},
   * seen up to {@code MAX_BACKWARD_JUMP_MILLIS} late by a coordinator whose clock jumped; and once
   * faults stop, the runtime gets any call through within {@link Checker#settleBoundMillis()}
   * (restart, poll, three capped retries). A vote is never older than the run, so twice the
   * settling bound on top of all that is a safe margin. The partition profile breaks the assumption
   * on purpose: its partitions last up to twice this long.
   */
  static final long ABORT_TIMEOUT_MILLIS =
      Faults.MAX_END_MILLIS
          + Simulator.MAX_TIMEOUT_MILLIS
          + SimHost.MAX_BACKWARD_JUMP_MILLIS
          + 2 * Checker.settleBoundMillis();

  /**
   * 3pc: how long a pre-committed participant waits for do-commit before it commits by itself. Any
   * value is safe (the coordinator never aborts once it sent pre-commit); a short one makes
   * participants commit by themselves often, while the coordinator is down or slow, so that path
   * runs in many seeds.
   */
  static final long COMMIT_TIMEOUT_MILLIS = 1_500;

  private final World world;
  private final double businessNo;
  private final Map<String, Truth> truths = new TreeMap<>();

  /**
   * What really happened to one branch's data. Times are the world's event counter: a total order.
   */
  static final class Truth {
    final String gid;
    final String branchId;
    final Mode mode;

    /** 3pc: the branch received pre-commit while it had voted yes. */
    boolean preCommitted;

    /** 3pc: the branch's abort timeout passed while it had only voted yes, and it aborted. */
    boolean selfAborted;

    /** lra: the op the participant answered 202 to, which a status poll then finishes. */
    Op accepted;

    /**
     * lra: when the after callback first arrived, and whether complete or compensate came before.
     */
    long afterAt = -1;

    /** null until the forward op first executes: then "applied", "refused" or "blocked". */
    String forward;

    long forwardAt = -1;
    boolean finishRecorded;
    long committedAt = -1;
    boolean undoRecorded;
    long undoAt = -1;
    final List<String> anomalies = new ArrayList<>();

    Truth(String gid, String branchId, Mode mode) {
      this.gid = gid;
      this.branchId = branchId;
      this.mode = mode;
    }

    boolean forwardApplied() {
      return "applied".equals(forward);
    }

    boolean committed() {
      return committedAt >= 0;
    }

    boolean undone() {
      return undoAt >= 0;
    }
  }

  Participants(World world, double businessNo) {
    this.world = world;
    this.businessNo = businessNo;
  }

  Truth truth(String gid, String branchId, Mode mode) {
    return truths.computeIfAbsent(gid + "/" + branchId, k -> new Truth(gid, branchId, mode));
  }

  /** Truth of a branch, or null if no op ever reached it. */
  Truth find(String gid, String branchId) {
    return truths.get(gid + "/" + branchId);
  }

  /** Every gid any participant has seen. */
  java.util.Set<String> gids() {
    java.util.Set<String> gids = new java.util.TreeSet<>();
    for (Truth truth : truths.values()) {
      gids.add(truth.gid);
    }
    return gids;
  }

  /** A participant receives one op and answers it, as its HTTP handler with the barrier would. */
  Outcome handle(String gid, String branchId, Mode mode, Op op) {
    if (world.fault(world.faults().serverError())) {
      if (world.chance(0.5)) {
        return new Outcome.Unknown("503 before doing the work");
      }
      Outcome done = work(gid, branchId, mode, op);
      world.trace(
          "   "
              + branchId
              + " "
              + op.label()
              + " did the work, then answered 500 ("
              + Simulator.describe(done)
              + " lost)");
      return new Outcome.Unknown("500 after doing the work");
    }
    if (world.fault(world.faults().pending())) {
      if (mode == Mode.LRA && (op == Op.COMPLETE || op == Op.COMPENSATE)) {
        truth(gid, branchId, mode).accepted = op; // 202: working on it
      }
      return Outcome.PENDING;
    }
    return work(gid, branchId, mode, op);
  }

  /** lra: a participant that joined does its work inside the LRA, before it ends. */
  void workInLra(String gid, String branchId) {
    Truth truth = truth(gid, branchId, Mode.LRA);
    if (truth.forward == null && !truth.undoRecorded && !truth.finishRecorded) {
      truth.forward = "applied";
      truth.forwardAt = world.events();
    }
  }

  /** lra: status, forget and after; complete and compensate are confirm and cancel. */
  private Outcome lra(Truth truth, Op op) {
    return switch (op) {
      case STATUS -> {
        if (truth.accepted == null) {
          truth.anomalies.add("status polled though no op was answered 202");
          yield new Outcome.Unknown("410");
        }
        yield work(truth.gid, truth.branchId, Mode.LRA, truth.accepted);
      }
      case FORGET -> Outcome.SUCCEEDED;
      case AFTER -> {
        if (truth.afterAt < 0) {
          truth.afterAt = world.events();
          if (!truth.finishRecorded && !truth.undoRecorded) {
            truth.anomalies.add("after callback before the participant completed or compensated");
          }
        }
        yield Outcome.SUCCEEDED;
      }
      default -> throw new IllegalStateException("not an lra callback: " + op.label());
    };
  }

  /**
   * 3pc's pre-commit: a branch that voted yes becomes pre-committed; one that already aborted (it
   * was told to, or it never voted yes) answers 409, a heuristic outcome.
   */
  private Outcome preCommit(Truth truth) {
    if (truth.undoRecorded || !truth.forwardApplied()) {
      if (!truth.undoRecorded && truth.forward == null) {
        truth.anomalies.add("pre-commit of a branch whose can-commit was never run");
      }
      return new Outcome.Failed("aborted");
    }
    if (!truth.preCommitted) {
      truth.preCommitted = true;
      world.at(COMMIT_TIMEOUT_MILLIS, null, () -> commitTimeoutPassed(truth));
    }
    return Outcome.SUCCEEDED;
  }

  /** 3pc: a participant that only voted yes, and heard nothing since, aborts by itself. */
  private void abortTimeoutPassed(Truth truth) {
    if (truth.preCommitted || truth.undoRecorded || truth.finishRecorded) {
      return;
    }
    truth.undoRecorded = true;
    truth.selfAborted = true;
    truth.undoAt = world.events();
    world.trace(
        "   "
            + truth.gid
            + "/"
            + truth.branchId
            + " aborts by itself: voted yes, heard nothing for "
            + ABORT_TIMEOUT_MILLIS
            + " ms");
  }

  /** 3pc: a pre-committed participant that has not heard do-commit commits by itself. */
  private void commitTimeoutPassed(Truth truth) {
    if (truth.finishRecorded || truth.undoRecorded) {
      return;
    }
    truth.finishRecorded = true;
    truth.committedAt = world.events();
    world.trace(
        "   "
            + truth.gid
            + "/"
            + truth.branchId
            + " commits by itself: pre-committed, heard nothing for "
            + COMMIT_TIMEOUT_MILLIS
            + " ms");
  }

  private Outcome work(String gid, String branchId, Mode mode, Op op) {
    Truth truth = truth(gid, branchId, mode);
    long at = world.events();
    if (op.isForward()) {
      if (truth.undoRecorded) {
        // Hanging: the undo got here first; the barrier blocks the late forward op.
        if (truth.forward == null) {
          truth.forward = "blocked";
        }
        return new Outcome.Failed("blocked by the barrier: already undone");
      }
      if (truth.forward == null) {
        if (world.chance(businessNo)) {
          truth.forward = "refused";
        } else {
          truth.forward = "applied";
          truth.forwardAt = at;
          if (mode == Mode.THREE_PC) {
            world.at(ABORT_TIMEOUT_MILLIS, null, () -> abortTimeoutPassed(truth));
          }
        }
      }
      return truth.forwardApplied() ? Outcome.SUCCEEDED : new Outcome.Failed("business no");
    }
    if (op == Op.PRE_COMMIT) {
      return preCommit(truth);
    }
    if (op == Op.STATUS || op == Op.FORGET || op == Op.AFTER) {
      return lra(truth, op);
    }
    boolean undo = op == Op.COMPENSATE || op == Op.CANCEL || op == Op.ROLLBACK || op == Op.ABORT;
    if (undo) {
      if (!truth.undoRecorded) {
        truth.undoRecorded = true;
        if (mode == Mode.LRA && !truth.forwardApplied()) {
          truth.forward = "not run"; // joined (or its join was lost) but never worked
        }
        if (truth.forwardApplied()) {
          if (truth.committed()) {
            truth.anomalies.add(
                op.label() + " after the branch committed: the participant cannot undo it");
          } else {
            truth.undoAt = at;
          }
        }
      }
      return Outcome.SUCCEEDED;
    }
    if (truth.selfAborted) {
      // 3pc: do-commit after the branch aborted by itself. The participant cannot commit what it
      // rolled back: it says so, and the coordinator flags the heuristic outcome.
      return new Outcome.Failed("aborted by itself after its timeout");
    }
    // confirm, commit, do-commit or complete
    if (mode == Mode.LRA && truth.undoRecorded && !truth.finishRecorded) {
      truth.anomalies.add("complete after compensate");
      return Outcome.SUCCEEDED;
    }
    if (!truth.finishRecorded) {
      truth.finishRecorded = true;
      if (truth.undone()) {
        truth.anomalies.add(op.label() + " after the branch was undone");
      } else if (!truth.forwardApplied()) {
        truth.anomalies.add(
            op.label()
                + " of a branch whose "
                + mode.branchOps().get(0).label()
                + " was "
                + (truth.forward == null ? "never run" : truth.forward));
      } else {
        truth.committedAt = at;
      }
    }
    return Outcome.SUCCEEDED;
  }
}
