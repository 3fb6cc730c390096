package dev.pledge.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import dev.pledge.testkit.process.ChildProcess;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A consumer written in another language from docs/brokers.md alone ({@code
 * examples/node-consumer/consumer.js}, Node.js with amqplib) receives every message committed
 * through Pledge to an {@code amqp://} subscription, including across a {@code kill -9} of the node
 * process mid-stream and its restart: at least once from the broker, once in its own inbox (a file
 * of message ids, fsynced before each ack). Needs node and the example's node_modules ({@code
 * scripts/services.sh} runs {@code npm ci} there); fails without them.
 */
class NodeConsumerTest {
  private static final int MESSAGES = 60;
  private static final int KEYS = 4;

  @TempDir Path data;

  private final String run = UUID.randomUUID().toString().substring(0, 8);
  private final ObjectMapper json = new ObjectMapper();

  @Test
  void everyCommittedMessage_reachesTheNodeConsumer_acrossAKillMinus9() throws Exception {
    Path example = Path.of("..", "examples", "node-consumer").toAbsolutePath().normalize();
    assertThat(example.resolve("node_modules/amqplib/package.json"))
        .as("amqplib in %s: run scripts/services.sh (npm ci there)", example)
        .exists();
    String exchange = "pledge-brokers-node-" + run;
    String queue = exchange + "-q";
    Path inbox = data.resolve("inbox.jsonl");
    try (BrokerCoordinator coordinator = new BrokerCoordinator(data)) {
      // Bound before anything is committed, as docs/brokers.md says.
      ChildProcess first = node(example, exchange, queue, inbox, "first");
      try {
        first.awaitLineStartingWith("READY", Duration.ofSeconds(60));
        coordinator.subscribe(
            "orders-node", "orders", "amqp://guest:guest@127.0.0.1:5672/%2F?exchange=" + exchange);
        List<String> gids = new ArrayList<>();
        for (int i = 0; i < MESSAGES; i++) {
          gids.add("node-" + run + "-" + i);
        }
        // Half committed, the consumer killed -9 once it has a few of them (100 ms per message):
        // mid-stream. The other half is committed while no consumer runs; the queue keeps it.
        for (int i = 0; i < MESSAGES / 2; i++) {
          coordinator.commitMessage(gids.get(i), "orders", "k" + (i % KEYS), "{\"n\":" + i + "}");
        }
        await()
            .atMost(Duration.ofSeconds(60))
            .pollInterval(Duration.ofMillis(10))
            .until(() -> count(first, "RECEIVED ") >= MESSAGES / 12);
        first.kill9();
        int beforeKill = count(first, "RECEIVED ");
        for (int i = MESSAGES / 2; i < MESSAGES; i++) {
          coordinator.commitMessage(gids.get(i), "orders", "k" + (i % KEYS), "{\"n\":" + i + "}");
        }

        try (ChildProcess second = node(example, exchange, queue, inbox, "second")) {
          second.awaitLineStartingWith("READY", Duration.ofSeconds(60));
          await().atMost(Duration.ofSeconds(90)).until(() -> readInbox(inbox).size() >= MESSAGES);
          Map<String, JsonNode> received = new HashMap<>();
          for (JsonNode line : readInbox(inbox)) {
            assertThat(received.put(line.get("id").asText(), line))
                .as("each message id once in the consumer's inbox: %s", line)
                .isNull();
          }
          assertThat(received).hasSize(MESSAGES);
          for (int i = 0; i < MESSAGES; i++) {
            JsonNode line = received.get(gids.get(i) + "#1");
            assertThat(line).as("message %s#1", gids.get(i)).isNotNull();
            assertThat(line.get("topic").asText()).isEqualTo("orders");
            assertThat(line.get("routingKey").asText()).isEqualTo("orders");
            assertThat(line.get("key").asText()).isEqualTo("k" + (i % KEYS));
            assertThat(line.get("gid").asText()).isEqualTo(gids.get(i));
            assertThat(line.get("payload").get("n").asInt()).isEqualTo(i);
          }
          System.out.printf(
              "node consumer: %d received before the kill, %d after; %d duplicates absorbed%n",
              beforeKill, count(second, "RECEIVED "), count(second, "DUPLICATE "));
        }
      } finally {
        first.close();
        deleteTopology(exchange, queue);
      }
    }
  }

  private ChildProcess node(Path example, String exchange, String queue, Path inbox, String which) {
    return ChildProcess.start(
        "node-consumer-" + which,
        List.of(
            "node",
            "consumer.js",
            "--url",
            "amqp://guest:guest@127.0.0.1:5672/%2F",
            "--exchange",
            exchange,
            "--queue",
            queue,
            "--inbox",
            inbox.toString(),
            "--prefetch",
            "8",
            "--delay-ms",
            "100"),
        example,
        Map.of(),
        data.resolve("node-" + which + ".log"));
  }

  private static int count(ChildProcess process, String prefix) {
    return (int) process.lines().stream().filter(line -> line.startsWith(prefix)).count();
  }

  private List<JsonNode> readInbox(Path inbox) throws IOException {
    List<JsonNode> lines = new ArrayList<>();
    if (!Files.exists(inbox)) {
      return lines;
    }
    for (String line : Files.readAllLines(inbox, StandardCharsets.UTF_8)) {
      if (!line.isBlank()) {
        lines.add(json.readTree(line));
      }
    }
    return lines;
  }

  private static void deleteTopology(String exchange, String queue) throws Exception {
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost("127.0.0.1");
    factory.setPort(5672);
    try (com.rabbitmq.client.Connection connection = factory.newConnection();
        Channel channel = connection.createChannel()) {
      channel.queueDelete(queue);
      channel.exchangeDelete(exchange);
    }
  }
}
