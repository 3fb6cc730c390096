package dev.pledge.bench.brokers;

import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import dev.pledge.broker.kafka.KafkaSinkProvider;
import dev.pledge.broker.nats.NatsSinkProvider;
import dev.pledge.broker.rabbitmq.RabbitMqSinkProvider;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.example.shop.InJvmKafka;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.JetStreamManagement;
import io.nats.client.Nats;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.Callable;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.HdrHistogram.ConcurrentHistogram;
import org.HdrHistogram.Histogram;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.serialization.ByteArraySerializer;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code pledge bench brokers}: each broker sink's confirmed publishes per second against the raw
 * rate of the broker's official client with the same durability, measured in the same run,
 * alternating so that load drifts hit both: RabbitMQ persistent messages to a durable queue with
 * publisher confirms; NATS JetStream publishes to a file stream, each acknowledged. Both sides keep
 * the same number of publishes in flight ({@code --window}). Prints a Markdown table with the
 * ratio, the publish-to-acknowledgement p50 and p99 and the load average. A third run, keyed,
 * measures what order per key costs: the same sink with {@code --keys} keys, each key's next
 * publish sent only after the previous one's acknowledgement. Kafka runs as one KRaft broker inside
 * this JVM (no Kafka server runs on this machine): the official producer with {@code acks=all} and
 * idempotence against the Kafka sink.
 */
@Command(
    name = "brokers",
    mixinStandardHelpOptions = true,
    description =
        "Broker sinks (RabbitMQ, NATS JetStream, Kafka in this JVM) against the official"
            + " client's raw acknowledged publish rate, and with order per key, measured in the"
            + " same run.")
public final class BrokerBench implements Callable<Integer> {
  @Option(names = "--messages", defaultValue = "20000", description = "Messages per measurement.")
  int messages;

  @Option(names = "--window", defaultValue = "256", description = "Publishes in flight.")
  int window;

  @Option(names = "--rounds", defaultValue = "3", description = "Alternating rounds.")
  int rounds;

  @Option(names = "--payload-bytes", defaultValue = "256", description = "Payload size.")
  int payloadBytes;

  @Option(
      names = "--keys",
      defaultValue = "64",
      description =
          "Keys of the keyed run: order per key as the relay and the coordinator keep it, each"
              + " key's next publish only after the previous one's acknowledgement.")
  int keys;

  private String payload;

  @Override
  public Integer call() throws Exception {
    if (messages < 1 || window < 1 || rounds < 1 || payloadBytes < 2 || keys < 1) {
      throw new IllegalArgumentException("--messages, --window, --rounds, --keys must be positive");
    }
    payload = "\"" + "x".repeat(payloadBytes - 2) + "\"";
    String loadBefore = loadAverage();
    List<String> rows = new ArrayList<>();
    rows.add(rabbit());
    rows.add(nats());
    rows.add(kafka());
    System.out.printf(
        Locale.ROOT,
        "%n| broker | raw publishes/s | sink publishes/s | sink / raw | keyed publishes/s (%d keys)"
            + " | keyed / raw | raw p50 / p99 ms | sink p50 / p99 ms | keyed p50 / p99 ms |"
            + "%n|---|---|---|---|---|---|---|---|---|%n",
        keys);
    rows.forEach(System.out::println);
    System.out.printf(
        Locale.ROOT,
        "%n%d messages of %d bytes per measurement, window %d, %d alternating rounds (median);"
            + " load average before %s, after %s; %d processors.%n",
        messages,
        payloadBytes,
        window,
        rounds,
        loadBefore,
        loadAverage(),
        Runtime.getRuntime().availableProcessors());
    return 0;
  }

