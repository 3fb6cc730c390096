package dev.pledge.core.engine;

import dev.pledge.core.Mode;
import dev.pledge.core.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A mode's whole state machine as data: every allowed {@code (from, trigger) -> (to, action)}. A
 * decider may only move along a row of its table; anything else is a programmer error and stops.
 */
public final class TransitionTable {
  private final Mode mode;
  private final List<Transition> rows;

  private TransitionTable(Mode mode, List<Transition> rows) {
    this.mode = mode;
    this.rows = List.copyOf(rows);
  }

  public static Builder of(Mode mode) {
    return new Builder(mode);
  }

  public Mode mode() {
    return mode;
  }

  public List<Transition> rows() {
    return rows;
  }

  public Optional<Transition> find(Status from, Trigger trigger) {
    for (Transition row : rows) {
      if (row.from() == from && row.trigger() == trigger) {
        return Optional.of(row);
      }
    }
    return Optional.empty();
  }

  /**
   * The row for {@code (from, trigger)}; its absence is a bug in the decider, not an operating
   * error.
   */
  public Transition transition(Status from, Trigger trigger) {
    return find(from, trigger)
        .orElseThrow(() ->
            new IllegalStateException(
                mode.code()
                    + " has no transition from "
                    + (from == null ? "[start]" : from.label())
                    + " on "
                    + trigger.label()));
  }

  /** The table as a Mermaid state diagram: one edge per row, self-loops included. */
  public String toMermaid() {
    StringBuilder out = new StringBuilder("stateDiagram-v2\n");
    for (Transition row : rows) {
      out.append("    ")
          .append(row.from() == null ? "[*]" : row.from().label())
          .append(" --> ")
          .append(row.to().label())
          .append(" : ")
          .append(row.trigger().label())
          .append('\n');
    }
    List<Status> finals = new ArrayList<>();
    for (Transition row : rows) {
      if (row.to().isFinal() && !finals.contains(row.to())) {
        finals.add(row.to());
      }
    }
    for (Status status : finals) {
      out.append("    ").append(status.label()).append(" --> [*]\n");
    }
    return out.toString();
  }

  public static final class Builder {
    private final Mode mode;
    private final List<Transition> rows = new ArrayList<>();

    private Builder(Mode mode) {
      this.mode = mode;
    }

    public Builder row(Status from, Trigger trigger, Status to, String action) {
      for (Transition row : rows) {
        if (row.from() == from && row.trigger() == trigger) {
          throw new IllegalStateException("duplicate row " + row);
        }
      }
      if (from != null && from.isFinal() && to != from) {
        throw new IllegalStateException(
            mode.code()
                + ": a final status cannot change, row from "
                + from.label()
                + " to "
                + to.label());
      }
      if (from != null
          && from.direction() != Status.Direction.UNDECIDED
          && from.direction() != to.direction()) {
        throw new IllegalStateException(
            mode.code()
                + ": a decision never changes, row from "
                + from.label()
                + " to "
                + to.label());
      }
      rows.add(new Transition(mode, from, trigger, to, action));
      return this;
    }

    public TransitionTable build() {
      return new TransitionTable(mode, rows);
    }
  }
}
