package dev.pledge.spring;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.client.PledgeClient;
import dev.pledge.client.barrier.Barrier;
import dev.pledge.client.barrier.BusinessRefusal;
import dev.pledge.client.inbox.Inbox;
import dev.pledge.client.outbox.Outbox;
import dev.pledge.client.participant.ParticipantRequest;
import dev.pledge.core.Op;
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
 * participant ops over HTTP, behind the barrier, inside Spring's transactions.
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
    base = context.getBean(PledgeEndpointServer.class).baseUrl();
  }

  @BeforeEach
  void resetData() {
    jdbc.execute("UPDATE stock SET qty = 10");
    jdbc.execute("DELETE FROM pledge_barrier");
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
