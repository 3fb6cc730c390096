package dev.pledge.store.jdbc;

import java.time.Duration;

/**
 * What the log's writer thread reports, for metrics. Every method defaults to doing nothing;
 * implementations run on the writer thread, so they must be fast and must not throw.
 */
public interface WriterListener {
  WriterListener NONE = new WriterListener() {};

  /**
   * One database commit carried {@code records} transaction rows (creates and updates, each with
   * its history); {@code took} is the time from the batch's first statement to the commit's return.
   * Commits of claims alone, which write no transaction row, are not reported.
   */
  default void committed(int records, Duration took) {}
}
