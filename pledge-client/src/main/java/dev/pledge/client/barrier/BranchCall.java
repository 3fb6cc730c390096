package dev.pledge.client.barrier;

import dev.pledge.core.Op;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * One op the coordinator (or a tcc initiator) called on this participant, as its {@code Pledge-*}
 * headers name it.
 *
 * @param gid the global transaction, {@code [A-Za-z0-9._:-]{1,128}}
 * @param branch the branch id, {@code [A-Za-z0-9._:-]{1,64}}
 * @param op the op; {@link Op#CHECK} is not a branch op and is refused
 */
public record BranchCall(String gid, String branch, Op op) {
  private static final Pattern GID = Pattern.compile("[A-Za-z0-9._:-]{1,128}");
  private static final Pattern BRANCH = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

  public BranchCall {
    Objects.requireNonNull(op, "op");
    if (gid == null || !GID.matcher(gid).matches()) {
      throw new IllegalArgumentException("gid must match [A-Za-z0-9._:-]{1,128}, was " + gid);
    }
    if (branch == null || !BRANCH.matcher(branch).matches()) {
      throw new IllegalArgumentException("branch must match [A-Za-z0-9._:-]{1,64}, was " + branch);
    }
    if (op == Op.CHECK) {
      throw new IllegalArgumentException("op check is not a branch op");
    }
  }

  /** The forward op this op undoes ({@code compensate} undoes {@code action}, ...), or null. */
  Op forwardOfCompensation() {
    return switch (op) {
      case COMPENSATE -> Op.ACTION;
      case CANCEL -> Op.TRY;
      case ROLLBACK -> Op.PREPARE;
      case ABORT -> Op.CAN_COMMIT;
      case ACTION, TRY, PREPARE, CONFIRM, COMMIT, CAN_COMMIT, PRE_COMMIT, DO_COMMIT, CHECK -> null;
      case COMPLETE, AFTER, FORGET, STATUS -> null;
    };
  }
}
