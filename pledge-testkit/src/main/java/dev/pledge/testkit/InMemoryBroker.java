package dev.pledge.testkit;

import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.core.spi.SinkRejectedException;
import dev.pledge.core.spi.SinkUnavailableException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/**
 * A message broker in memory, with the faults of a real one at the caller's command: the reference
 * implementation of the {@link MessageSink} contract, and a sink for tests of what publishes (an
 * outbox relay, the coordinator's deliveries) that need no broker process.
 *
 * <p>A destination is a named, append-only list of messages. A publish is acknowledged once it is
 * appended; while the broker {@linkplain #stall() stalls} nothing is appended and publishes wait
 * (bounded by each sink's in-flight count and acknowledgement timeout); while it is {@linkplain
 * #down() down} publishes fail at once with {@link SinkUnavailableException}, and publishes that
 * were waiting are lost, their outcome unknown to the publisher, as with a real broker that crashed
 * before writing them.
 */
public final class InMemoryBroker {
  private final Object lock = new Object();
  private final Map<String, List<TransactionalMessage>> destinations = new HashMap<>();
  private final ArrayDeque<Pending> stalledPublishes = new ArrayDeque<>();
  private final Set<Sink> sinks = new LinkedHashSet<>();
  private boolean stalled;
  private boolean down;

  /**
   * A sink to {@code destination}.
   *
   * @param maxInFlight publishes not yet acknowledged, at most; at least 1
   * @param ackTimeout how long a publish waits for its acknowledgement before it fails as unknown
   * @param maxPayloadBytes the largest payload accepted, in bytes of UTF-8; larger ones are
   *     rejected
   */
  public MessageSink sink(
      String destination, int maxInFlight, Duration ackTimeout, int maxPayloadBytes) {
    Objects.requireNonNull(destination, "destination");
    Objects.requireNonNull(ackTimeout, "ackTimeout");
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be at least 1, got " + maxInFlight);
    }
    if (ackTimeout.isNegative() || ackTimeout.isZero()) {
      throw new IllegalArgumentException("ackTimeout must be positive, got " + ackTimeout);
    }
    if (maxPayloadBytes < 1) {
      throw new IllegalArgumentException(
          "maxPayloadBytes must be at least 1, got " + maxPayloadBytes);
    }
    Sink sink = new Sink(destination, maxInFlight, ackTimeout, maxPayloadBytes);
    synchronized (lock) {
      sinks.add(sink);
    }
    return sink;
  }

  /** What a consumer of {@code destination} reads: every acknowledged message, in order. */
  public List<TransactionalMessage> messages(String destination) {
    synchronized (lock) {
      return List.copyOf(destinations.getOrDefault(destination, List.of()));
    }
  }

  /** Stops appending: publishes wait until {@link #resume()}. */
  public void stall() {
    synchronized (lock) {
      stalled = true;
    }
  }

  /** Appends the waiting publishes, in the order they arrived, and acknowledges them. */
  public void resume() {
    List<Pending> done = new ArrayList<>();
    synchronized (lock) {
      stalled = false;
      while (!stalledPublishes.isEmpty()) {
        Pending pending = stalledPublishes.poll();
        append(pending.destination, pending.message);
        done.add(pending);
      }
    }
    done.forEach(Pending::acknowledge);
  }

  /** The broker is gone: waiting publishes are lost, new ones fail, until {@link #up()}. */
  public void down() {
    List<Pending> lost;
    synchronized (lock) {
      down = true;
      stalled = false;
      lost = List.copyOf(stalledPublishes);
      stalledPublishes.clear();
    }
    lost.forEach(pending ->
        pending.fail(
            new SinkUnavailableException(
                "connection to the in-memory broker lost before the acknowledgement")));
  }

  /** The broker is back. */
  public void up() {
    synchronized (lock) {
      down = false;
    }
  }

  private void append(String destination, TransactionalMessage message) {
    destinations.computeIfAbsent(destination, d -> new ArrayList<>()).add(message);
  }

  /** One publish waiting for its acknowledgement. */
  private record Pending(
      Sink sink, String destination, TransactionalMessage message, CompletableFuture<Void> done) {
    void acknowledge() {
      sink.settle(this, null);
    }

    void fail(RuntimeException cause) {
      sink.settle(this, cause);
    }
  }

  private final class Sink implements MessageSink {
    private final String destination;
    private final int maxInFlight;
    private final Duration ackTimeout;
    private final int maxPayloadBytes;
    private final Set<Pending> inFlight = new LinkedHashSet<>();
    private boolean closed;

    Sink(String destination, int maxInFlight, Duration ackTimeout, int maxPayloadBytes) {
      this.destination = destination;
      this.maxInFlight = maxInFlight;
      this.ackTimeout = ackTimeout;
      this.maxPayloadBytes = maxPayloadBytes;
    }

    @Override
    public CompletableFuture<Void> publish(TransactionalMessage message) {
      CompletableFuture<Void> done = new CompletableFuture<>();
      if (message == null) {
        done.completeExceptionally(new SinkRejectedException("message must not be null"));
        return done;
      }
      int bytes = message.payload().getBytes(StandardCharsets.UTF_8).length;
      if (bytes > maxPayloadBytes) {
        done.completeExceptionally(
            new SinkRejectedException(
                "payload of message "
                    + message.id()
                    + " is "
                    + bytes
                    + " bytes, more than the sink's bound of "
                    + maxPayloadBytes));
        return done;
      }
      Pending pending = new Pending(this, destination, message, done);
      boolean acknowledgeNow = false;
      synchronized (lock) {
        if (closed) {
          done.completeExceptionally(new SinkUnavailableException("sink is closed"));
          return done;
        }
        if (down) {
          done.completeExceptionally(
              new SinkUnavailableException("in-memory broker is down: connection refused"));
          return done;
        }
        if (inFlight.size() >= maxInFlight) {
          done.completeExceptionally(
              new SinkUnavailableException(
                  maxInFlight + " publishes are already waiting for their acknowledgement"));
          return done;
        }
        if (stalled) {
          inFlight.add(pending);
          stalledPublishes.add(pending);
        } else {
          append(destination, message);
          acknowledgeNow = true;
        }
      }
      if (acknowledgeNow) {
        done.complete(null);
      } else {
        CompletableFuture.delayedExecutor(ackTimeout.toNanos(), TimeUnit.NANOSECONDS)
            .execute(() ->
                settle(
                    pending,
                    new SinkUnavailableException(
                        "no acknowledgement within " + ackTimeout + "; outcome unknown")));
      }
      return done;
    }

    /** Completes a publish once, first outcome wins; a late acknowledgement changes nothing. */
    void settle(Pending pending, RuntimeException failure) {
      synchronized (lock) {
        inFlight.remove(pending);
      }
      if (failure == null) {
        pending.done.complete(null);
      } else {
        pending.done.completeExceptionally(failure);
      }
    }

    @Override
    public void close() {
      List<Pending> abandoned;
      synchronized (lock) {
        if (closed) {
          return;
        }
        closed = true;
        sinks.remove(this);
        abandoned = List.copyOf(inFlight);
        inFlight.clear();
      }
      abandoned.forEach(pending ->
          pending.done.completeExceptionally(
              new SinkUnavailableException(
                  "sink closed before the acknowledgement; outcome unknown")));
    }
  }
}
