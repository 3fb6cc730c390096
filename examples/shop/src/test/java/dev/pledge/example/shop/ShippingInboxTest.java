package dev.pledge.example.shop;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Shipping's inbox against its real SQLite database: a redelivered message ships nothing more. */
class ShippingInboxTest {
  private static final String PLACED = "{\"orderId\":\"%s\",\"sku\":\"sku-1\",\"qty\":2}";

  @TempDir Path folder;
  private Shipping shipping;

  @BeforeEach
  void start() {
    shipping = new Shipping(folder.resolve("shipping.db"), Faults.none());
  }

  @AfterEach
  void stop() {
    shipping.close();
  }

  @Test
  void aDuplicateDelivery_isAcknowledged_andShipsOnce() {
    Protocol.Answer first =
        Protocol.deliver(
            shipping.inboxUrl(), "placed-o-1#1", "placed-o-1", PLACED.formatted("o-1"));
    Protocol.Answer again =
        Protocol.deliver(
            shipping.inboxUrl(), "placed-o-1#1", "placed-o-1", PLACED.formatted("o-1"));
    Protocol.deliver(shipping.inboxUrl(), "placed-o-2#1", "placed-o-2", PLACED.formatted("o-2"));

    assertThat(first.status()).isEqualTo(200);
    assertThat(again.status()).isEqualTo(200);
    assertThat(shipping.shipmentsByOrder()).containsOnlyKeys("o-1", "o-2").containsEntry("o-1", 1L);
    assertThat(shipping.duplicatesDropped()).isEqualTo(1);
  }

  @Test
  void aLostAcknowledgement_theRedeliveryShipsNothingMore() {
    shipping.close();
    shipping =
        new Shipping(
            folder.resolve("shipping.db"),
            new Faults(new Faults.Rates(0, 0, 0, 0.5, Duration.ZERO), 7));
    Protocol.Answer answer;
    int lost = 0;
    do {
      answer =
          Protocol.deliver(
              shipping.inboxUrl(), "placed-o-1#1", "placed-o-1", PLACED.formatted("o-1"));
      lost += answer.status() == 500 ? 1 : 0;
    } while (answer.status() == 500 && lost < 50);

    assertThat(answer.status()).isEqualTo(200);
    assertThat(shipping.shipmentsByOrder()).containsExactly(java.util.Map.entry("o-1", 1L));
    assertThat(shipping.duplicatesDropped()).isEqualTo(lost);
  }

  @Test
  void aDeliveryWithoutItsMessageId_isRefusedWith400_andShipsNothing() {
    Protocol.Answer answer =
        Protocol.deliver(shipping.inboxUrl(), "", "placed-o-1", PLACED.formatted("o-1"));

    assertThat(answer.status()).isEqualTo(400);
    assertThat(shipping.shipmentsByOrder()).isEmpty();
  }
}
