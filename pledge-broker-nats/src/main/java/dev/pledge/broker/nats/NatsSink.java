package dev.pledge.broker.nats;

import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.core.spi.SinkRejectedException;
import dev.pledge.core.spi.SinkUnavailableException;
import io.nats.client.Connection;
import io.nats.client.JetStream;
import io.nats.client.Nats;
import io.nats.client.Options;
import io.nats.client.impl.Headers;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes to a NATS JetStream subject and waits for the stream's acknowledgement, which comes
 * once the stream stored the message. Every message carries {@code Nats-Msg-Id} = its id, so a
 * publish repeated within the stream's duplicate window (after an unknown outcome) is stored once.
 *
 * <p>One thread of the sink's own connects (lazily, and again if the first attempt failed) and
 * publishes, in order, asynchronously; {@code publish} only counts the window and enqueues. Once
 * connected, the client reconnects by itself and replays what it buffered meanwhile; a publish not
 * acknowledged within {@link NatsSinkConfig#ackTimeout()} fails as unknown. A subject no stream
 * captures answers "no responders": unavailable, since a stream may be added.
 */
final class NatsSink implements MessageSink {
  private static final Logger log = LoggerFactory.getLogger(NatsSink.class);

  private final NatsTarget target;
  private final NatsSinkConfig config;
  private final ExecutorService sender;
  private final Object lock = new Object();
  private final Set<CompletableFuture<Void>> inFlight = new LinkedHashSet<>();
  private boolean closed;

  // Owned by the sender thread.
  private Connection connection;
  private JetStream jetStream;

  NatsSink(NatsTarget target, NatsSinkConfig config) {
    this.target = target;
    this.config = config;
    this.sender =
        Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("pledge-nats-sink-" + target.subject()).factory());
  }

  @Override
  public CompletableFuture<Void> publish(TransactionalMessage message) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (message == null) {
      done.completeExceptionally(new SinkRejectedException("message must not be null"));
      return done;
    }
    byte[] data = message.payload().getBytes(StandardCharsets.UTF_8);
    if (data.length > config.maxPayloadBytes()) {
      done.completeExceptionally(
          new SinkRejectedException(
              "payload of message "
                  + message.id()
                  + " is "
                  + data.length
                  + " bytes, more than the bound of "
                  + config.maxPayloadBytes()));
      return done;
    }
    Headers headers;
    try {
      headers = NatsHeaders.headers(message);
    } catch (IllegalArgumentException e) {
      done.completeExceptionally(
          new SinkRejectedException("message " + message.id() + ": " + e.getMessage(), e));
      return done;
    }
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
    // The acknowledgement timeout runs from acceptance, connecting included.
    done.orTimeout(config.ackTimeout().toMillis(), TimeUnit.MILLISECONDS)
        .whenComplete((ignored, failure) -> forget(done));
    try {
      sender.execute(() -> send(message.id(), headers, data, done));
    } catch (RejectedExecutionException e) {
      fail(done, new SinkUnavailableException("sink to " + target.toUri() + " is closed"));
    }
    return translateTimeout(message.id(), done);
  }

  /** The caller's view of {@code done}: a timeout becomes an unknown outcome. */
  private CompletableFuture<Void> translateTimeout(String id, CompletableFuture<Void> done) {
    return done.handle((ignored, failure) -> {
      if (failure == null) {
        return null;
      }
      Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
      if (cause instanceof TimeoutException) {
        throw new SinkUnavailableException(
            "no JetStream acknowledgement for "
                + id
                + " on "
                + target.toUri()
                + " within "
                + config.ackTimeout()
                + "; outcome unknown");
      }
      if (cause instanceof RuntimeException runtime) {
        throw runtime;
      }
      throw new SinkUnavailableException(cause.toString(), cause);
    });
  }

  private void send(String id, Headers headers, byte[] data, CompletableFuture<Void> done) {
    if (done.isDone()) {
      return;
    }
    try {
      JetStream js = jetStream();
      js.publishAsync(target.subject(), headers, data)
          .whenComplete((ack, failure) -> {
            if (failure == null) {
              done.complete(null);
            } else {
              fail(done, translate(id, failure));
            }
          });
    } catch (IOException e) {
      fail(done, translate(id, e));
    } catch (IllegalArgumentException e) {
      // The client refuses a message larger than the server's max_payload.
      fail(
          done,
          new SinkRejectedException(
              "publish of " + id + " to " + target.toUri() + " refused: " + e.getMessage(), e));
    } catch (IllegalStateException e) {
      // Closed connection, or the reconnect buffer is full.
      fail(done, translate(id, e));
    }
  }

  private JetStream jetStream() throws IOException {
    if (jetStream != null) {
      return jetStream;
    }
    Options options =
        Options.builder()
            .server(target.server())
            .connectionName("pledge sink " + target.subject())
            .connectionTimeout(config.connectTimeout())
            .maxReconnects(-1)
            .reconnectWait(Duration.ofMillis(100))
            .build();
    try {
      connection = Nats.connect(options);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while connecting to " + target.server(), e);
    }
    jetStream = connection.jetStream();
    log.info("connected to {}", target.server());
    return jetStream;
  }

  private RuntimeException translate(String id, Throwable failure) {
    Throwable cause = failure instanceof CompletionException ? failure.getCause() : failure;
    return new SinkUnavailableException(
        "publish of " + id + " to " + target.toUri() + ": " + cause + " (outcome unknown)", cause);
  }

  private void fail(CompletableFuture<Void> done, RuntimeException failure) {
    done.completeExceptionally(failure);
  }

  private void forget(CompletableFuture<Void> done) {
    synchronized (lock) {
      inFlight.remove(done);
      lock.notifyAll();
    }
  }

  @Override
  public void close() {
    long graceEnd = System.nanoTime() + config.closeGrace().toNanos();
    synchronized (lock) {
      if (closed) {
        return;
      }
      closed = true;
      while (!inFlight.isEmpty()) {
        long left = graceEnd - System.nanoTime();
        if (left <= 0) {
          break;
        }
        try {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    sender.shutdown();
    try {
      sender.awaitTermination(config.connectTimeout().toMillis(), TimeUnit.MILLISECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    List<CompletableFuture<Void>> abandoned;
    synchronized (lock) {
      abandoned = new ArrayList<>(inFlight);
      inFlight.clear();
    }
    for (CompletableFuture<Void> done : abandoned) {
      fail(
          done,
          new SinkUnavailableException(
              "sink to " + target.toUri() + " closed before the acknowledgement"));
    }
    if (connection != null) {
      try {
        connection.close();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }
}
