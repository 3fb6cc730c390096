package dev.pledge.core.runtime;

import dev.pledge.core.Outcome;
import dev.pledge.core.engine.Effect;
import java.util.concurrent.CompletableFuture;

/**
 * Carries the runtime's effects to participants, producers and subscribers: op calls, check-backs
 * and deliveries. The server's transport speaks HTTP (and, by the delivery target's scheme,
 * brokers); the simulator's loses, delays, duplicates and reorders messages.
 *
 * <p>Contract: every method returns at once. The future completes with the outcome, never
 * exceptionally: a transport error, a refused URL or a malformed answer is {@link Outcome.Unknown}.
 * It may never complete (a message lost in the network): the runtime gives up after its own answer
 * timeout and takes the outcome as unknown, so a late completion is ignored.
 */
public interface Transport {
  CompletableFuture<Outcome> call(Effect.CallOp call);

  CompletableFuture<Outcome> checkBack(Effect.CheckBack check);

  /** Delivers to {@code target}, which the runtime resolved from the delivery's subscription. */
  CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target);
}
