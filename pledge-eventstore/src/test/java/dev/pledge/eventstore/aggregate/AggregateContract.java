package dev.pledge.eventstore.aggregate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.eventstore.EventCodec;
import dev.pledge.eventstore.EventStore;
import dev.pledge.eventstore.EventStoreConfig;
import dev.pledge.eventstore.RecordedEvent;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Aggregates loaded, decided and appended with retries on conflict, with snapshots. */
abstract class AggregateContract {
  abstract EventStoreConfig database();

  sealed interface StockEvent {}

  record Received(long units) implements StockEvent {}

  record Reserved(String order, long units) implements StockEvent {}

  record Stock(long available, long reserved) {}

  static final EventCodec CODEC =
      EventCodec.builder()
          .register("received", Received.class)
          .register("reserved", Reserved.class)
          .build();

  static final Aggregate<Stock, StockEvent> STOCK =
      new Aggregate<>() {
        @Override
        public Stock initial() {
          return new Stock(0, 0);
        }

        @Override
        public Stock apply(Stock s, StockEvent event) {
          return switch (event) {
            case Received r -> new Stock(s.available() + r.units(), s.reserved());
            case Reserved r -> new Stock(s.available() - r.units(), s.reserved() + r.units());
          };
        }
      };

  /** The command: reserve if there is enough, else nothing. */
  static List<StockEvent> reserve(Stock s, String order, long units) {
    return s.available() >= units ? List.of(new Reserved(order, units)) : List.of();
  }

  @Test
  void racingCommands_areRetried_andNeverOversell() throws Exception {
    String sku = "sku-" + UUID.randomUUID();
    try (EventStore store = EventStore.open(database())) {
      AggregateRepository<Stock, StockEvent> repository =
          new AggregateRepository<>(
              store,
              CODEC,
              STOCK,
              Stock.class,
              StockEvent.class,
              new AggregateRepository.Options("stock", 1, 0, 100));
      repository.execute(sku, s -> List.of(new Received(30)));
      ExecutorService pool = Executors.newFixedThreadPool(8);
      try {
        List<Future<Loaded<Stock>>> results = new ArrayList<>();
        for (int i = 0; i < 40; i++) {
          String order = "o" + i;
          results.add(pool.submit(() -> repository.execute(sku, s -> reserve(s, order, 1))));
        }
        for (Future<Loaded<Stock>> f : results) {
          f.get(2, TimeUnit.MINUTES);
        }
      } finally {
        pool.shutdownNow();
      }
      Loaded<Stock> loaded = repository.load(sku);
      assertThat(loaded.state()).isEqualTo(new Stock(0, 30));
      assertThat(loaded.version()).isEqualTo(31);
      assertThat(store.readStream(sku, 1, 100))
          .extracting(RecordedEvent::version)
          .containsExactlyElementsOf(
              java.util.stream.LongStream.rangeClosed(1, 31).boxed().toList());
    }
  }

  @Test
  void snapshots_shortenTheLoad_andGiveTheSameState() {
    String sku = "snap-" + UUID.randomUUID();
    try (EventStore store = EventStore.open(database())) {
      AggregateRepository<Stock, StockEvent> snapshotting =
          new AggregateRepository<>(
              store,
              CODEC,
              STOCK,
              Stock.class,
              StockEvent.class,
              AggregateRepository.Options.snapshotEvery("stock", 1, 5));
      AggregateRepository<Stock, StockEvent> folding =
          new AggregateRepository<>(
              store,
              CODEC,
              STOCK,
              Stock.class,
              StockEvent.class,
              AggregateRepository.Options.noSnapshots());
      for (int i = 0; i < 23; i++) {
        long units = i + 1;
        snapshotting.execute(sku, s -> List.of(new Received(units)));
      }
      assertThat(store.loadSnapshot(sku))
          .hasValueSatisfying(s -> assertThat(s.version()).isEqualTo(20));
      assertThat(snapshotting.load(sku)).isEqualTo(folding.load(sku));
      assertThat(snapshotting.load(sku).state()).isEqualTo(new Stock(276, 0));

      // A snapshot of another schema version is ignored: the load folds the whole stream.
      AggregateRepository<Stock, StockEvent> newer =
          new AggregateRepository<>(
              store,
              CODEC,
              STOCK,
              Stock.class,
              StockEvent.class,
              AggregateRepository.Options.snapshotEvery("stock", 2, 5));
      assertThat(newer.load(sku)).isEqualTo(folding.load(sku));
    }
  }

  @Test
  void options_areChecked() {
    assertThatThrownBy(() -> new AggregateRepository.Options("s", 1, -1, 3))
        .hasMessageContaining("snapshotEvery");
    assertThatThrownBy(() -> new AggregateRepository.Options("s", 1, 0, 0))
        .hasMessageContaining("maxAttempts");
  }
}
