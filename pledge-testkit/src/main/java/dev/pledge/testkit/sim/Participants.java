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
      return Outcome.PENDING;
    }
    return work(gid, branchId, mode, op);
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
    truth.preCommitted = true;
    return Outcome.SUCCEEDED;
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
        }
      }
      return truth.forwardApplied() ? Outcome.SUCCEEDED : new Outcome.Failed("business no");
    }
    if (op == Op.PRE_COMMIT) {
      return preCommit(truth);
    }
    boolean undo = op == Op.COMPENSATE || op == Op.CANCEL || op == Op.ROLLBACK || op == Op.ABORT;
    if (undo) {
      if (!truth.undoRecorded) {
        truth.undoRecorded = true;
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
    // confirm or commit
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
