package dev.pledge.eventstore;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/** The event store's contract on the real Postgres. */
class PostgresEventStoreTest extends EventStoreContract {
  @Override
  protected boolean densePositions() {
    return false;
  }

  @Override
  protected EventStoreConfig database() {
    return TestDatabases.postgres();
  }

  /**
   * On PostgreSQL a batch is one auto-committed call of the append function: when the server
   * refuses one append of it (here a payload with a NUL character, which a text column refuses),
   * the call stores nothing, and the batch is run again one append per call, so only that append
   * fails.
   */
  @Test
  void anAppendTheServerRefuses_failsAlone_andStoresNothing() {
    String prefix = "refused-" + UUID.randomUUID();
    String nul = String.valueOf((char) 0);
    try (EventStore store = EventStore.open(database())) {
      List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
      for (int i = 0; i < 30; i++) {
        EventData event =
            i == 7
                ? new EventData("deposited", 1, "{\"account\":\"" + nul + "\"}", Map.of())
                : TestEvents.deposited(i);
        appends.add(
            store.appendAsync(prefix + "-" + i, ExpectedVersion.noStream(), List.of(event)));
      }
      for (int i = 0; i < appends.size(); i++) {
        CompletableFuture<AppendResult> append = appends.get(i);
        if (i == 7) {
          assertThatThrownBy(append::join)
              .hasCauseInstanceOf(EventStoreException.class)
              .hasMessageContaining("nothing of it was stored");
          assertThat(store.streamVersion(prefix + "-" + i)).isZero();
        } else {
          assertThat(append.join().nextExpectedVersion()).isEqualTo(1);
          assertThat(store.streamVersion(prefix + "-" + i)).isEqualTo(1);
        }
      }
    }
  }

  /**
   * With two batches in flight, a batch that names a stream of the other waits for it: appends of
   * one stream submitted in order each find the version the previous one left.
   */
  @Test
  void withTwoWriterConnections_eachStreamsAppendsKeepTheirOrder() {
    String prefix = "ordered-" + UUID.randomUUID();
    int streams = 10;
    try (EventStore store = EventStore.open(database().withWriterConnections(2))) {
      List<CompletableFuture<AppendResult>> appends = new ArrayList<>();
      for (int i = 0; i < 300; i++) {
        appends.add(
            store.appendAsync(
                prefix + "-" + (i % streams),
                ExpectedVersion.exactly(i / streams),
                List.of(TestEvents.deposited(i))));
      }
      for (int i = 0; i < appends.size(); i++) {
        assertThat(appends.get(i).join().nextExpectedVersion()).isEqualTo(i / streams + 1);
      }
      for (int k = 0; k < streams; k++) {
        assertThat(store.streamVersion(prefix + "-" + k)).isEqualTo(300 / streams);
      }
    }
  }
}
