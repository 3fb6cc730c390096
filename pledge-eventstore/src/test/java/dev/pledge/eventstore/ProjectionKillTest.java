package dev.pledge.eventstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.testkit.process.ChildProcess;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/**
 * A projection process killed with {@code kill -9} in the middle of a batch, on the real
 * PostgreSQL, then started again: no event is lost, none is applied twice.
 */
class ProjectionKillTest {
  private static final Duration WAIT = Duration.ofSeconds(90);

  @Test
  void projectionKilledMidBatch_resumesWithEveryEventAppliedOnce() throws Exception {
    EventStoreConfig config = TestDatabases.postgres();
    String prefix = "kill-" + UUID.randomUUID();
    try (EventStore store = EventStore.open(config)) {
      long start = store.headPosition();
      List<Long> positions = new ArrayList<>();
      for (int i = 0; i < 100; i++) {
        store
            .append(
                prefix + "-" + (i % 7),
                ExpectedVersion.any(),
                IntStream.range(0, 10).mapToObj(j -> TestEvents.deposited(j)).toList())
            .events()
            .forEach(e -> positions.add(e.position()));
      }
      long blockAt = positions.get(555);
      Tally tally = new Tally(prefix, prefix);

      try (ChildProcess first = child("first", config, prefix, start, blockAt)) {
        assertThat(first.awaitLineStartingWith("BLOCKED", WAIT)).isEqualTo("BLOCKED " + blockAt);
        // The child has applied events of the open batch up to blockAt, uncommitted; its earlier
        // batches are committed.
        long before = ProjectionRunner.committedCheckpoint(store, prefix);
        assertThat(before).isLessThan(blockAt).isGreaterThan(start);
        first.kill9(); // SIGKILL
        assertThat(first.exitValue()).isEqualTo(137);
        // The killed batch left nothing: the read model ends exactly at the checkpoint.
        Map<Long, Integer> afterKill = Tally.counts(store, tally.table());
        assertThat(afterKill.keySet()).allMatch(p -> p <= before);
        assertThat(afterKill.keySet())
            .containsExactlyInAnyOrderElementsOf(
                positions.stream().filter(p -> p <= before).toList());
      }

      try (ChildProcess second = child("second", config, prefix, start, -1)) {
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

  private static ChildProcess child(
      String name, EventStoreConfig config, String prefix, long start, long blockAt) {
    return ChildProcess.startJava(
        "projection-" + name,
        ProjectionChild.class.getName(),
        List.of(
            config.jdbcUrl(),
            config.user(),
            prefix,
            prefix,
            Long.toString(start),
            Long.toString(blockAt)),
        Path.of("target/projection-child-" + prefix + ".log"));
  }
}
