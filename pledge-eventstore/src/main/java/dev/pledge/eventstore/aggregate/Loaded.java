package dev.pledge.eventstore.aggregate;

/** An aggregate's state as of {@code version} of its stream (0: no event yet). */
public record Loaded<S>(String streamId, S state, long version) {}
