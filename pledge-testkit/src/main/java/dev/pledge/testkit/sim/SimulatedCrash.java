package dev.pledge.testkit.sim;

/**
 * Thrown at a crash point to unwind the runtime the way {@code kill -9} would stop it: an {@link
 * Error}, so no {@code catch (RuntimeException)} in the runtime can swallow it. The simulator has
 * already marked the coordinator dead; everything but the log is thrown away.
 */
final class SimulatedCrash extends Error {
  private static final long serialVersionUID = 1L;

  SimulatedCrash(String where) {
    super(where, null, false, false);
  }
}
