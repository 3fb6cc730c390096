package dev.pledge.server.runtime;

import dev.pledge.core.Outcome;
import dev.pledge.core.engine.Effect;
import java.util.concurrent.CompletableFuture;

/**
 * Carries the coordinator's effects to the outside world. Contract: every method returns at once;
 * the future completes, within the call timeout plus a small margin, with the outcome, and never
 * exceptionally: a transport failure, a timeout or a refused URL is {@link Outcome.Unknown}.
 */
public interface Effects {
  CompletableFuture<Outcome> call(Effect.CallOp call);

  CompletableFuture<Outcome> checkBack(Effect.CheckBack check);

  /**
   * Delivers to the subscription's target; {@code target} was resolved from the subscription name.
   */
  CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target);
}
