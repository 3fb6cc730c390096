package dev.pledge.eventstore.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.client.outbox.Outbox;
import dev.pledge.eventstore.EventData;
import dev.pledge.eventstore.EventStore;
import dev.pledge.eventstore.EventStoreConfig;
import dev.pledge.eventstore.ExpectedVersion;
import dev.pledge.eventstore.WrongExpectedVersionException;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** Events published through the SDK's outbox in the append's transaction, on each database. */
abstract class OutboxEventPublisherContract {
  abstract EventStoreConfig database();

  private static EventData event(String type, String json) {
    return new EventData(type, 1, json, Map.of());
  }

  @Test
  void chosenEvents_areInTheOutbox_exactlyWhenTheAppendCommits() throws SQLException {
    String stream = "outbox-" + UUID.randomUUID();
    EventStoreConfig config = database();
    Outbox outbox;
    try (EventStore plain = EventStore.open(config)) {
      outbox = Outbox.create(plain.dataSource());
    }
    OutboxEventPublisher publisher =
        OutboxEventPublisher.ofTypes(outbox, "stock.changes", List.of("stock-sold"));
    try (EventStore store = EventStore.open(config, publisher, Clock.systemUTC())) {
      store.append(
          stream,
          ExpectedVersion.noStream(),
          List.of(event("stock-reserved", "{\"n\":1}"), event("stock-sold", "{\"n\":2}")));
      assertThatThrownBy(() ->
              store.append(
                  stream, ExpectedVersion.noStream(), List.of(event("stock-sold", "{\"n\":3}"))))
          .isInstanceOf(WrongExpectedVersionException.class);

      List<String> rows = new ArrayList<>();
      try (Connection c = store.dataSource().getConnection();
          PreparedStatement s =
              c.prepareStatement(
                  "SELECT topic, msg_key, payload, headers FROM "
                      + Outbox.TABLE
                      + " WHERE msg_key = ?")) {
        s.setString(1, stream);
        try (ResultSet r = s.executeQuery()) {
          while (r.next()) {
            rows.add(r.getString(1) + " " + r.getString(3));
            assertThat(r.getString(4)).contains("\"Es-Stream-Version\":\"2\"", "stock-sold");
          }
        }
      }
      assertThat(rows).containsExactly("stock.changes {\"n\":2}");
    }
  }
}
