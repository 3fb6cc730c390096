package dev.pledge.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.GetResponse;
import dev.pledge.example.shop.InJvmKafka;
import dev.pledge.store.jdbc.JdbcTransactionLog;
import io.nats.client.Connection;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.MessageInfo;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;
import java.util.concurrent.atomic.AtomicReference;
import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.ConsumerRecord;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.serialization.StringDeserializer;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A msg transaction's messages reach the real RabbitMQ and NATS JetStream on this machine, and a
 * Kafka broker in this JVM, through subscriptions with {@code amqp://}, {@code nats://} and {@code
 * kafka://} targets (Kafka: record key = the message's key, header {@code pledge-message-id}), with
 * what DESIGN.md's "Brokers" names: AMQP persistent, routing key = topic, {@code message_id} = the
 * message id, headers {@code pledge-topic}, {@code pledge-key}, {@code pledge-gid}; JetStream
 * {@code Nats-Msg-Id} = the message id and the same headers. The providers are found on the
 * server's classpath, as in {@code pledge server}.
 */
class BrokerDeliveryTest {
  @TempDir Path data;

  private final String run = UUID.randomUUID().toString().substring(0, 8);
  private BrokerCoordinator coordinator;
  private JdbcTransactionLog log;
  private BrokerSinks brokers;

  @BeforeEach
  void start() throws Exception {
    coordinator = new BrokerCoordinator(data);
    log = coordinator.log;
    brokers = coordinator.brokers;
  }

  @AfterEach
  void stop() {
    coordinator.close();
  }

  @Test
  void theProvidersOfEveryBroker_areOnTheServersClasspath() {
    assertThat(brokers.schemes()).containsExactly("amqp", "kafka", "nats");
  }

  @Test
  void msgTransaction_reachesARabbitMqQueue_withTheHeadersDesignNames() throws Exception {
    String exchange = "pledge-test-" + run;
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost("127.0.0.1");
    factory.setPort(5672);
    try (com.rabbitmq.client.Connection connection = factory.newConnection();
        Channel channel = connection.createChannel()) {
      channel.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, true);
      String queue = channel.queueDeclare().getQueue(); // exclusive, auto-deleted
      channel.queueBind(queue, exchange, "#");
      try {
        assertThat(
                put(
                    "orders-amqp",
                    "{\"topic\":\"orders\",\"target\":\"amqp://guest:guest@127.0.0.1:5672/%2F"
                        + "?exchange="
                        + exchange
                        + "\"}"))
            .isEqualTo(200);
        String gid = "amqp-" + run;
        commitMessage(gid);

        AtomicReference<GetResponse> got = new AtomicReference<>();
        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> {
              got.set(channel.basicGet(queue, true));
              return got.get() != null;
            });
        GetResponse message = got.get();
        assertThat(message.getEnvelope().getRoutingKey()).isEqualTo("orders");
        assertThat(message.getEnvelope().getExchange()).isEqualTo(exchange);
        assertThat(message.getProps().getMessageId()).isEqualTo(gid + "#1");
        assertThat(message.getProps().getDeliveryMode()).isEqualTo(2);
        Map<String, Object> headers = message.getProps().getHeaders();
        assertThat(String.valueOf(headers.get("pledge-topic"))).isEqualTo("orders");
        assertThat(String.valueOf(headers.get("pledge-key"))).isEqualTo("order-7");
        assertThat(String.valueOf(headers.get("pledge-gid"))).isEqualTo(gid);
        assertThat(String.valueOf(headers.get("tenant"))).isEqualTo("acme");
        assertThat(new String(message.getBody(), StandardCharsets.UTF_8))
            .isEqualTo("{\"orderId\":7}");
        await()
            .atMost(Duration.ofSeconds(10))
            .until(() -> log.load(dev.pledge.core.Gid.of(gid)).orElseThrow().isSettled());
      } finally {
        channel.exchangeDelete(exchange);
      }
    }
  }

  @Test
  void msgTransaction_reachesANatsStream_withTheHeadersDesignNames() throws Exception {
    String subject = "pledge.test." + run;
    String stream = "pledge-test-" + run;
    try (Connection nats = Nats.connect("nats://127.0.0.1:4222")) {
      JetStreamManagement jsm = nats.jetStreamManagement();
      jsm.addStream(
          StreamConfiguration.builder()
              .name(stream)
              .subjects(subject)
              .storageType(StorageType.Memory)
              .build());
      try {
        assertThat(
                put(
                    "orders-nats",
                    "{\"topic\":\"orders\",\"target\":\"nats://127.0.0.1:4222/" + subject + "\"}"))
            .isEqualTo(200);
        String gid = "nats-" + run;
        commitMessage(gid);

        await()
            .atMost(Duration.ofSeconds(20))
            .until(() -> jsm.getStreamInfo(stream).getStreamState().getMsgCount() == 1);
        MessageInfo message = jsm.getMessage(stream, 1);
        assertThat(message.getSubject()).isEqualTo(subject);
        assertThat(message.getHeaders().getFirst("Nats-Msg-Id")).isEqualTo(gid + "#1");
        assertThat(message.getHeaders().getFirst("pledge-topic")).isEqualTo("orders");
        assertThat(message.getHeaders().getFirst("pledge-key")).isEqualTo("order-7");
        assertThat(message.getHeaders().getFirst("pledge-gid")).isEqualTo(gid);
        assertThat(message.getHeaders().getFirst("tenant")).isEqualTo("acme");
        assertThat(new String(message.getData(), StandardCharsets.UTF_8))
            .isEqualTo("{\"orderId\":7}");
      } finally {
        jsm.deleteStream(stream);
      }
    }
  }

  @Test
  void msgTransaction_reachesAKafkaTopic_withTheHeadersDesignNames() throws Exception {
    String topic = "pledge-test-" + run;
    try (InJvmKafka kafka = InJvmKafka.start(data.resolve("kafka"))) {
      kafka.createTopic(topic, 3);
      put(
          "orders-kafka",
          "{\"topic\":\"orders\",\"target\":\"kafka://127.0.0.1:"
              + kafka.port()
              + "/"
              + topic
              + "\"}");
      String gid = "kafka-" + run;
      commitMessage(gid);

      Properties properties = new Properties();
      properties.put(ConsumerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + kafka.port());
      properties.put(ConsumerConfig.GROUP_ID_CONFIG, "reader-" + run);
      properties.put(ConsumerConfig.AUTO_OFFSET_RESET_CONFIG, "earliest");
      try (KafkaConsumer<String, String> consumer =
          new KafkaConsumer<>(properties, new StringDeserializer(), new StringDeserializer())) {
        consumer.subscribe(List.of(topic));
        List<ConsumerRecord<String, String>> records = new ArrayList<>();
        await()
            .atMost(Duration.ofSeconds(60))
            .until(() -> {
              consumer.poll(Duration.ofMillis(200)).forEach(records::add);
              return !records.isEmpty();
            });
        ConsumerRecord<String, String> record = records.get(0);
        assertThat(record.key()).isEqualTo("order-7");
        assertThat(record.value()).isEqualTo("{\"orderId\":7}");
        assertThat(header(record, "pledge-message-id")).isEqualTo(gid + "#1");
        assertThat(header(record, "pledge-topic")).isEqualTo("orders");
        assertThat(header(record, "pledge-key")).isEqualTo("order-7");
        assertThat(header(record, "pledge-gid")).isEqualTo(gid);
        assertThat(header(record, "tenant")).isEqualTo("acme");
      }
      await()
          .atMost(Duration.ofSeconds(30))
          .until(() -> log.load(dev.pledge.core.Gid.of(gid)).orElseThrow().isSettled());
    }
  }

  private static String header(ConsumerRecord<String, String> record, String name) {
    Header header = record.headers().lastHeader(name);
    return header == null ? null : new String(header.value(), StandardCharsets.UTF_8);
  }

  @Test
  void badBrokerTargets_areRefusedWithTheReason() throws Exception {
    HttpResponse<String> unknown =
        send("PUT", "/api/v1/subscriptions/s1", "{\"topic\":\"t\",\"target\":\"mqtt://h/x\"}");
    assertThat(unknown.statusCode()).isEqualTo(400);
    assertThat(unknown.body()).contains("amqp://, kafka://, nats://");
    HttpResponse<String> noExchange =
        send(
            "PUT",
            "/api/v1/subscriptions/s2",
            "{\"topic\":\"t\",\"target\":\"amqp://guest:guest@127.0.0.1:5672/%2F\"}");
    assertThat(noExchange.statusCode()).isEqualTo(400);
    assertThat(noExchange.body()).contains("\"field\":\"target\"").containsIgnoringCase("exchange");
    HttpResponse<String> farAway =
        send(
            "PUT",
            "/api/v1/subscriptions/s3",
            "{\"topic\":\"t\",\"target\":\"nats://10.1.2.3:4222/orders\"}");
    assertThat(farAway.statusCode()).isEqualTo(400);
    assertThat(farAway.body()).contains("not on the coordinator's allow-list");
  }

  private void commitMessage(String gid) throws Exception {
    coordinator.commitMessage(gid, "orders", "order-7", "{\"orderId\":7}");
  }

  private int put(String name, String body) throws Exception {
    HttpResponse<String> response = send("PUT", "/api/v1/subscriptions/" + name, body);
    assertThat(response.statusCode()).as(response.body()).isEqualTo(200);
    return response.statusCode();
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    return coordinator.send(method, path, body);
  }
}
