package dev.pledge.spring;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.client.PledgeClient;
import dev.pledge.client.barrier.Barrier;
import dev.pledge.client.barrier.BusinessRefusal;
import dev.pledge.client.inbox.Inbox;
import dev.pledge.client.outbox.Outbox;
import dev.pledge.client.participant.ParticipantRequest;
import dev.pledge.core.Op;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageHandler;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.springframework.boot.SpringBootConfiguration;
import org.springframework.boot.WebApplicationType;
import org.springframework.boot.autoconfigure.EnableAutoConfiguration;
import org.springframework.boot.builder.SpringApplicationBuilder;
import org.springframework.context.ConfigurableApplicationContext;
import org.springframework.context.annotation.Bean;
import org.springframework.jdbc.core.JdbcTemplate;
import org.springframework.transaction.support.TransactionSynchronizationManager;

/**
 * The starter in a real Spring Boot application: Boot's own DataSource (HikariCP on a SQLite file)
 * and transaction manager, the starter's beans on them, and a bean's annotated methods served as
 * participant ops over HTTP, behind the barrier, inside Spring's transactions, and a subscriber
 * method served as a delivery target through the inbox.
 */
class PledgeStarterTest {

  /** The application: one participant bean. */
  @SpringBootConfiguration
  @EnableAutoConfiguration
  static class App {
    @Bean
    Stock stock() {
      return new Stock();
    }

    @Bean
    Shipments shipments() {
      return new Shipments();
    }
  }

  /** A message receiver: one shipment row per order-placed message; "poison" always fails. */
  static class Shipments {
    final AtomicInteger calls = new AtomicInteger();

    @PledgeSubscriber(path = "/inbox")
    void ship(Connection connection, TransactionalMessage message) throws SQLException {
      calls.incrementAndGet();
      try (PreparedStatement s =
          connection.prepareStatement("INSERT INTO shipment (message_id, payload) VALUES (?, ?)")) {
        s.setString(1, message.id());
        s.setString(2, message.payload());
        s.executeUpdate();
      }
      if (message.payload().contains("poison")) {
        throw new IllegalStateException("cannot ship " + message.payload());
      }
    }
  }

  /** Stock per SKU; reserving more than is left is a business refusal. */
  static class Stock {
    volatile boolean inSpringTransaction;

    @PledgeEndpoint(path = "/stock/reserve", op = Op.ACTION)
    void reserve(Connection connection, ParticipantRequest request) throws SQLException {
      inSpringTransaction = TransactionSynchronizationManager.isActualTransactionActive();
      try (PreparedStatement s =
          connection.prepareStatement(
              "UPDATE stock SET qty = qty - ? WHERE sku = 'A' AND qty >= ?")) {
        int qty = request.payload().path("qty").asInt();
        s.setInt(1, qty);
        s.setInt(2, qty);
        if (s.executeUpdate() == 0) {
          throw new BusinessRefusal("out of stock");
        }
      }
    }

    @PledgeEndpoint(path = "/stock/release", op = Op.COMPENSATE)
    void release(Connection connection, ParticipantRequest request) throws SQLException {
      try (PreparedStatement s =
          connection.prepareStatement("UPDATE stock SET qty = qty + ? WHERE sku = 'A'")) {
        s.setInt(1, request.payload().path("qty").asInt());
        s.executeUpdate();
      }
    }
  }

  private static ConfigurableApplicationContext context;
  private static JdbcTemplate jdbc;
  private static String base;
  private static HttpClient http;

  /**
   * One application for the class (starting Spring is the slow part); each test resets the data.
   */
  @BeforeAll
  static void start() throws IOException {
    http = HttpClient.newHttpClient();
    Path dir = Files.createTempDirectory("pledge-starter-");
    context =
        new SpringApplicationBuilder(App.class)
            .web(WebApplicationType.NONE)
            .properties(
                "spring.datasource.url=jdbc:sqlite:" + dir.resolve("app.db"),
                "spring.datasource.hikari.maximum-pool-size=4",
                "pledge.coordinator-url=http://127.0.0.1:7878",
                "pledge.max-attempts=3")
            .run();
    jdbc = context.getBean(JdbcTemplate.class);
    jdbc.execute("CREATE TABLE stock (sku TEXT PRIMARY KEY, qty INTEGER NOT NULL)");
    jdbc.execute("INSERT INTO stock VALUES ('A', 10)");
    jdbc.execute("CREATE TABLE shipment (message_id TEXT NOT NULL, payload TEXT NOT NULL)");
    base = context.getBean(PledgeEndpointServer.class).baseUrl();
  }

