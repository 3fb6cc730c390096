package dev.pledge.server.tracing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import com.rabbitmq.client.Channel;
import com.rabbitmq.client.ConnectionFactory;
import dev.pledge.broker.nats.NatsConsumer;
import dev.pledge.broker.nats.NatsConsumerConfig;
import dev.pledge.broker.nats.NatsTarget;
import dev.pledge.broker.rabbitmq.AmqpTarget;
import dev.pledge.broker.rabbitmq.RabbitMqConsumer;
import dev.pledge.broker.rabbitmq.RabbitMqConsumerConfig;
import dev.pledge.core.Limits;
import dev.pledge.core.RetryPolicy;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.engine.Engine;
import dev.pledge.core.runtime.RuntimeConfig;
import dev.pledge.server.api.Api;
import dev.pledge.server.http.HttpApiServer;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.BrokerSinks;
import dev.pledge.server.runtime.DeliveryRouter;
import dev.pledge.server.runtime.HttpEffects;
import dev.pledge.server.runtime.LongPolls;
import dev.pledge.server.runtime.ServerRuntime;
import dev.pledge.server.runtime.Subscriptions;
import dev.pledge.testkit.InMemoryAuditLog;
import dev.pledge.testkit.InMemorySubscriptionStore;
import dev.pledge.testkit.InMemoryTransactionLog;
import io.nats.client.Connection;
import io.nats.client.JetStreamApiException;
import io.nats.client.Nats;
import io.opentelemetry.api.trace.Span;
import io.opentelemetry.api.trace.SpanKind;
import io.opentelemetry.api.trace.Tracer;
import io.opentelemetry.api.trace.propagation.W3CTraceContextPropagator;
import io.opentelemetry.context.Context;
import io.opentelemetry.context.propagation.ContextPropagators;
import io.opentelemetry.context.propagation.TextMapGetter;
import io.opentelemetry.sdk.OpenTelemetrySdk;
import io.opentelemetry.sdk.testing.exporter.InMemorySpanExporter;
import io.opentelemetry.sdk.trace.SdkTracerProvider;
import io.opentelemetry.sdk.trace.data.SpanData;
import io.opentelemetry.sdk.trace.export.SimpleSpanProcessor;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInfo;

/**
 * One trace across a broker: a msg transaction committed through the real HTTP API is delivered by
 * the coordinator to the real RabbitMQ (an {@code amqp://} subscription) or NATS JetStream (a
 * {@code nats://} subscription) on this machine, and read back by Pledge's own consumer adapter
 * ({@link RabbitMqConsumer}, {@link NatsConsumer}). The consumer continues the trace the way a
 * service would: it extracts the W3C {@code traceparent} from the message's headers and opens a
 * consumer span under it. That span must be in the transaction's trace, a child of the
 * coordinator's producer span for that very delivery, whose parent is the transaction's span.
 *
 * <p>Names are this run's own (exchange, queues, streams, durable), and everything the test or the
 * consumers declared is deleted afterwards. The consumer declares its exchange durable, as the
 * coordinator's sink does, so the two agree.
 */
class BrokerTracingTest {
  private static final RetryPolicy FAST =
      new RetryPolicy(
          Duration.ofMillis(20), Duration.ofMillis(200), 2.0, 0.2, Duration.ofSeconds(5), 10);
  private static final Duration WAIT = Duration.ofSeconds(30);
  private static final TextMapGetter<Map<String, String>> HEADERS =
      new TextMapGetter<>() {
        @Override
        public Iterable<String> keys(Map<String, String> carrier) {
          return carrier.keySet();
        }

        @Override
        public String get(Map<String, String> carrier, String key) {
          return carrier == null ? null : carrier.get(key);
        }
      };

  private final InMemorySpanExporter exported = InMemorySpanExporter.create();
  private final List<TransactionalMessage> consumed = new CopyOnWriteArrayList<>();
  private final HttpClient http = HttpClient.newHttpClient();
  private final String run = UUID.randomUUID().toString().substring(0, 8);
  private OpenTelemetrySdk sdk;
  private Tracing tracing;
  private Tracer consumerTracer;
  private BrokerSinks brokers;
  private ServerRuntime runtime;
  private HttpApiServer server;
  private String api;
  private String gid;

