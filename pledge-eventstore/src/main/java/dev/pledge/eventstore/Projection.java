package dev.pledge.eventstore;

import java.sql.Connection;
import java.sql.SQLException;

/**
 * A read model (CQRS) kept in the same database as the events. {@link ProjectionRunner} calls
 * {@link #apply} for each event in position order, inside a local transaction that also moves the
 * projection's checkpoint, so each event changes the read model exactly once, even if the process
 * is killed mid-batch (the batch rolls back and is applied again, once).
 *
 * <p>Contract: write only through {@code connection}, never commit, roll back or close it; throw to
 * refuse an event (the batch rolls back and is retried after a back-off, so a poison event stops
 * the projection at that position, visibly, rather than being skipped); ignore event types it does
 * not care about.
 */
public interface Projection {
  /** The projection's name, its checkpoint's key: 1 to 200 characters. */
  String name();

  /** Creates the read model's tables if they are missing; called when a runner starts. */
  void createTables(Connection connection) throws SQLException;

  void apply(Connection connection, RecordedEvent event) throws SQLException;

  /**
   * Makes the read model reflect exactly the events at positions up to {@code position}: for 0,
   * empty it. Called under the checkpoint's lock by {@link ProjectionRunner#rebuild}, which then
   * replays from {@code position}. A projection that can only start over throws {@link
   * IllegalArgumentException} for any position but 0.
   */
  void reset(Connection connection, long position) throws SQLException;
}
