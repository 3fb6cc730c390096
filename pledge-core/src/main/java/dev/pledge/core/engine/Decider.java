package dev.pledge.core.engine;

import dev.pledge.core.RetryPolicy;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import java.time.Instant;

/**
 * A mode's pure decision function. It reads no clock, thread, socket, file or random source: {@code
 * now} and the retry policy are its arguments, so the simulator runs the very same code as the
 * server.
 *
 * <p>Contract: {@code start} is given a spec that {@link TransactionSpec#validate} accepted; {@code
 * decide} never throws for an event that may legitimately arrive (duplicates, late answers,
 * requests in the wrong status are ignored or rejected), and throws {@link IllegalStateException}
 * only on a programmer error such as a transition missing from the table.
 */
public interface Decider {
  TransitionTable table();

  Decision start(TransactionSpec spec, Instant now, Instant deadline, RetryPolicy policy);

  Decision decide(Transaction state, Event event, Instant now, RetryPolicy policy);
}