  @BeforeEach
  void start(TestInfo test) throws Exception {
    gid = test.getTestMethod().orElseThrow().getName() + "-" + run;
    sdk =
        OpenTelemetrySdk.builder()
            .setTracerProvider(
                SdkTracerProvider.builder()
                    .addSpanProcessor(SimpleSpanProcessor.create(exported))
                    .build())
            .setPropagators(ContextPropagators.create(W3CTraceContextPropagator.getInstance()))
            .build();
    tracing = Tracing.with(sdk, 1000);
    consumerTracer = sdk.getTracer("a consuming service");
    brokers = BrokerSinks.discover();
    AllowList allowList = AllowList.loopbackOnly();
    InMemoryTransactionLog log = new InMemoryTransactionLog();
    Subscriptions subscriptions = new Subscriptions(new InMemorySubscriptionStore());
    runtime =
        ServerRuntime.start(
            RuntimeConfig.defaults(FAST.callTimeout()).withPollInterval(Duration.ofMillis(50)),
            new Engine(Limits.DEFAULT, FAST),
            log,
            tracing.transport(
                new DeliveryRouter(
                    new HttpEffects(FAST.callTimeout(), allowList, tracing.outgoingHeaders()),
                    brokers,
                    allowList)),
            subscriptions,
            LongPolls.DEFAULT_MAX_WAITERS,
            List.of(tracing.listener()));
    server =
        HttpApiServer.start(
            new InetSocketAddress(InetAddress.getLoopbackAddress(), 0),
            new Api(
                runtime,
                log,
                Limits.DEFAULT,
                subscriptions,
                allowList,
                new InMemoryAuditLog(),
                () -> "generated"),
            HttpApiServer.MAX_CONCURRENT_REQUESTS,
            null,
            tracing);
    api = "http://127.0.0.1:" + server.port() + "/api/v1";
  }

  @AfterEach
  void stop() {
    server.close();
    runtime.close();
    brokers.close();
    sdk.close();
  }

  @Test
  void rabbitMq_theConsumersSpanContinuesTheDeliverysTrace() throws Exception {
    String exchange = "pledge-trace-" + run;
    String queue = "pledge-trace-" + run;
    String target = "amqp://guest:guest@127.0.0.1:5672/%2F?exchange=" + exchange;
    AmqpTarget amqp = AmqpTarget.parse(URI.create(target));
    RabbitMqConsumerConfig config =
        RabbitMqConsumerConfig.of(queue).withBindingKeys(List.of("orders"));
    try (RabbitMqConsumer consumer = RabbitMqConsumer.start(amqp, config, this::consume)) {
      subscribe("traced-amqp", target);
      commitMessage();

      assertOneTraceFromProducerToConsumer();
    } finally {
      ConnectionFactory factory = new ConnectionFactory();
      factory.setHost("127.0.0.1");
      factory.setPort(5672);
      try (com.rabbitmq.client.Connection connection = factory.newConnection();
          Channel channel = connection.createChannel()) {
        channel.queueDelete(queue);
        channel.queueDelete(config.deadLetterQueue());
        channel.exchangeDelete(exchange);
        channel.exchangeDelete(RabbitMqConsumer.deadLetterExchange(amqp));
      }
    }
  }

  @Test
  void nats_theConsumersSpanContinuesTheDeliverysTrace() throws Exception {
    String subject = "pledge.trace." + run;
    String stream = "pledge-trace-" + run;
    NatsTarget nats = NatsTarget.parse(URI.create("nats://127.0.0.1:4222/" + subject));
    try (NatsConsumer consumer =
        NatsConsumer.start(nats, NatsConsumerConfig.of(stream, "traced-" + run), this::consume)) {
      subscribe("traced-nats", "nats://127.0.0.1:4222/" + subject);
      commitMessage();

      assertOneTraceFromProducerToConsumer();
    } finally {
      try (Connection connection = Nats.connect("nats://127.0.0.1:4222")) {
        for (String name : List.of(stream, stream + "_dead")) {
          try {
            connection.jetStreamManagement().deleteStream(name);
          } catch (JetStreamApiException e) {
            // not created: nothing to delete
          }
        }
      }
    }
  }

