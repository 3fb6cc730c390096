package dev.pledge.eventstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** Projections and their checkpoints, run by every database. */
public abstract class ProjectionContract {
  protected abstract EventStoreConfig database();

  private static final Duration WAIT = Duration.ofSeconds(60);

  private static List<Long> appendMany(EventStore store, String prefix, int appends) {
    List<Long> positions = new ArrayList<>();
    for (int i = 0; i < appends; i++) {
      AppendResult r =
          store.append(
              prefix + "-" + (i % 4),
              ExpectedVersion.any(),
              IntStream.range(0, 5).mapToObj(j -> TestEvents.deposited(j)).toList());
      r.events().forEach(e -> positions.add(e.position()));
    }
    return positions;
  }

  @Test
  void eachEvent_isAppliedOnce_andAFailedBatchIsRetriedWhole() throws Exception {
    String prefix = "proj-" + UUID.randomUUID();
    try (EventStore store = EventStore.open(database())) {
      long start = store.headPosition();
      List<Long> positions = appendMany(store, prefix, 20);
      Tally tally = new Tally(prefix, prefix);
      tally.failAt = positions.get(37);
      ProjectionRunner.Options options =
          ProjectionRunner.Options.defaults().withBatchSize(25).withInitialPosition(start);
      try (ProjectionRunner runner = ProjectionRunner.start(store, tally, options)) {
        await().atMost(WAIT).until(() -> !runner.lastError().isEmpty());
        // The batch that holds the refused event rolled back whole: the checkpoint stays before it.
        assertThat(ProjectionRunner.committedCheckpoint(store, prefix))
            .isLessThan(positions.get(37));
        tally.failAt = -1;
        long last = positions.getLast();
        await()
            .atMost(WAIT)
            .until(() -> ProjectionRunner.committedCheckpoint(store, prefix) >= last);
      }
      Map<Long, Integer> counts = Tally.counts(store, tally.table());
      assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(positions);
      assertThat(counts.values()).allMatch(n -> n == 1);
    }
  }

  @Test
  void competingRunners_neverBothApplyAnEvent() throws Exception {
    String prefix = "compete-" + UUID.randomUUID();
    try (EventStore store = EventStore.open(database());
        EventStore other = EventStore.open(database())) {
      long start = store.headPosition();
      Tally tally = new Tally(prefix, prefix);
      ProjectionRunner.Options options =
          ProjectionRunner.Options.defaults()
              .withBatchSize(7)
              .withLease(Duration.ofMillis(300))
              .withInitialPosition(start);
      List<Long> positions;
      try (ProjectionRunner a = ProjectionRunner.start(store, tally, options.withOwner("a"));
          ProjectionRunner b = ProjectionRunner.start(other, tally, options.withOwner("b"))) {
        positions = appendMany(store, prefix, 40);
        long last = positions.getLast();
        await()
            .atMost(WAIT)
            .until(() -> ProjectionRunner.committedCheckpoint(store, prefix) >= last);
        // Kill the owner's thread; the other takes over when the lease runs out.
        ProjectionRunner owner = a.owning() ? a : b;
        ProjectionRunner standby = owner == a ? b : a;
        owner.close();
        List<Long> more = appendMany(store, prefix, 10);
        positions.addAll(more);
        await()
            .atMost(WAIT)
            .until(() -> ProjectionRunner.committedCheckpoint(store, prefix) >= more.getLast());
        assertThat(standby.owning()).isTrue();
      }
      Map<Long, Integer> counts = Tally.counts(store, tally.table());
      assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(positions);
      assertThat(counts.values()).allMatch(n -> n == 1);
    }
  }

  @Test
  void rebuild_fromZeroOrAPosition_whileRunning_endsWithEachEventOnce() throws Exception {
    String prefix = "rebuild-" + UUID.randomUUID();
    try (EventStore store = EventStore.open(database())) {
      long start = store.headPosition();
      Tally tally = new Tally(prefix, prefix);
      ProjectionRunner.Options options =
          ProjectionRunner.Options.defaults().withBatchSize(50).withInitialPosition(start);
      try (ProjectionRunner runner = ProjectionRunner.start(store, tally, options)) {
        List<Long> positions = appendMany(store, prefix, 20);
        await()
            .atMost(WAIT)
            .until(
                () -> ProjectionRunner.committedCheckpoint(store, prefix) >= positions.getLast());

        runner.rebuild(positions.get(49));
        List<Long> more = appendMany(store, prefix, 4);
        positions.addAll(more);
        await()
            .atMost(WAIT)
            .until(() -> ProjectionRunner.committedCheckpoint(store, prefix) >= more.getLast());
        assertThat(Tally.counts(store, tally.table()).values()).allMatch(n -> n == 1);

        runner.rebuild(start);
        await()
            .atMost(WAIT)
            .until(() -> ProjectionRunner.committedCheckpoint(store, prefix) >= more.getLast());
        Map<Long, Integer> counts = Tally.counts(store, tally.table());
        assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(positions);
        assertThat(counts.values()).allMatch(n -> n == 1);
      }
    }
  }
}
