package dev.pledge.client.outbox;

import dev.pledge.core.TransactionalMessage;
import java.time.Duration;

/**
 * What an {@link OutboxRelay} reports, for metrics and logs; every method defaults to doing
 * nothing. Called on the relay's thread: keep it quick.
 */
public interface RelayListener {
  RelayListener NONE = new RelayListener() {};

  /**
   * One message was acknowledged by the sink and marked published.
   *
   * @param writeToAck from the row's write (the publishing transaction) to the acknowledgement
   */
  default void published(TransactionalMessage message, Duration writeToAck) {}

  /**
   * A publish failed; the row stays unpublished and is tried again after the backoff (and blocks
   * later rows of its key meanwhile, so order holds). {@code rejected} is true for a {@link
   * dev.pledge.core.spi.SinkRejectedException}: retrying will not help, an operator must act.
   */
  default void publishFailed(TransactionalMessage message, Throwable cause, boolean rejected) {}

  /** One batch ended: how many rows it claimed and published. */
  default void batch(int claimed, int published) {}

  /** Cleanup deleted this many published rows. */
  default void cleanedUp(int rows) {}
}
