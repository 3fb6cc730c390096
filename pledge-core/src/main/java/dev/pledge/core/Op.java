package dev.pledge.core;

/** One call the coordinator makes on a branch (or, for {@code check}, on the producer). */
public enum Op {
  ACTION(1, "action", true),
  COMPENSATE(2, "compensate", false),
  TRY(3, "try", true),
  CONFIRM(4, "confirm", false),
  CANCEL(5, "cancel", false),
  PREPARE(6, "prepare", true),
  COMMIT(7, "commit", false),
  ROLLBACK(8, "rollback", false),
  CHECK(9, "check", false),
  /** 3pc's first round: the participant votes, having done its work tentatively. */
  CAN_COMMIT(10, "can-commit", true),
  /** 3pc's second round: every branch voted yes; the participant may now commit by itself. */
  PRE_COMMIT(11, "pre-commit", false),
  /** 3pc's third round: commit. */
  DO_COMMIT(12, "do-commit", false),
  /** 3pc: abort, whether or not the participant voted. */
  ABORT(13, "abort", false),
  /** lra: the LRA closed; the participant completes its work ({@code PUT}). */
  COMPLETE(14, "complete", false),
  /** lra: the LRA ended; the participant hears its final status ({@code PUT}). */
  AFTER(15, "after", false),
  /** lra: the participant may forget the LRA ({@code DELETE}). */
  FORGET(16, "forget", false),
  /**
   * lra: the participant's status, polled after it answered {@code 202} to complete or compensate
   * ({@code GET}). Sent in place of the op it reports on, and answered as that op.
   */
  STATUS(17, "status", false);

  private final byte code;
  private final String label;
  private final boolean forward;

  Op(int code, String label, boolean forward) {
    this.code = (byte) code;
    this.label = label;
    this.forward = forward;
  }

  public byte code() {
    return code;
  }

  public String label() {
    return label;
  }

  /**
   * Forward ops may answer {@code Failed} (a business "no") and retry only within the transaction's
   * timeout. The others must finish: they retry until they succeed, and a {@code Failed} answer
   * from them is a protocol violation, retried like {@code Unknown}.
   */
  public boolean isForward() {
    return forward;
  }

  public static Op fromLabel(String label) {
    for (Op op : values()) {
      if (op.label.equals(label)) {
        return op;
      }
    }
    throw new IllegalArgumentException("unknown op '" + label + "'");
  }
}
