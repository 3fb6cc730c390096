package dev.pledge.client.outbox;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.pledge.core.TransactionalMessage;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Databases with row locks: several relays share one table, and order per key still holds. */
public abstract class SharedOutboxRelayContract extends OutboxRelayContract {

  @Test
  void threeRelaysSharingTheTable_publishEverythingInOrderPerKey() throws SQLException {
    List<OutboxRelay> relays =
        List.of(
            OutboxRelay.start(db.dataSource(), sink(), FAST.withBatchSize(7), RelayListener.NONE),
            OutboxRelay.start(db.dataSource(), sink(), FAST.withBatchSize(7), RelayListener.NONE),
            OutboxRelay.start(db.dataSource(), sink(), FAST.withBatchSize(7), RelayListener.NONE));
    try {
      Map<String, List<String>> sent = publish(List.of("a", "b", "c", "d", "e"), 20);
      await().atMost(WAIT).until(() -> unpublished() == 0);
      assertThat(receivedByKey()).isEqualTo(sent);
      // Each key's messages, as received (duplicates included), never go backwards.
      for (String key : sent.keySet()) {
        List<String> order = sent.get(key);
        int last = -1;
        for (TransactionalMessage m : broker.messages("out")) {
          if (m.orderingKey().equals(key)) {
            int at = order.indexOf(m.id());
            assertThat(at).as("key %s", key).isGreaterThanOrEqualTo(last == -1 ? 0 : last);
            last = Math.max(last, at);
          }
        }
      }
    } finally {
      relays.forEach(OutboxRelay::close);
    }
  }
}
