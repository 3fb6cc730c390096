package dev.pledge.client.barrier;

/**
 * What the barrier did with one op. Every outcome commits with the caller's local transaction and
 * is answered {@code 2xx} to the coordinator; a business refusal is not an outcome but a {@link
 * BusinessRefusal} thrown by the effect, which rolls the transaction back.
 */
public enum BarrierOutcome {
  /** First time here: the effect ran (and commits with the barrier's row). */
  RAN,
  /** The op ran (and committed) before: the effect did not run again. */
  DUPLICATE,
  /**
   * A compensation whose forward op never ran here: nothing to undo, the effect did not run, and
   * the forward op is now blocked from running later.
   */
  NULL_COMPENSATION,
  /**
   * A forward op that arrived after its compensation (it was overtaken): the effect did not run, so
   * nothing is left held that no one would release.
   */
  HANGING;

  /** Whether the caller's effect ran in this call. */
  public boolean ran() {
    return this == RAN;
  }
}
