package dev.pledge.broker.kafka;

import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.core.spi.SinkRejectedException;
import dev.pledge.core.spi.SinkUnavailableException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Properties;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.errors.AuthorizationException;
import org.apache.kafka.common.errors.InvalidTopicException;
import org.apache.kafka.common.errors.RecordBatchTooLargeException;
import org.apache.kafka.common.errors.RecordTooLargeException;
import org.apache.kafka.common.serialization.ByteArraySerializer;

/**
 * Publishes to a Kafka topic with an idempotent producer and {@code acks=all}: a publish is
 * acknowledged once every in-sync replica has the record. The producer keeps order within a
 * partition (idempotence allows up to 5 requests in flight without reordering), and the record key
 * is the message's ordering key, so one key's messages land in one partition in publish order.
 *
 * <p>{@code KafkaProducer.send} can block (fetching metadata, a full buffer), so sends are handed
 * to one thread of the sink's own, in order; {@code publish} only counts the window and enqueues.
 * The producer retries by itself until {@link KafkaSinkConfig#ackTimeout()} ({@code
 * delivery.timeout.ms}); what fails then has an unknown outcome. A record over the size limits, a
 * bad topic or a refused authorization is rejected.
 */
final class KafkaSink implements MessageSink {
  private final KafkaTarget target;
  private final KafkaSinkConfig config;
  private final KafkaProducer<byte[], byte[]> producer;
  private final ExecutorService sender;
  private final Object lock = new Object();
  private final Set<CompletableFuture<Void>> inFlight = new LinkedHashSet<>();
  private boolean closed;

  KafkaSink(KafkaTarget target, KafkaSinkConfig config) {
    this.target = target;
    this.config = config;
    Properties properties = new Properties();
    properties.put(ProducerConfig.BOOTSTRAP_SERVERS_CONFIG, target.bootstrapServers());
    properties.put(ProducerConfig.ACKS_CONFIG, "all");
    properties.put(ProducerConfig.ENABLE_IDEMPOTENCE_CONFIG, true);
    properties.put(ProducerConfig.MAX_IN_FLIGHT_REQUESTS_PER_CONNECTION, 5);
    properties.put(ProducerConfig.RETRIES_CONFIG, Integer.MAX_VALUE);
    int deliveryTimeoutMillis = Math.toIntExact(config.ackTimeout().toMillis());
    int lingerMillis = Math.toIntExact(config.linger().toMillis());
    properties.put(ProducerConfig.DELIVERY_TIMEOUT_MS_CONFIG, deliveryTimeoutMillis);
    properties.put(
        ProducerConfig.REQUEST_TIMEOUT_MS_CONFIG,
        Math.max(1_000, deliveryTimeoutMillis / 2 - lingerMillis));
    properties.put(ProducerConfig.MAX_BLOCK_MS_CONFIG, deliveryTimeoutMillis);
    properties.put(ProducerConfig.LINGER_MS_CONFIG, lingerMillis);
    properties.put(ProducerConfig.RECONNECT_BACKOFF_MAX_MS_CONFIG, 1_000);
    properties.put(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, config.maxPayloadBytes() + 64 * 1024);
    properties.put(ProducerConfig.CLIENT_ID_CONFIG, "pledge-sink-" + target.topic());
    this.producer =
        new KafkaProducer<>(properties, new ByteArraySerializer(), new ByteArraySerializer());
    this.sender =
        Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("pledge-kafka-sink-" + target.topic()).factory());
  }

  @Override
  public CompletableFuture<Void> publish(TransactionalMessage message) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (message == null) {
      done.completeExceptionally(new SinkRejectedException("message must not be null"));
      return done;
    }
    int bytes = message.payload().getBytes(StandardCharsets.UTF_8).length;
    if (bytes > config.maxPayloadBytes()) {
      done.completeExceptionally(
          new SinkRejectedException(
              "payload of message "
                  + message.id()
                  + " is "
                  + bytes
                  + " bytes, more than the bound of "
                  + config.maxPayloadBytes()));
      return done;
    }
    ProducerRecord<byte[], byte[]> record = KafkaHeaders.record(target.topic(), message);
    synchronized (lock) {
      if (closed) {
        done.completeExceptionally(
            new SinkUnavailableException("sink to " + target.toUri() + " is closed"));
        return done;
      }
      if (inFlight.size() >= config.maxInFlight()) {
        done.completeExceptionally(
            new SinkUnavailableException(
                config.maxInFlight()
                    + " publishes to "
                    + target.toUri()
                    + " are already waiting for their acknowledgement"));
        return done;
      }
      inFlight.add(done);
    }
    try {
      sender.execute(() -> send(message.id(), record, done));
    } catch (RejectedExecutionException e) {
      settle(done, new SinkUnavailableException("sink to " + target.toUri() + " is closed"));
    }
    return done;
  }

  private void send(
      String id, ProducerRecord<byte[], byte[]> record, CompletableFuture<Void> done) {
    if (done.isDone()) {
      return; // failed by close meanwhile
    }
    try {
      producer.send(
          record,
          (metadata, exception) ->
              settle(done, exception == null ? null : translate(id, exception)));
    } catch (KafkaException | IllegalStateException e) {
      settle(done, translate(id, e));
    }
  }

  private RuntimeException translate(String id, Exception exception) {
    String what = "publish of " + id + " to " + target.toUri() + ": " + exception;
    if (exception instanceof RecordTooLargeException
        || exception instanceof RecordBatchTooLargeException
        || exception instanceof InvalidTopicException
        || exception instanceof AuthorizationException) {
      return new SinkRejectedException(what, exception);
    }
    return new SinkUnavailableException(what + " (outcome unknown)", exception);
  }

  private void settle(CompletableFuture<Void> done, RuntimeException failure) {
    synchronized (lock) {
      inFlight.remove(done);
      lock.notifyAll();
    }
    if (failure == null) {
      done.complete(null);
    } else {
      done.completeExceptionally(failure);
    }
  }

  @Override
  public void close() {
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
    }
    sender.shutdown();
    try {
      sender.awaitTermination(config.closeGrace().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    sender.shutdownNow();
    // Waits for outstanding acknowledgements up to the grace, then aborts the rest.
    producer.close(config.closeGrace().isZero() ? Duration.ZERO : config.closeGrace());
    List<CompletableFuture<Void>> abandoned;
    synchronized (lock) {
      abandoned = new ArrayList<>(inFlight);
      inFlight.clear();
    }
    for (CompletableFuture<Void> done : abandoned) {
      done.completeExceptionally(
          new SinkUnavailableException(
              "sink to " + target.toUri() + " closed before the acknowledgement"));
    }
  }
}
