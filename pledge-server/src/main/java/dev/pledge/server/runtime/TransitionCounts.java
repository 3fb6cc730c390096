package dev.pledge.server.runtime;

import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Transition;
import dev.pledge.core.runtime.RuntimeListener;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.LongAdder;

/** State changes by mode and the status reached, for {@code /metrics}. */
public final class TransitionCounts implements RuntimeListener {
  private final Map<String, LongAdder> transitions = new ConcurrentHashMap<>();

  @Override
  public void transitioned(Transaction tx, Transition row) {
    if (row.from() != row.to()) {
      transitions
          .computeIfAbsent(
              "mode=\"" + tx.mode().code() + "\",to=\"" + row.to().label() + "\"",
              k -> new LongAdder())
          .increment();
    }
  }

  /** The counters in Prometheus' text format, with the runtime's gauges. */
  public void appendTo(StringBuilder out, ServerRuntime runtime) {
    out.append("# HELP pledge_transitions_total State changes, by mode and the state reached.\n");
    out.append("# TYPE pledge_transitions_total counter\n");
    transitions.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(entry ->
            out.append("pledge_transitions_total{")
                .append(entry.getKey())
                .append("} ")
                .append(entry.getValue().sum())
                .append('\n'));
    out.append("# HELP pledge_effects_in_flight Participant calls, check-backs and deliveries")
        .append(" awaiting an answer.\n");
    out.append("# TYPE pledge_effects_in_flight gauge\n");
    out.append("pledge_effects_in_flight ")
        .append(runtime.coordinator().effectsInFlight())
        .append('\n');
    out.append("# HELP pledge_owned_transactions Unsettled transactions held in memory.\n");
    out.append("# TYPE pledge_owned_transactions gauge\n");
    out.append("pledge_owned_transactions ").append(runtime.coordinator().owned()).append('\n');
    out.append("# HELP pledge_long_polls_waiting Long polls waiting for a final state.\n");
    out.append("# TYPE pledge_long_polls_waiting gauge\n");
    out.append("pledge_long_polls_waiting ").append(runtime.longPolls().waiting()).append('\n');
  }
}
