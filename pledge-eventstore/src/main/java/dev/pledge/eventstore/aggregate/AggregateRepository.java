package dev.pledge.eventstore.aggregate;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.pledge.eventstore.AppendResult;
import dev.pledge.eventstore.EventCodec;
import dev.pledge.eventstore.EventData;
import dev.pledge.eventstore.EventStore;
import dev.pledge.eventstore.EventStoreException;
import dev.pledge.eventstore.ExpectedVersion;
import dev.pledge.eventstore.RecordedEvent;
import dev.pledge.eventstore.Retry;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Function;

/**
 * Loads an aggregate from its stream, lets a plain function decide, and appends what it decided
 * with the version it read; on a conflict, does it all again (at most {@code maxAttempts} times).
 *
 * <p><b>Snapshots.</b> With {@code snapshotEvery} N &gt; 0, every append that crosses a multiple of
 * N saves the state as JSON (type {@code snapshotType}, schema {@code snapshotSchemaVersion}), and
 * a load starts from the latest snapshot and reads only the events after it. A snapshot of another
 * schema version is ignored (the load folds the whole stream), so changing the state record only
 * needs its schema version bumped.
 */
public final class AggregateRepository<S extends Record, E> {
  /**
   * @param snapshotEvery save a snapshot every this many events (0: never)
   * @param maxAttempts attempts of {@link #execute} when appends conflict
   */
  public record Options(
      String snapshotType, int snapshotSchemaVersion, int snapshotEvery, int maxAttempts) {
    public Options {
      if (snapshotEvery < 0 || snapshotEvery > 1_000_000) {
        throw new IllegalArgumentException(
            "snapshotEvery must be in [0, 1000000], got " + snapshotEvery);
      }
      if (snapshotSchemaVersion < 1) {
        throw new IllegalArgumentException(
            "snapshotSchemaVersion must be >= 1, got " + snapshotSchemaVersion);
      }
      if (maxAttempts < 1 || maxAttempts > Retry.MAX_ATTEMPTS) {
        throw new IllegalArgumentException(
            "maxAttempts must be in [1, " + Retry.MAX_ATTEMPTS + "], got " + maxAttempts);
      }
    }

    public static Options noSnapshots() {
      return new Options("state", 1, 0, 10);
    }

    public static Options snapshotEvery(String type, int schemaVersion, int every) {
      return new Options(type, schemaVersion, every, 10);
    }
  }

  private final EventStore store;
  private final EventCodec codec;
  private final Aggregate<S, E> aggregate;
  private final Class<S> stateType;
  private final Class<E> eventType;
  private final Options options;

  public AggregateRepository(
      EventStore store,
      EventCodec codec,
      Aggregate<S, E> aggregate,
      Class<S> stateType,
      Class<E> eventType,
      Options options) {
    this.store = Objects.requireNonNull(store, "store");
    this.codec = Objects.requireNonNull(codec, "codec");
    this.aggregate = Objects.requireNonNull(aggregate, "aggregate");
    this.stateType = Objects.requireNonNull(stateType, "stateType");
    this.eventType = Objects.requireNonNull(eventType, "eventType");
    this.options = Objects.requireNonNull(options, "options");
  }

  /** The aggregate's current state and version, from its latest snapshot and the events after. */
  public Loaded<S> load(String streamId) {
    S state = aggregate.initial();
    long version = 0;
    if (options.snapshotEvery() > 0) {
      Optional<EventStore.Snapshot> snapshot = store.loadSnapshot(streamId);
      if (snapshot.isPresent()
          && snapshot.get().type().equals(options.snapshotType())
          && snapshot.get().schemaVersion() == options.snapshotSchemaVersion()) {
        try {
          state = codec.json().readValue(snapshot.get().payload(), stateType);
          version = snapshot.get().version();
        } catch (JsonProcessingException e) {
          // A snapshot is a cache: one that no longer reads is ignored, and the stream folded.
          state = aggregate.initial();
          version = 0;
        }
      }
    }
    int page = store.config().maxReadPageSize();
    while (true) {
      List<RecordedEvent> events = store.readStream(streamId, version + 1, page);
      for (RecordedEvent event : events) {
        state = aggregate.apply(state, codec.decode(event, eventType));
        version = event.version();
      }
      if (events.size() < page) {
        return new Loaded<>(streamId, state, version);
      }
    }
  }

  /**
   * Loads the aggregate, asks {@code decide} for the events its command produces (an empty list:
   * nothing to do), appends them expecting the version loaded, and answers the new state. Retries
   * the whole on a conflict.
   */
  public Loaded<S> execute(String streamId, Function<S, List<E>> decide) {
    return Retry.onConflict(
        options.maxAttempts(),
        () -> {
          Loaded<S> loaded = load(streamId);
          List<E> decided = decide.apply(loaded.state());
          if (decided.isEmpty()) {
            return loaded;
          }
          List<EventData> data = new ArrayList<>(decided.size());
          S state = loaded.state();
          for (E event : decided) {
            data.add(codec.encode(event));
            state = aggregate.apply(state, event);
          }
          AppendResult result =
              store.append(streamId, ExpectedVersion.exactly(loaded.version()), data);
          Loaded<S> after = new Loaded<>(streamId, state, result.nextExpectedVersion());
          maybeSnapshot(loaded.version(), after);
          return after;
        });
  }

  private void maybeSnapshot(long before, Loaded<S> after) {
    int every = options.snapshotEvery();
    if (every == 0 || before / every == after.version() / every) {
      return;
    }
    try {
      store.saveSnapshot(
          new EventStore.Snapshot(
              after.streamId(),
              after.version(),
              options.snapshotType(),
              options.snapshotSchemaVersion(),
              codec.json().writeValueAsString(after.state())));
    } catch (JsonProcessingException e) {
      throw new EventStoreException(
          "the state of '" + after.streamId() + "' cannot be written as a snapshot: " + e, e);
    }
  }
}
