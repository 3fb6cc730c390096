package dev.pledge.core.engine;

import dev.pledge.core.Transaction;
import java.util.List;
import java.util.Objects;

/**
 * What a decider returns: the next state, the effects it implies (to run only once {@code next} is
 * in the log), and the table rows that fired. When {@code next} has the same version as the state
 * decided on, nothing changed and nothing needs writing. A rejected request changes nothing and
 * says why.
 */
public record Decision(
    Transaction next, List<Effect> effects, List<Transition> fired, String rejection) {
  public Decision {
    Objects.requireNonNull(next, "next");
    effects = List.copyOf(effects);
    fired = List.copyOf(fired);
  }

  public static Decision rejected(Transaction state, String reason) {
    return new Decision(state, List.of(), List.of(), Objects.requireNonNull(reason, "reason"));
  }

  public boolean isRejected() {
    return rejection != null;
  }

  /** Whether {@code next} must be written to the log (before any effect runs). */
  public boolean changes(Transaction previous) {
    return previous == null || next.version() != previous.version();
  }
}
