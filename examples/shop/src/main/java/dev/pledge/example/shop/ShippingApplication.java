package dev.pledge.example.shop;

import dev.pledge.core.TransactionalMessage;
import dev.pledge.spring.PledgeSubscriber;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.concurrent.atomic.AtomicInteger;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionSynchronization;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The shipping service as a Spring Boot application: Boot's DataSource (HikariCP on the service's
 * SQLite file) and transaction manager, and the Pledge starter, which serves {@link Shipments#ship}
 * as the delivery target {@code POST /inbox} through the SDK's inbox, in Spring's transaction.
 * {@link Shipping} starts and stops it.
 */
@SpringBootConfiguration
@EnableAutoConfiguration
class ShippingApplication {

  @Bean
  Shipments shipments(JdbcTemplate jdbc, Faults faults) {
    jdbc.execute(
        """
        CREATE TABLE IF NOT EXISTS shipment (
          id INTEGER PRIMARY KEY AUTOINCREMENT, order_id TEXT NOT NULL,
          message_id TEXT NOT NULL, sku TEXT NOT NULL, qty INTEGER NOT NULL)
        """);
    return new Shipments(faults);
  }

  /**
   * Ships an order per {@code order-placed} message. The starter calls {@link #ship} only for a
   * message id the inbox has not seen, on the connection of the transaction that records the id; a
   * redelivery is acknowledged without calling it.
   */
  static final class Shipments {
    private final Faults faults;
    private final AtomicInteger inFlight = new AtomicInteger();

    Shipments(Faults faults) {
      this.faults = faults;
    }

    /**
     * One new message: the shipment row, in the inbox's transaction. The injected faults: a 5xx
     * before the work (it throws, so the row and the inbox's record roll back), an answer slower
     * than the coordinator's call timeout, and a 5xx after the work (both once the transaction has
     * committed, so the redelivery finds the id in the inbox).
     */
    @PledgeSubscriber(path = "/inbox")
    void ship(Connection connection, TransactionalMessage message) throws SQLException {
      inFlight.incrementAndGet();
      TransactionSynchronizationManager.registerSynchronization(
          new TransactionSynchronization() {
            @Override
            public void afterCompletion(int status) {
              inFlight.decrementAndGet();
            }
          });
      Faults.Kind fault = faults.draw(false);
      if (fault == Faults.Kind.FAIL_BEFORE) {
        throw new ShopException("injected: 5xx before the work");
      }
      var payload = Json.read(message.payload());
      try (PreparedStatement insert =
          connection.prepareStatement(
              "INSERT INTO shipment (order_id, message_id, sku, qty) VALUES (?, ?, ?, ?)")) {
        insert.setString(1, Json.text(payload, "orderId"));
        insert.setString(2, message.id());
        insert.setString(3, Json.text(payload, "sku"));
        insert.setLong(4, Json.positive(payload, "qty", 1_000));
        insert.executeUpdate();
      }
      if (fault == Faults.Kind.SLOW || fault == Faults.Kind.FAIL_AFTER) {
        TransactionSynchronizationManager.registerSynchronization(
            new TransactionSynchronization() {
              @Override
              public void afterCommit() {
                if (fault == Faults.Kind.SLOW) {
                  try {
                    Thread.sleep(faults.rates().slowDelay());
                  } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                  }
                } else {
                  throw new ShopException("injected: 5xx after the work");
                }
              }
            });
      }
    }

    int inFlight() {
      return inFlight.get();
    }
  }
}
