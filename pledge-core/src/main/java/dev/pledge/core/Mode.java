package dev.pledge.core;

import java.util.List;

/** How a global transaction reaches its outcome. The code is what the API and the log store. */
public enum Mode {
  SAGA("saga", List.of(Op.ACTION, Op.COMPENSATE)),
  TCC("tcc", List.of(Op.TRY, Op.CONFIRM, Op.CANCEL)),
  TWO_PC("2pc", List.of(Op.PREPARE, Op.COMMIT, Op.ROLLBACK)),
  /**
   * 2pc whose branches are database prepared transactions ({@code PREPARE TRANSACTION}, {@code XA
   * PREPARE}) that the participant's SDK prepares, commits and rolls back.
   */
  XA("xa", List.of(Op.PREPARE, Op.COMMIT, Op.ROLLBACK)),
  /**
   * Three-phase commit: a participant that is pre-committed commits by itself after its timeout,
   * one that only voted yes aborts by itself. Unsafe under network partitions (see
   * docs/protocols/3pc.md).
   */
  THREE_PC("3pc", List.of(Op.CAN_COMMIT, Op.PRE_COMMIT, Op.DO_COMMIT, Op.ABORT)),
  MSG("msg", List.of()),
  /**
   * MicroProfile Long Running Actions (Narayana's REST dialect): participants join an open LRA one
   * by one; close completes every one, cancel or the time limit compensates every one in reverse
   * join order; then every participant hears the final status (see docs/protocols/lra.md). Every
   * URL of a participant is optional.
   */
  LRA("lra", List.of(Op.COMPLETE, Op.COMPENSATE, Op.STATUS, Op.FORGET, Op.AFTER));

  private final String code;

  @SuppressWarnings("ImmutableEnumChecker") // List.of is unmodifiable; Error Prone cannot see that
  private final List<Op> branchOps;

  Mode(String code, List<Op> branchOps) {
    this.code = code;
    this.branchOps = branchOps;
  }

  public String code() {
    return code;
  }

  /** The ops every branch of this mode names a URL for. */
  public List<Op> branchOps() {
    return branchOps;
  }

  /** The modes whose undecided transactions abort on timeout and on recovery (presumed abort). */
  public boolean presumesAbort() {
    return this == TCC || this == TWO_PC || this == XA || this == THREE_PC;
  }

  public static Mode fromCode(String code) {
    for (Mode mode : values()) {
      if (mode.code.equals(code)) {
        return mode;
      }
    }
    throw new IllegalArgumentException("unknown mode '" + code + "', expected one of " + codes());
  }

  /** Every mode's code, comma separated, in declaration order: for error messages. */
  public static String codes() {
    StringBuilder out = new StringBuilder();
    for (Mode mode : values()) {
      if (!out.isEmpty()) {
        out.append(", ");
      }
      out.append(mode.code);
    }
    return out.toString();
  }
}
