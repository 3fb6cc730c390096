package dev.pledge.example.shop;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import kafka.server.KafkaConfig;
import kafka.server.KafkaRaftServer;
import org.apache.kafka.clients.admin.Admin;
import org.apache.kafka.clients.admin.AdminClientConfig;
import org.apache.kafka.clients.admin.NewTopic;
import org.apache.kafka.common.Uuid;
import org.apache.kafka.common.utils.Time;
import org.apache.kafka.metadata.storage.Formatter;
import org.apache.kafka.server.common.Feature;
import org.apache.kafka.server.common.MetadataVersion;

/**
 * One real Kafka broker (KRaft, broker and controller in one node, one replica) inside this JVM, as
 * pledge-broker-kafka's tests run it: no Kafka is installed on this machine. Its log is flushed on
 * every message, so an acknowledgement ({@code acks=all}) means the record is on disk. Public for
 * pledge-server's tests of deliveries to {@code kafka://} targets.
 */
public final class InJvmKafka implements AutoCloseable {
  private final KafkaRaftServer server;
  private final int port;

  private InJvmKafka(KafkaRaftServer server, int port) {
    this.server = server;
    this.port = port;
  }

  /** Formats a data folder under {@code folder} and starts the broker there. */
  public static InJvmKafka start(Path folder) {
    try {
      Path dataDir = Files.createDirectories(folder.resolve("kafka"));
      int port = freePort();
      int controllerPort = freePort();
      Map<String, Object> props = new HashMap<>();
      props.put("process.roles", "broker,controller");
      props.put("node.id", "1");
      props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
      props.put(
          "listeners",
          "PLAINTEXT://127.0.0.1:" + port + ",CONTROLLER://127.0.0.1:" + controllerPort);
      props.put("advertised.listeners", "PLAINTEXT://127.0.0.1:" + port);
      props.put("listener.security.protocol.map", "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT");
      props.put("controller.listener.names", "CONTROLLER");
      props.put("inter.broker.listener.name", "PLAINTEXT");
      props.put("log.dirs", dataDir.toString());
      props.put("metadata.log.dir", dataDir.toString());
      props.put("num.partitions", "3");
      props.put("offsets.topic.replication.factor", "1");
      props.put("offsets.topic.num.partitions", "3");
      props.put("transaction.state.log.replication.factor", "1");
      props.put("transaction.state.log.min.isr", "1");
      props.put("share.coordinator.state.topic.replication.factor", "1");
      props.put("share.coordinator.state.topic.min.isr", "1");
      props.put("group.initial.rebalance.delay.ms", "0");
      props.put("min.insync.replicas", "1");
      props.put("auto.create.topics.enable", "true");
      props.put("log.flush.interval.messages", "1");
      KafkaConfig config = new KafkaConfig(props);
      new Formatter()
          // Its lines (bootstrap records, the folder formatted) are of no use to a demo's reader.
          .setPrintStream(new PrintStream(OutputStream.nullOutputStream(), false, UTF_8))
          .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
          .setNodeId(1)
          .setClusterId(Uuid.randomUuid().toString())
          .addDirectory(dataDir.toString())
          .setMetadataLogDirectory(dataDir.toString())
          .setReleaseVersion(MetadataVersion.latestProduction())
          .setControllerListenerName("CONTROLLER")
          .run();
      KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
      server.startup();
      return new InJvmKafka(server, port);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the in-JVM Kafka broker", e);
    } catch (Exception e) {
      throw new ShopException("cannot start the in-JVM Kafka broker: " + e, e);
    }
  }

  public int port() {
    return port;
  }

  public void createTopic(String topic, int partitions) {
    Properties properties = new Properties();
    properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + port);
    try (Admin admin = Admin.create(properties)) {
      admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
    } catch (ExecutionException e) {
      throw new ShopException("cannot create topic " + topic + ": " + e.getCause(), e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new ShopException("interrupted creating topic " + topic, e);
    }
  }

  @Override
  public void close() {
    server.shutdown();
    server.awaitShutdown();
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