  private String rabbit() throws Exception {
    String exchange = "pledge-bench-" + Long.toString(System.nanoTime(), 36);
    ConnectionFactory factory = new ConnectionFactory();
    factory.setHost("127.0.0.1");
    factory.setUsername("guest");
    factory.setPassword("guest");
    try (com.rabbitmq.client.Connection connection = factory.newConnection("pledge bench raw");
        Channel admin = connection.createChannel()) {
      admin.exchangeDeclare(exchange, BuiltinExchangeType.TOPIC, true);
      admin.queueDeclare(exchange, true, false, false, null);
      admin.queueBind(exchange, exchange, "#");
      Channel raw = connection.createChannel();
      raw.confirmSelect();
      ConcurrentSkipListMap<Long, Long> outstanding = new ConcurrentSkipListMap<>();
      Semaphore rawWindow = new Semaphore(window);
      ConcurrentHistogram rawLatency = new ConcurrentHistogram(3);
      raw.addConfirmListener(
          (seq, multiple) -> confirm(outstanding, rawWindow, rawLatency, seq, multiple),
          (seq, multiple) -> confirm(outstanding, rawWindow, rawLatency, seq, multiple));
      byte[] body = payload.getBytes(StandardCharsets.UTF_8);
      com.rabbitmq.client.AMQP.BasicProperties persistent =
          new com.rabbitmq.client.AMQP.BasicProperties.Builder()
              .deliveryMode(2)
              .contentType("application/json")
              .build();
      Measure rawRun =
          n -> {
            for (int i = 0; i < n; i++) {
              rawWindow.acquire();
              long seq = raw.getNextPublishSeqNo();
              outstanding.put(seq, System.nanoTime());
              raw.basicPublish(exchange, "bench", persistent, body);
            }
            rawWindow.acquire(window);
            rawWindow.release(window);
          };
      URI target = URI.create("amqp://guest:guest@127.0.0.1:5672/%2F?exchange=" + exchange);
      try (MessageSink sink = new RabbitMqSinkProvider().open(target)) {
        String row = compare("RabbitMQ (persistent, confirms)", rawRun, rawLatency, sink);
        admin.queueDelete(exchange);
        admin.exchangeDelete(exchange);
        return row;
      }
    }
  }

  private static void confirm(
      ConcurrentSkipListMap<Long, Long> outstanding,
      Semaphore window,
      Histogram latency,
      long seq,
      boolean multiple) {
    long now = System.nanoTime();
    if (multiple) {
      Map<Long, Long> head = outstanding.headMap(seq, true);
      int count = 0;
      for (Long start : head.values()) {
        latency.recordValue(Math.max(1, (now - start) / 1000));
        count++;
      }
      head.clear();
      window.release(count);
    } else {
      Long start = outstanding.remove(seq);
      if (start != null) {
        latency.recordValue(Math.max(1, (now - start) / 1000));
        window.release();
      }
    }
  }

  private String nats() throws Exception {
    String subject = "pledge-bench-" + Long.toString(System.nanoTime(), 36);
    try (Connection connection = Nats.connect("nats://127.0.0.1:4222")) {
      JetStreamManagement management = connection.jetStreamManagement();
      management.addStream(
          StreamConfiguration.builder()
              .name(subject)
              .subjects(subject)
              .storageType(StorageType.File)
              .build());
      JetStream js = connection.jetStream();
      byte[] data = payload.getBytes(StandardCharsets.UTF_8);
      ConcurrentHistogram rawLatency = new ConcurrentHistogram(3);
      Semaphore rawWindow = new Semaphore(window);
      long[] counter = {0};
      Measure rawRun =
          n -> {
            for (int i = 0; i < n; i++) {
              rawWindow.acquire();
              long start = System.nanoTime();
              Headers headers = new Headers();
              headers.put("Nats-Msg-Id", "raw-" + counter[0]++);
              js.publishAsync(subject, headers, data)
                  .whenComplete((ack, failure) -> {
                    rawLatency.recordValue(Math.max(1, (System.nanoTime() - start) / 1000));
                    rawWindow.release();
                  });
            }
            rawWindow.acquire(window);
            rawWindow.release(window);
          };
      try (MessageSink sink =
          new NatsSinkProvider().open(URI.create("nats://127.0.0.1:4222/" + subject))) {
        String row = compare("NATS JetStream (file stream, ack)", rawRun, rawLatency, sink);
        management.deleteStream(subject);
        return row;
      }
    }
  }

