package dev.pledge.core.engine;

import dev.pledge.core.Mode;
import dev.pledge.core.Status;
import java.util.Objects;

/**
 * One row of a mode's transition table: in status {@code from} (null: the transaction does not
 * exist yet), on {@code trigger}, the status becomes {@code to} and the decider does {@code
 * action}.
 */
public record Transition(Mode mode, Status from, Trigger trigger, Status to, String action) {
  public Transition {
    Objects.requireNonNull(mode, "mode");
    Objects.requireNonNull(trigger, "trigger");
    Objects.requireNonNull(to, "to");
    Objects.requireNonNull(action, "action");
  }

  @Override
  public String toString() {
    return mode.code()
        + ": "
        + (from == null ? "[start]" : from.label())
        + " --"
        + trigger.label()
        + "--> "
        + to.label()
        + " / "
        + action;
  }
}
