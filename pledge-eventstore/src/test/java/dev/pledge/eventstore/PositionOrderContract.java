package dev.pledge.eventstore;

import static org.assertj.core.api.Assertions.assertThat;

import java.sql.Connection;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/**
 * The classic trap of global positions: with a sequence or auto-increment column, a transaction
 * that took position 7 may commit after one that took 8, and a reader that saw 8 skipped 7 for
 * good. This races many writers (group-committed appends from two stores, and appends in writers'
 * own transactions, some of which roll back) against a reader that tails {@code readAll}, and
 * checks that the reader only ever sees a gap-free prefix: every page starts right after the last
 * position it saw, and in the end it saw exactly the positions that committed.
 */
public abstract class PositionOrderContract {
  protected abstract EventStoreConfig database();

  @Test
  void racingWriters_neverShowAReaderAPositionBeforeASmallerOne() throws Exception {
    String prefix = "race-" + UUID.randomUUID();
    int writers = 12;
    int appendsPerWriter = 60;
    try (EventStore a = EventStore.open(database());
        EventStore b = EventStore.open(database());
        EventStore reader = EventStore.open(database())) {
      long start = reader.headPosition();
      ExecutorService pool = Executors.newFixedThreadPool(writers + 1);
      AtomicBoolean writing = new AtomicBoolean(true);
      ConcurrentLinkedQueue<Long> committed = new ConcurrentLinkedQueue<>();
      ConcurrentLinkedQueue<Long> seenByReader = new ConcurrentLinkedQueue<>();
      AtomicLong lastCommitted = new AtomicLong();
      // MariaDB and SQLite hand out positions 1, 2, 3, … with no gap at all; PostgreSQL's carry the
      // writer's transaction id and so leave gaps that never fill (docs/eventstore.md,
      // "Positions"). On both, a position that appears below one the reader already saw is a
      // violation: the comparison of what the reader saw with the final store checks that.
      boolean dense = !database().jdbcUrl().startsWith("jdbc:postgresql:");
      CountDownLatch go = new CountDownLatch(1);
      try {
        Future<List<String>> tail =
            pool.submit(() -> {
              List<String> violations = new ArrayList<>();
              long last = start;
              go.await();
              boolean finalPass = false;
              while (true) {
                boolean stillWriting = writing.get();
                long seen = a.feed().generation();
                List<RecordedEvent> page = reader.readAll(last, 100);
                for (RecordedEvent e : page) {
                  if (dense ? e.position() != last + 1 : e.position() <= last) {
                    violations.add("saw " + e.position() + " right after " + last);
                  }
                  last = e.position();
                  seenByReader.add(last);
                }
                if (page.isEmpty() && stillWriting) {
                  // Woken by the next commit of store a, or after 20 ms at most.
                  a.feed().await(seen, java.time.Duration.ofMillis(20));
                }
                if (page.isEmpty() && !stillWriting && last >= lastCommitted.get()) {
                  if (finalPass) {
                    break;
                  }
                  finalPass = true;
                }
              }
              violations.add(0, "last=" + last);
              return violations;
            });
        List<Future<?>> work = new ArrayList<>();
        for (int w = 0; w < writers; w++) {
          int writer = w;
          work.add(
              pool.submit(() -> {
                go.await();
                for (int i = 0; i < appendsPerWriter; i++) {
                  String stream = prefix + "-" + writer + "-" + (i % 5);
                  List<EventData> events =
                      i % 4 == 0
                          ? List.of(TestEvents.deposited(i), TestEvents.deposited(i + 1))
                          : List.of(TestEvents.deposited(i));
                  switch (writer % 3) {
                    case 0 -> record(committed, a.append(stream, ExpectedVersion.any(), events));
                    case 1 -> record(committed, b.append(stream, ExpectedVersion.any(), events));
                    default -> {
                      // The writer's own transaction, held open a little while other work
                      // goes on, and rolled back one time in five.
                      try (Connection c = a.dataSource().getConnection()) {
                        c.setAutoCommit(false);
                        AppendResult result = a.appendIn(c, stream, ExpectedVersion.any(), events);
                        a.streamVersion(stream);
                        if (i % 5 == 0) {
                          c.rollback();
                        } else {
                          c.commit();
                          record(committed, result);
                        }
                      }
                    }
                  }
                }
                return null;
              }));
        }
        go.countDown();
        for (Future<?> f : work) {
          f.get(5, TimeUnit.MINUTES);
        }
        lastCommitted.set(committed.stream().mapToLong(Long::longValue).max().orElse(0));
        writing.set(false);
        List<String> result = tail.get(5, TimeUnit.MINUTES);
        long end = Long.parseLong(result.getFirst().substring("last=".length()));
        assertThat(result.subList(1, result.size())).as("gaps the reader saw").isEmpty();
        // Everything this test committed is within what the reader saw, and nothing it saw is
        // missing from the store. Other test classes (the other surefire fork) and other processes
        // may append to the same database meanwhile, also after the reader's last pass: the read
        // below stops at the reader's last position, so their later events are not counted.
        assertThat(committed).allSatisfy(p -> assertThat(p).isBetween(start + 1, end));
        List<RecordedEvent> all = new ArrayList<>();
        for (long p = start; p < end; ) {
          List<RecordedEvent> page = reader.readAll(p, (int) Math.min(1000, end - p));
          assertThat(page).as("events after %d", p).isNotEmpty();
          page.stream().filter(e -> e.position() <= end).forEach(all::add);
          p = page.getLast().position();
        }
        assertThat(all).extracting(RecordedEvent::position).doesNotHaveDuplicates();
        // Every position up to the reader's last is one the reader saw, in the same order: no
        // position appeared later below one it had already passed.
        assertThat(all)
            .extracting(RecordedEvent::position)
            .as("the store up to the reader's last position, against what the reader saw")
            .containsExactlyElementsOf(seenByReader);
        if (dense) {
          assertThat(all).hasSize((int) (end - start));
        }
        assertThat(all.getLast().position()).isEqualTo(end);
        assertThat(all.stream().filter(e -> e.streamId().startsWith(prefix)).count())
            .isEqualTo(committed.size());
      } finally {
        pool.shutdownNow();
      }
    }
  }

  private static void record(ConcurrentLinkedQueue<Long> committed, AppendResult result) {
    result.events().forEach(e -> committed.add(e.position()));
  }
}
