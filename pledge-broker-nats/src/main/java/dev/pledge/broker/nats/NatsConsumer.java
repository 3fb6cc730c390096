package dev.pledge.broker.nats;

import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageHandler;
import io.nats.client.Connection;
import io.nats.client.ConsumerContext;
import io.nats.client.IterableConsumer;
import io.nats.client.JetStream;
import io.nats.client.JetStreamApiException;
import io.nats.client.JetStreamManagement;
import io.nats.client.JetStreamStatusCheckedException;
import io.nats.client.Message;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.api.AckPolicy;
import io.nats.client.api.ConsumerConfiguration;
import io.nats.client.api.DeliverPolicy;
import io.nats.client.api.StorageType;
import io.nats.client.api.StreamConfiguration;
import io.nats.client.impl.Headers;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Duration;
import java.util.Objects;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Feeds the messages of a JetStream subject to a {@link MessageHandler} (usually the SDK's inbox)
 * through a durable pull consumer with explicit acknowledgement, on a thread of its own.
 *
 * <p>Topology, created when absent: a stream capturing the subject (and one capturing the
 * dead-letter subject {@code <subject>.dead}), and the durable consumer, filtered on the subject,
 * with {@code AckPolicy.Explicit}, {@code MaxAckPending} and {@code MaxDeliver} = {@link
 * NatsConsumerConfig#maxDeliveries()} + 1.
 *
 * <p>Each message is acknowledged (and the acknowledgement confirmed by the server) only after the
 * handler returned; a consumer that dies before that has the message again after {@code AckWait},
 * and the inbox drops the duplicate. A handler that throws has the message handed back with a delay
 * ({@code nak}); on its {@link NatsConsumerConfig#maxDeliveries()}-th failed delivery the message
 * is published to the dead-letter subject (with its headers, plus {@code pledge-dead-reason} and
 * {@code pledge-deliveries}), and only once JetStream acknowledged that is it terminated ({@code
 * term}). The extra server-side delivery in {@code MaxDeliver} is for a consumer that died during
 * the last one: the next delivery dead-letters the message without running the handler, so nothing
 * is stranded. An undecodable message is dead-lettered at once.
 */
public final class NatsConsumer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(NatsConsumer.class);
  private static final Duration NEXT_WAIT = Duration.ofMillis(500);
  private static final Duration ACK_CONFIRM = Duration.ofSeconds(5);

  private final NatsTarget target;
  private final NatsConsumerConfig config;
  private final MessageHandler handler;
  private final Connection connection;
  private final JetStream jetStream;
  private final IterableConsumer messages;
  private final Thread thread;
  private volatile boolean running = true;

  private NatsConsumer(
      NatsTarget target,
      NatsConsumerConfig config,
      MessageHandler handler,
      Connection connection,
      IterableConsumer messages)
      throws IOException {
    this.target = target;
    this.config = config;
    this.handler = handler;
    this.connection = connection;
    this.jetStream = connection.jetStream();
    this.messages = messages;
    this.thread =
        Thread.ofPlatform().name("pledge-nats-consumer-" + config.durable()).unstarted(this::run);
  }

  /**
   * Creates what is absent, then consumes until closed.
   *
   * @throws UncheckedIOException when the server cannot be reached or refuses the topology
   */
  public static NatsConsumer start(
      NatsTarget target, NatsConsumerConfig config, MessageHandler handler) {
    Objects.requireNonNull(target, "target");
    Objects.requireNonNull(config, "config");
    Objects.requireNonNull(handler, "handler");
    Connection connection = null;
    try {
      connection =
          Nats.connect(
              Options.builder()
                  .server(target.server())
                  .connectionName("pledge consumer " + config.durable())
                  .connectionTimeout(Duration.ofSeconds(5))
                  .maxReconnects(-1)
                  .reconnectWait(Duration.ofMillis(200))
                  .build());
      JetStreamManagement management = connection.jetStreamManagement();
      ensureStream(management, config.stream(), target.subject());
      ensureStream(management, config.stream() + "_dead", deadLetterSubject(target));
      management.addOrUpdateConsumer(
          config.stream(),
          ConsumerConfiguration.builder()
              .durable(config.durable())
              .filterSubject(target.subject())
              .ackPolicy(AckPolicy.Explicit)
              .deliverPolicy(DeliverPolicy.All)
              .maxDeliver(config.maxDeliveries() + 1L)
              .maxAckPending(config.maxAckPending())
              .ackWait(config.ackWait())
              .build());
      ConsumerContext context = connection.getConsumerContext(config.stream(), config.durable());
      NatsConsumer consumer =
          new NatsConsumer(target, config, handler, connection, context.iterate());
      consumer.thread.start();
      log.info("consuming {} as {}", target.toUri(), config.durable());
      return consumer;
    } catch (IOException | JetStreamApiException e) {
      closeQuietly(connection);
      throw new UncheckedIOException(
          new IOException("cannot consume " + target.toUri() + ": " + e.getMessage(), e));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closeQuietly(connection);
      throw new IllegalStateException("interrupted while connecting to " + target.server(), e);
    }
  }

  /** The subject dead letters of {@code target} go to: {@code <subject>.dead}. */
  public static String deadLetterSubject(NatsTarget target) {
    return target.subject() + ".dead";
  }

  /** Adds a stream capturing {@code subject} unless one already does. */
  private static void ensureStream(JetStreamManagement management, String name, String subject)
      throws IOException, JetStreamApiException {
    if (!management.getStreamNames(subject).isEmpty()) {
      return;
    }
    management.addStream(
        StreamConfiguration.builder()
            .name(name)
            .subjects(subject)
            .storageType(StorageType.File)
            .duplicateWindow(Duration.ofMinutes(2))
            .build());
  }

  private void run() {
    try {
      while (running) {
        Message message = messages.nextMessage(NEXT_WAIT);
        if (message != null) {
          handle(message);
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } catch (JetStreamStatusCheckedException | RuntimeException e) {
      if (running) {
        log.error("consumer {} of {} stopped", config.durable(), target.toUri(), e);
      }
    }
  }

  private void handle(Message message) throws InterruptedException {
    long delivered = message.metaData().deliveredCount();
    TransactionalMessage decoded;
    try {
      decoded = NatsHeaders.decode(message.getHeaders(), message.getData());
    } catch (IllegalArgumentException e) {
      log.error("undecodable message on {}: {}", message.getSubject(), e.getMessage());
      deadLetter(message, "undecodable: " + e.getMessage(), delivered);
      return;
    }
    if (delivered > config.maxDeliveries()) {
      // A consumer died during the last allowed delivery; do not run the handler again.
      deadLetter(message, "delivered more than " + config.maxDeliveries() + " times", delivered);
      return;
    }
    try {
      handler.handle(decoded);
    } catch (RuntimeException e) {
      log.warn(
          "handler failed on {} from {} (delivery {} of at most {}): {}",
          decoded.id(),
          target.subject(),
          delivered,
          config.maxDeliveries(),
          e.toString());
      if (delivered >= config.maxDeliveries()) {
        deadLetter(message, e.toString(), delivered);
      } else {
        message.nakWithDelay(config.retryDelay());
      }
      return;
    }
    try {
      message.ackSync(ACK_CONFIRM);
    } catch (TimeoutException e) {
      // The server may not have the acknowledgement: it delivers again, the inbox absorbs it.
      log.warn("acknowledgement of {} not confirmed: {}", decoded.id(), e.toString());
    }
  }

  private void deadLetter(Message message, String reason, long delivered) {
    Headers headers = new Headers(message.getHeaders());
    headers.put("pledge-dead-reason", NatsHeaders.encode(abbreviate(reason)));
    headers.put("pledge-deliveries", Long.toString(delivered));
    try {
      jetStream.publish(deadLetterSubject(target), headers, message.getData());
      message.term();
      log.warn("message on {} dead-lettered to {}", target.subject(), deadLetterSubject(target));
    } catch (IOException | JetStreamApiException e) {
      // Not terminated: the server delivers it again (MaxDeliver leaves one more) and the next
      // delivery tries the dead letter again.
      log.error("cannot dead-letter a message of {}: {}", target.subject(), e.toString());
      message.nakWithDelay(config.retryDelay());
    }
  }

  private static String abbreviate(String text) {
    return text.length() <= 512 ? text : text.substring(0, 512);
  }

  /** Stops after the message in hand and closes the connection. */
  @Override
  public void close() {
    running = false;
    try {
      thread.join(10_000);
      messages.stop();
      connection.close();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  private static void closeQuietly(Connection connection) {
    if (connection != null) {
      try {
        connection.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
