package dev.pledge.eventstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import java.io.BufferedReader;
import java.io.File;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
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

      Process first = child(config, prefix, start, blockAt);
      try {
        CompletableFuture<String> blocked = lineStartingWith(first, "BLOCKED");
        assertThat(blocked.get(WAIT.toSeconds(), TimeUnit.SECONDS)).isEqualTo("BLOCKED " + blockAt);
        // The child has applied events of the open batch up to blockAt, uncommitted; its earlier
        // batches are committed.
        long before = ProjectionRunner.committedCheckpoint(store, prefix);
        assertThat(before).isLessThan(blockAt).isGreaterThan(start);
        first.destroyForcibly(); // SIGKILL
        assertThat(first.waitFor(30, TimeUnit.SECONDS)).isTrue();
        assertThat(first.exitValue()).isEqualTo(137);
        // The killed batch left nothing: the read model ends exactly at the checkpoint.
        Map<Long, Integer> afterKill = Tally.counts(store, tally.table());
        assertThat(afterKill.keySet()).allMatch(p -> p <= before);
        assertThat(afterKill.keySet())
            .containsExactlyInAnyOrderElementsOf(
                positions.stream().filter(p -> p <= before).toList());
      } finally {
        first.destroyForcibly();
      }

      Process second = child(config, prefix, start, -1);
      try {
        long last = positions.getLast();
        await()
            .atMost(WAIT)
            .until(() -> ProjectionRunner.committedCheckpoint(store, prefix) >= last);
      } finally {
        second.destroyForcibly();
        second.waitFor(30, TimeUnit.SECONDS);
      }
      Map<Long, Integer> counts = Tally.counts(store, tally.table());
      assertThat(counts.keySet()).containsExactlyInAnyOrderElementsOf(positions);
      assertThat(counts.values()).allMatch(n -> n == 1);
    }
  }

  private static Process child(EventStoreConfig config, String prefix, long start, long blockAt)
      throws IOException {
    String java = ProcessHandle.current().info().command().orElse("java");
    return new ProcessBuilder(
            java,
            "-cp",
            System.getProperty("java.class.path"),
            ProjectionChild.class.getName(),
            config.jdbcUrl(),
            config.user(),
            prefix,
            prefix,
            Long.toString(start),
            Long.toString(blockAt))
        .redirectError(new File("target/projection-child-" + prefix + ".err"))
        .start();
  }

  private static CompletableFuture<String> lineStartingWith(Process process, String prefix) {
    return CompletableFuture.supplyAsync(() -> {
      try (BufferedReader lines =
          new BufferedReader(
              new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
        for (String line; (line = lines.readLine()) != null; ) {
          if (line.startsWith(prefix)) {
            return line;
          }
        }
        return "child exited without " + prefix;
      } catch (IOException e) {
        return "child output failed: " + e;
      }
    });
  }
}