  /**
   * Kafka: one KRaft broker inside this JVM (the demo's, {@link InJvmKafka}: no Kafka server runs
   * on this machine), its log flushed on every message; a topic of 3 partitions. Raw: the official
   * producer with the sink's durability ({@code acks=all}, idempotent, 5 requests in flight, the
   * sink's 5 ms linger), keyed like the sink's messages. The broker shares this JVM's CPU with both
   * sides alike.
   */
  private String kafka() throws Exception {
    String topic = "pledge-bench-" + Long.toString(System.nanoTime(), 36);
    Path folder = Files.createTempDirectory("pledge-bench-kafka-");
    try (InJvmKafka kafka = InJvmKafka.start(folder)) {
      kafka.createTopic(topic, 3);
      Properties properties = new Properties();
      properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, "127.0.0.1:" + kafka.port());
      properties.put(ProducerConfig.ACKS_CONFIG, "all");
      properties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
      properties.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
      properties.put(ProducerConfig.LINGER_MS_CONFIG, 5);
      byte[] data = payload.getBytes(StandardCharsets.UTF_8);
      ConcurrentHistogram rawLatency = new ConcurrentHistogram(3);
      Semaphore rawWindow = new Semaphore(window);
      try (KafkaProducer<byte[], byte[]> producer =
          new KafkaProducer<>(properties, new ByteArraySerializer(), new ByteArraySerializer())) {
        Measure rawRun =
            n -> {
              for (int i = 0; i < n; i++) {
                rawWindow.acquire();
                long start = System.nanoTime();
                byte[] key = ("k" + (i % 64)).getBytes(StandardCharsets.UTF_8);
                producer.send(
                    new ProducerRecord<>(topic, key, data),
                    (metadata, failure) -> {
                      rawLatency.recordValue(Math.max(1, (System.nanoTime() - start) / 1000));
                      rawWindow.release();
                    });
              }
              rawWindow.acquire(window);
              rawWindow.release(window);
            };
        try (MessageSink sink =
            new KafkaSinkProvider()
                .open(URI.create("kafka://127.0.0.1:" + kafka.port() + "/" + topic))) {
          return compare("Kafka (acks=all, idempotent; in-JVM broker)", rawRun, rawLatency, sink);
        }
      }
    } finally {
      try (Stream<Path> paths = Files.walk(folder)) {
        paths.sorted(Comparator.reverseOrder()).forEach(path -> path.toFile().delete());
      }
    }
  }

  /** One publish run of {@code n} messages that returns once every one was acknowledged. */
  @FunctionalInterface
  private interface Measure {
    void run(int n) throws Exception;
  }

  private String compare(String name, Measure raw, ConcurrentHistogram rawLatency, MessageSink sink)
      throws Exception {
    ConcurrentHistogram sinkLatency = new ConcurrentHistogram(3);
    Semaphore sinkWindow = new Semaphore(window);
    long[] ids = {0};
    Measure viaSink =
        n -> {
          for (int i = 0; i < n; i++) {
            sinkWindow.acquire();
            long start = System.nanoTime();
            TransactionalMessage m =
                new TransactionalMessage(
                    "bench-" + ids[0]++, "bench", "k" + (i % 64), payload, null, "bench:1");
            CompletableFuture<Void> ack = sink.publish(m);
            ack.whenComplete((v, failure) -> {
              if (failure != null) {
                throw new IllegalStateException("a benchmark publish failed", failure);
              }
              sinkLatency.recordValue(Math.max(1, (System.nanoTime() - start) / 1000));
              sinkWindow.release();
            });
          }
          if (!sinkWindow.tryAcquire(window, 120, TimeUnit.SECONDS)) {
            throw new IllegalStateException("sink publishes not acknowledged in 120 s");
          }
          sinkWindow.release(window);
        };
    ConcurrentHistogram keyedLatency = new ConcurrentHistogram(3);
    Measure keyed = n -> keyedRun(sink, n, ids, keyedLatency);
    // Warm-up, unmeasured.
    raw.run(Math.min(2000, messages));
    viaSink.run(Math.min(2000, messages));
    keyed.run(Math.min(2000, messages));
    rawLatency.reset();
    sinkLatency.reset();
    keyedLatency.reset();
    List<Double> rawRates = new ArrayList<>();
    List<Double> sinkRates = new ArrayList<>();
    List<Double> keyedRates = new ArrayList<>();
    for (int round = 0; round < rounds; round++) {
      rawRates.add(rate(raw));
      sinkRates.add(rate(viaSink));
      keyedRates.add(rate(keyed));
    }
    double rawRate = median(rawRates);
    double sinkRate = median(sinkRates);
    double keyedRate = median(keyedRates);
    return String.format(
        Locale.ROOT,
        "| %s | %.0f | %.0f | %.2f | %.0f | %.2f | %.1f / %.1f | %.1f / %.1f | %.1f / %.1f |",
        name,
        rawRate,
        sinkRate,
        sinkRate / rawRate,
        keyedRate,
        keyedRate / rawRate,
        rawLatency.getValueAtPercentile(50) / 1000.0,
        rawLatency.getValueAtPercentile(99) / 1000.0,
        sinkLatency.getValueAtPercentile(50) / 1000.0,
        sinkLatency.getValueAtPercentile(99) / 1000.0,
        keyedLatency.getValueAtPercentile(50) / 1000.0,
        keyedLatency.getValueAtPercentile(99) / 1000.0);
  }

  /**
   * {@code n} messages on {@link #keys} keys through the sink with order per key: one publish of a
   * key in flight at a time, the key's next one sent from the previous one's acknowledgement (what
   * the outbox relay and the coordinator's per-key queues do). At most {@code keys} in flight.
   */
  private void keyedRun(MessageSink sink, int n, long[] ids, Histogram latency) throws Exception {
    java.util.concurrent.CountDownLatch done = new java.util.concurrent.CountDownLatch(keys);
    java.util.concurrent.atomic.AtomicReference<Throwable> failed =
        new java.util.concurrent.atomic.AtomicReference<>();
    long first = ids[0];
    ids[0] += n;
    for (int key = 0; key < keys; key++) {
      int count = n / keys + (key < n % keys ? 1 : 0);
      publishKeyed(sink, "key-" + key, first + key, count, done, failed, latency);
    }
    if (!done.await(300, TimeUnit.SECONDS)) {
      throw new IllegalStateException("keyed publishes not acknowledged in 300 s");
    }
    if (failed.get() != null) {
      throw new IllegalStateException("a benchmark publish failed", failed.get());
    }
  }

  private void publishKeyed(
      MessageSink sink,
      String key,
      long id,
      int left,
      java.util.concurrent.CountDownLatch done,
      java.util.concurrent.atomic.AtomicReference<Throwable> failed,
      Histogram latency) {
    if (left == 0 || failed.get() != null) {
      done.countDown();
      return;
    }
    long start = System.nanoTime();
    TransactionalMessage m =
        new TransactionalMessage("bench-" + id, "bench", key, payload, null, "bench:1");
    sink.publish(m)
        .whenComplete((v, failure) -> {
          if (failure != null) {
            failed.compareAndSet(null, failure);
            done.countDown();
            return;
          }
          latency.recordValue(Math.max(1, (System.nanoTime() - start) / 1000));
          publishKeyed(sink, key, id + keys, left - 1, done, failed, latency);
        });
  }

  private double rate(Measure measure) throws Exception {
    long start = System.nanoTime();
    measure.run(messages);
    double seconds = Duration.ofNanos(System.nanoTime() - start).toNanos() / 1e9;
    return messages / seconds;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }

  private static String loadAverage() {
    double load = ManagementFactory.getOperatingSystemMXBean().getSystemLoadAverage();
    return load < 0 ? "n/a" : String.format(Locale.ROOT, "%.2f", load);
  }
}