  /** What a consuming service does with a message: continue its trace in a span of its own. */
  private void consume(TransactionalMessage message) {
    Context parent =
        W3CTraceContextPropagator.getInstance().extract(Context.root(), message.headers(), HEADERS);
    Span span =
        consumerTracer
            .spanBuilder("consume " + message.topic())
            .setParent(parent)
            .setSpanKind(SpanKind.CONSUMER)
            .setAttribute(TransactionSpans.GID, message.gid())
            .startSpan();
    consumed.add(message);
    span.end();
  }

  private void assertOneTraceFromProducerToConsumer() {
    await()
        .atMost(WAIT)
        .until(() ->
            !spansOf(SpanKind.CONSUMER).isEmpty()
                && !spansOf(SpanKind.INTERNAL).isEmpty()
                && tracing.openTransactions() == 0);
    SpanData transaction = spansOf(SpanKind.INTERNAL).get(0);
    List<SpanData> producers = spansOf(SpanKind.PRODUCER);
    List<SpanData> consumers = spansOf(SpanKind.CONSUMER);
    assertThat(spansOf(SpanKind.INTERNAL)).hasSize(1);
    assertThat(producers)
        .as("one delivery span: the broker took the first attempt")
        .singleElement()
        .satisfies(producer -> {
          assertThat(producer.getName()).isEqualTo("pledge deliver orders");
          assertThat(producer.getTraceId()).isEqualTo(transaction.getTraceId());
          assertThat(producer.getParentSpanId()).isEqualTo(transaction.getSpanId());
        });
    assertThat(consumed).isNotEmpty();
    assertThat(consumed.get(0).headers().get("traceparent"))
        .as("the traceparent the message carried through the broker")
        .isEqualTo(
            "00-"
                + producers.get(0).getTraceId()
                + "-"
                + producers.get(0).getSpanId()
                + "-"
                + producers.get(0).getSpanContext().getTraceFlags().asHex());
    assertThat(consumers)
        .allSatisfy(consumer -> {
          assertThat(consumer.getTraceId()).isEqualTo(transaction.getTraceId());
          assertThat(consumer.getParentSpanId()).isEqualTo(producers.get(0).getSpanId());
          assertThat(consumer.getParentSpanContext().isRemote()).isTrue();
        });
  }

  private List<SpanData> spansOf(SpanKind kind) {
    return exported.getFinishedSpanItems().stream()
        .filter(s -> gid.equals(s.getAttributes().get(TransactionSpans.GID)))
        .filter(s -> s.getKind() == kind)
        .toList();
  }

  private void subscribe(String name, String target) throws Exception {
    HttpResponse<String> answer =
        send(
            "PUT",
            "/subscriptions/" + name,
            "{\"topic\":\"orders\",\"target\":\"" + target + "\"}");
    assertThat(answer.statusCode()).as(answer.body()).isEqualTo(200);
  }

  private void commitMessage() throws Exception {
    HttpResponse<String> created =
        send(
            "POST",
            "/transactions",
            "{\"gid\":\""
                + gid
                + "\",\"mode\":\"msg\",\"checkUrl\":\"http://127.0.0.1:1/check\","
                + "\"messages\":[{\"topic\":\"orders\",\"key\":\"order-7\","
                + "\"payload\":{\"orderId\":7}}]}");
    assertThat(created.statusCode()).as(created.body()).isEqualTo(201);
    HttpResponse<String> committed = send("POST", "/transactions/" + gid + "/commit", "");
    assertThat(committed.statusCode()).as(committed.body()).isEqualTo(200);
  }

  private HttpResponse<String> send(String method, String path, String body) throws Exception {
    return http.send(
        HttpRequest.newBuilder(URI.create(api + path))
            .header("Content-Type", "application/json")
            .method(method, HttpRequest.BodyPublishers.ofString(body))
            .build(),
        HttpResponse.BodyHandlers.ofString());
  }
}
