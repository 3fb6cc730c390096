package dev.pledge.core.runtime;

/**
 * Mistakes the runtime can be told to make, so that the simulator proves it finds mistakes in the
 * runtime itself, not only in the deciders ({@code PlantedBugTest}). The server's configuration has
 * no way to set one; a runtime made without any behaves correctly.
 */
public enum PlantedBug {
  /** Carries out a decision's effects before its state is in the log. */
  ACT_BEFORE_PERSIST,
  /** Loses its wake-up timers, and stops looking for due work after the first look. */
  LOSE_TIMERS,
  /** Takes a write the log refused because a newer coordinator holds the lease as done. */
  ACCEPT_FENCED_WRITE
}
