package dev.pledge.eventstore.aggregate;

/**
 * An aggregate as a fold: its state before any event, and how one event changes it. Decisions are
 * plain functions of the state passed to {@link AggregateRepository#execute}; the state is a record
 * (so it can be snapshotted as JSON).
 */
public interface Aggregate<S extends Record, E> {
  S initial();

  S apply(S state, E event);
}