  @BeforeEach
  void resetData() {
    jdbc.execute("UPDATE stock SET qty = 10");
    jdbc.execute("DELETE FROM pledge_barrier");
    jdbc.execute("DELETE FROM shipment");
    jdbc.execute("DELETE FROM pledge_inbox");
    context.getBean(Shipments.class).calls.set(0);
  }

  private HttpResponse<String> deliver(String id, String payload)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + "/inbox"))
            .header("Pledge-Message-Id", id)
            .header("Pledge-Topic", "order-placed")
            .header("Pledge-Key", "o-1")
            .header("Pledge-Gid", "placed-o-1")
            .POST(HttpRequest.BodyPublishers.ofString(payload))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private int shipments() {
    return jdbc.queryForObject("SELECT COUNT(*) FROM shipment", Integer.class);
  }

  @AfterAll
  static void stop() {
    context.close();
    http.close();
  }

  private HttpResponse<String> op(String path, String op, String gid, int attempt, String body)
      throws IOException, InterruptedException {
    return http.send(
        HttpRequest.newBuilder(URI.create(base + path))
            .header("Pledge-Gid", gid)
            .header("Pledge-Branch", "stock")
            .header("Pledge-Op", op)
            .header("Pledge-Mode", "saga")
            .header("Pledge-Attempt", Integer.toString(attempt))
            .POST(HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }

  private int qty() {
    return jdbc.queryForObject("SELECT qty FROM stock WHERE sku = 'A'", Integer.class);
  }

  @Test
  void theStartersBeans_areMade_onTheApplicationsDataSource() {
    assertThat(context.getBean(PledgeClient.class).config().maxAttempts()).isEqualTo(3);
    assertThat(context.getBeansOfType(Barrier.class)).hasSize(1);
    assertThat(context.getBeansOfType(Outbox.class)).hasSize(1);
    assertThat(context.getBeansOfType(Inbox.class)).hasSize(1);
    assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM pledge_barrier", Integer.class)).isZero();
    assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM pledge_outbox", Integer.class)).isZero();
    assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM pledge_inbox", Integer.class)).isZero();
    assertThat(base).startsWith("http://127.0.0.1:");
  }

  @Test
  void anAnnotatedAction_runsOnceBehindTheBarrier_inASpringTransaction() throws Exception {
    HttpResponse<String> first = op("/stock/reserve", "action", "g1", 1, "{\"qty\":3}");
    HttpResponse<String> again = op("/stock/reserve", "action", "g1", 2, "{\"qty\":3}");

    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(first.body()).isEqualTo("{\"outcome\":\"ran\"}");
    assertThat(again.body()).isEqualTo("{\"outcome\":\"duplicate\"}");
    assertThat(qty()).isEqualTo(7);
    assertThat(context.getBean(Stock.class).inSpringTransaction).isTrue();
  }

  @Test
  void aRefusal_is409_andRollsBackTheBarriersRow() throws Exception {
    HttpResponse<String> refused = op("/stock/reserve", "action", "g2", 1, "{\"qty\":50}");

    assertThat(refused.statusCode()).isEqualTo(409);
    assertThat(refused.body()).contains("out of stock");
    assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM pledge_barrier", Integer.class)).isZero();
  }

  @Test
  void aCompensationBeforeItsAction_isANullCompensation_andTheLateActionHangsNot()
      throws Exception {
    HttpResponse<String> release = op("/stock/release", "compensate", "g3", 1, "{\"qty\":3}");
    HttpResponse<String> late = op("/stock/reserve", "action", "g3", 1, "{\"qty\":3}");

    assertThat(release.body()).isEqualTo("{\"outcome\":\"null_compensation\"}");
    assertThat(late.body()).isEqualTo("{\"outcome\":\"hanging\"}");
    assertThat(qty()).isEqualTo(10);
  }

  @Test
  void aSubscriber_runsOncePerMessage_throughTheInbox_overHttpAndForABrokerAdapter()
      throws Exception {
    PledgeEndpointServer.SubscriberCounts before =
        context.getBean(PledgeEndpointServer.class).subscriberCounts("/inbox");
    HttpResponse<String> first = deliver("m-1", "{\"orderId\":\"o-1\"}");
    HttpResponse<String> again = deliver("m-1", "{\"orderId\":\"o-1\"}");
    MessageHandler adapter = context.getBean(PledgeEndpointServer.class).subscriber("/inbox");
    adapter.handle(
        new TransactionalMessage(
            "m-1", "order-placed", "o-1", "{\"orderId\":\"o-1\"}", Map.of(), "placed-o-1"));
    adapter.handle(
        new TransactionalMessage(
            "m-2", "order-placed", "o-2", "{\"orderId\":\"o-2\"}", Map.of(), "placed-o-2"));

    assertThat(first.statusCode()).isEqualTo(200);
    assertThat(again.statusCode()).isEqualTo(200);
    assertThat(shipments()).isEqualTo(2);
    assertThat(context.getBean(Shipments.class).calls.get()).isEqualTo(2);
    PledgeEndpointServer.SubscriberCounts after =
        context.getBean(PledgeEndpointServer.class).subscriberCounts("/inbox");
    assertThat(after.handled() - before.handled()).isEqualTo(2);
    assertThat(after.duplicates() - before.duplicates()).isEqualTo(2);
    assertThat(after.failed()).isEqualTo(before.failed());
    assertThat(jdbc.queryForObject("SELECT COUNT(*) FROM pledge_inbox", Integer.class))
        .isEqualTo(2);
  }

  @Test
  void aSubscriberThatThrows_rollsBackItsWorkAndTheInboxRow_andIsDeliveredAgain() throws Exception {
    HttpResponse<String> failed = deliver("m-3", "{\"orderId\":\"poison\"}");
    HttpResponse<String> conflict = deliver("m-4", "{\"orderId\":\"o-4\"}");
    HttpResponse<String> sameIdOtherPayload = deliver("m-4", "{\"orderId\":\"o-5\"}");
    HttpResponse<String> noId =
        http.send(
            HttpRequest.newBuilder(URI.create(base + "/inbox"))
                .header("Pledge-Topic", "order-placed")
                .POST(HttpRequest.BodyPublishers.ofString("{}"))
                .build(),
            HttpResponse.BodyHandlers.ofString());

    assertThat(failed.statusCode()).isEqualTo(500);
    assertThat(conflict.statusCode()).isEqualTo(200);
    assertThat(sameIdOtherPayload.statusCode()).isEqualTo(409);
    assertThat(noId.statusCode()).isEqualTo(400);
    assertThat(noId.body()).contains("Pledge-Message-Id");
    assertThat(jdbc.queryForList("SELECT message_id FROM shipment", String.class))
        .containsExactly("m-4");
    assertThat(jdbc.queryForList("SELECT message_id FROM pledge_inbox", String.class))
        .containsExactly("m-4");
  }

  @Test
  void subscriberForAnUnknownPath_isRefused() {
    PledgeEndpointServer server = context.getBean(PledgeEndpointServer.class);
    assertThatThrownBy(() -> server.subscriber("/stock/reserve"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("/stock/reserve");
  }

  @Test
  void badHeaders_are400() throws Exception {
    HttpResponse<String> wrongOp = op("/stock/reserve", "compensate", "g4", 1, "{}");
    assertThat(wrongOp.statusCode()).isEqualTo(400);
    assertThat(wrongOp.body()).contains("Pledge-Op");
  }

  @Test
  void theConfigurationMetadata_describesThePledgeProperties() throws IOException {
    try (var in =
        PledgeProperties.class
            .getClassLoader()
            .getResourceAsStream("META-INF/spring-configuration-metadata.json")) {
      assertThat(in).isNotNull();
      String metadata = new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
      assertThat(metadata)
          .contains("\"pledge.coordinator-url\"")
          .contains("\"pledge.max-attempts\"")
          .contains("\"pledge.endpoints.port\"");
    }
  }
}
