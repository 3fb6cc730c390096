package dev.pledge.example.shop;

import dev.pledge.core.spi.MessageHandler;
import dev.pledge.spring.PledgeEndpointServer;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;
import org.springframework.boot.Banner;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.jdbc.core.JdbcTemplate;

/**
 * The shipping service: the subscription target of {@code order-placed}, a Spring Boot application
 * ({@link ShippingApplication}) on the Pledge starter. {@code POST /inbox} receives a delivery
 * (headers {@code Pledge-Message-Id}, {@code Pledge-Topic}, {@code Pledge-Key}, {@code Pledge-Gid};
 * the message's payload as body); the starter hands it to the SDK's inbox, which in one Spring
 * transaction records the message id and, if it was new, has the order's shipment created. Delivery
 * is at least once; through the inbox a redelivered message is acknowledged and does nothing. With
 * a broker between the order service and shipping, a consumer adapter feeds {@link #handler()}, the
 * same inbox-guarded method.
 */
public final class Shipping implements AutoCloseable {
  private static final String INBOX = "/inbox";

  private final ConfigurableApplicationContext context;
  private final PledgeEndpointServer endpoints;
  private final JdbcTemplate jdbc;
  private final ShippingApplication.Shipments shipments;

  public Shipping(Path file, Faults faults) {
    // Spring Boot logs through slf4j like the other services; its own logging system stays off.
    if (System.getProperty("org.springframework.boot.logging.LoggingSystem") == null) {
      System.setProperty("org.springframework.boot.logging.LoggingSystem", "none");
    }
    try {
      context =
          new SpringApplicationBuilder(ShippingApplication.class)
              .web(WebApplicationType.NONE)
              .bannerMode(Banner.Mode.OFF)
              .logStartupInfo(false)
              .initializers(c -> c.getBeanFactory().registerSingleton("shippingFaults", faults))
              .properties(
                  // WAL and a full sync as the other services; a writer waits for the lock.
                  "spring.datasource.url=jdbc:sqlite:"
                      + file
                      + "?journal_mode=WAL&synchronous=FULL&busy_timeout=10000",
                  "spring.datasource.hikari.maximum-pool-size=4",
                  "spring.datasource.hikari.pool-name=shipping",
                  "spring.jmx.enabled=false",
                  "pledge.endpoints.port=0")
              .run();
    } catch (RuntimeException e) {
      throw new ShopException("cannot start the shipping service on " + file + ": " + e, e);
    }
    endpoints = context.getBean(PledgeEndpointServer.class);
    jdbc = context.getBean(JdbcTemplate.class);
    shipments = context.getBean(ShippingApplication.Shipments.class);
  }

  public String baseUrl() {
    return endpoints.baseUrl();
  }

  /** The subscription target for {@code order-placed}. */
  public String inboxUrl() {
    return endpoints.baseUrl() + INBOX;
  }

  /** The inbox-guarded receiver, for a broker consumer adapter. */
  public MessageHandler handler() {
    return endpoints.subscriber(INBOX);
  }

  int inFlight() {
    return shipments.inFlight();
  }

  // ---- reading, for the audit and the tests ----

  /** Shipments per order id. */
  public Map<String, Long> shipmentsByOrder() {
    Map<String, Long> out = new TreeMap<>();
    jdbc.query(
        "SELECT order_id, COUNT(*) FROM shipment GROUP BY order_id",
        row -> {
          out.put(row.getString(1), row.getLong(2));
        });
    return out;
  }

  /** Deliveries the inbox recognised as seen before and dropped. */
  public long duplicatesDropped() {
    return endpoints.subscriberCounts(INBOX).duplicates();
  }

  @Override
  public void close() {
    context.close();
  }
}
