package dev.pledge.client.xa;

/** What {@link XaBranches} did with one prepare, commit or rollback of a branch. */
public enum XaOutcome {
  /** prepare: the work ran and is prepared (a yes vote). */
  PREPARED,
  /** prepare: the branch was prepared before; nothing ran again (a yes vote). */
  ALREADY_PREPARED,
  /** prepare or commit: the branch committed before; nothing ran again. */
  ALREADY_COMMITTED,
  /**
   * prepare: the branch was rolled back before this prepare arrived (it was overtaken by its
   * rollback): nothing ran, nothing is prepared, and the vote is no.
   */
  ROLLED_BACK_BEFORE,
  /** commit: the prepared branch committed now. */
  COMMITTED,
  /** rollback: the prepared branch rolled back now. */
  ROLLED_BACK,
  /**
   * rollback: nothing was prepared (never, or rolled back before); a mark is left so that a prepare
   * arriving later refuses.
   */
  NOTHING_PREPARED;

  /** Whether a prepare with this outcome is a yes vote. */
  public boolean votedYes() {
    return this == PREPARED || this == ALREADY_PREPARED || this == ALREADY_COMMITTED;
  }
}
