package dev.pledge.core;

/**
 * A global transaction's status. The byte code is what the log persists; it never changes once
 * assigned, whatever the declaration order.
 */
public enum Status {
  BEGUN(1, "begun"),
  PREPARED(2, "prepared"),
  COMMITTING(3, "committing"),
  ABORTING(4, "aborting"),
  COMMITTED(5, "committed"),
  ABORTED(6, "aborted");

  private final byte code;
  private final String label;

  Status(int code, String label) {
    this.code = (byte) code;
    this.label = label;
  }

  public byte code() {
    return code;
  }

  public String label() {
    return label;
  }

  public boolean isFinal() {
    return this == COMMITTED || this == ABORTED;
  }

  /** Whether the commit-or-abort decision has been logged, and in which direction. */
  public Direction direction() {
    return switch (this) {
      case BEGUN, PREPARED -> Direction.UNDECIDED;
      case COMMITTING, COMMITTED -> Direction.COMMIT;
      case ABORTING, ABORTED -> Direction.ABORT;
    };
  }

  public static Status fromCode(byte code) {
    for (Status status : values()) {
      if (status.code == code) {
        return status;
      }
    }
    throw new IllegalArgumentException("unknown status code " + code);
  }

  public static Status fromLabel(String label) {
    for (Status status : values()) {
      if (status.label.equals(label)) {
        return status;
      }
    }
    throw new IllegalArgumentException("unknown status '" + label + "'");
  }

  /**
   * The decision a status implies. Once a transaction has a direction other than undecided, it
   * keeps it.
   */
  public enum Direction {
    UNDECIDED,
    COMMIT,
    ABORT
  }
}
