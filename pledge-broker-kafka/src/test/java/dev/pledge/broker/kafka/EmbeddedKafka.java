package dev.pledge.broker.kafka;

import dev.pledge.testkit.net.TcpProxy;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.ExecutionException;
import java.util.stream.Stream;
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
 * One real Kafka broker (KRaft, broker and controller in one node) inside the test JVM, started
 * once per module run and stopped when the JVM exits: no Kafka is installed on this machine.
 *
 * <p>Two client listeners: {@code DIRECT}, for consumers and administration, and {@code PROXIED},
 * which advertises the port of a {@link TcpProxy} in front of it, so that a sink bootstrapped there
 * reaches the broker only through the proxy, and a test can stall or cut that link without touching
 * the consumers.
 */
final class EmbeddedKafka {
  private static EmbeddedKafka instance;

  final TcpProxy proxy;
  final int directPort;
  private final KafkaRaftServer server;
  private final Path dataDir;

  private EmbeddedKafka(TcpProxy proxy, int directPort, KafkaRaftServer server, Path dataDir) {
    this.proxy = proxy;
    this.directPort = directPort;
    this.server = server;
    this.dataDir = dataDir;
  }

  /** The broker of this run, started on first use. */
  static synchronized EmbeddedKafka get() {
    if (instance == null) {
      instance = start();
      Runtime.getRuntime().addShutdownHook(new Thread(instance::stop, "embedded-kafka-stop"));
    }
    return instance;
  }

  /** {@code HOST:PORT} of the direct listener. */
  String direct() {
    return "127.0.0.1:" + directPort;
  }

  /** {@code HOST:PORT} of the proxied listener. */
  String proxied() {
    return proxy.host() + ":" + proxy.port();
  }

  Admin admin() {
    Properties properties = new Properties();
    properties.put(AdminClientConfig.BOOTSTRAP_SERVERS_CONFIG, direct());
    return Admin.create(properties);
  }

  void createTopic(String topic, int partitions) {
    try (Admin admin = admin()) {
      admin.createTopics(List.of(new NewTopic(topic, partitions, (short) 1))).all().get();
    } catch (ExecutionException e) {
      throw new IllegalStateException("cannot create topic " + topic, e.getCause());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  private static EmbeddedKafka start() {
    try {
      Path dataDir = Files.createTempDirectory("pledge-kafka-");
      int directPort = freePort();
      int proxiedPort = freePort();
      int controllerPort = freePort();
      TcpProxy proxy = TcpProxy.start("127.0.0.1", proxiedPort);
      String clusterId = Uuid.randomUuid().toString();
      Map<String, Object> props = new HashMap<>();
      props.put("process.roles", "broker,controller");
      props.put("node.id", "1");
      props.put("controller.quorum.voters", "1@127.0.0.1:" + controllerPort);
      props.put(
          "listeners",
          "DIRECT://127.0.0.1:"
              + directPort
              + ",PROXIED://127.0.0.1:"
              + proxiedPort
              + ",CONTROLLER://127.0.0.1:"
              + controllerPort);
      props.put(
          "advertised.listeners",
          "DIRECT://127.0.0.1:" + directPort + ",PROXIED://127.0.0.1:" + proxy.port());
      props.put(
          "listener.security.protocol.map",
          "DIRECT:PLAINTEXT,PROXIED:PLAINTEXT,CONTROLLER:PLAINTEXT");
      props.put("controller.listener.names", "CONTROLLER");
      props.put("inter.broker.listener.name", "DIRECT");
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
          .setPrintStream(System.out)
          .setSupportedFeatures(Feature.PRODUCTION_FEATURES)
          .setNodeId(1)
          .setClusterId(clusterId)
          .addDirectory(dataDir.toString())
          .setMetadataLogDirectory(dataDir.toString())
          .setReleaseVersion(MetadataVersion.latestProduction())
          .setControllerListenerName("CONTROLLER")
          .run();

      KafkaRaftServer server = new KafkaRaftServer(config, Time.SYSTEM);
      server.startup();
      return new EmbeddedKafka(proxy, directPort, server, dataDir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start the embedded Kafka broker", e);
    } catch (Exception e) {
      throw new IllegalStateException("cannot start the embedded Kafka broker", e);
    }
  }

  private void stop() {
    server.shutdown();
    server.awaitShutdown();
    proxy.close();
    try (Stream<Path> files = Files.walk(dataDir)) {
      files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // A temporary directory left behind is harmless.
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket socket = new ServerSocket(0, 1, InetAddress.getLoopbackAddress())) {
      return socket.getLocalPort();
    }
  }
}
