package dev.pledge.broker.rabbitmq;

import com.rabbitmq.client.AMQP;
import com.rabbitmq.client.BuiltinExchangeType;
import com.rabbitmq.client.Channel;
import com.rabbitmq.client.Connection;
import com.rabbitmq.client.ConnectionFactory;
import com.rabbitmq.client.ShutdownSignalException;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.core.spi.SinkRejectedException;
import dev.pledge.core.spi.SinkUnavailableException;
import java.io.IOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.TreeMap;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Publishes to a RabbitMQ exchange with publisher confirms.
 *
 * <p>Design. One thread (the sink's I/O thread) owns the connection and its one confirm-mode
 * channel, and is the only one that publishes, so sequence numbers and publishes never interleave.
 * Every accepted publish is in exactly one of two places, both guarded by {@code lock}: {@code
 * toSend} (accepted, not yet written on the current channel), in acceptance order, or {@code
 * unconfirmed} (written, keyed by the channel's sequence number). Their total is the window,
 * bounded by {@link RabbitMqSinkConfig#maxInFlight()}. Confirms arrive on the client's connection
 * thread, often for many sequence numbers at once ({@code multiple}), and complete the futures.
 *
 * <p>When the connection or channel is lost, the I/O thread moves every unconfirmed publish back to
 * the front of {@code toSend}, in sequence order, reconnects with capped exponential backoff,
 * declares the exchange again and republishes them: the broker may then hold a message twice, which
 * the consumer's inbox absorbs; per-key order holds because a caller that wants it waits for a
 * confirm before publishing the next message of the key. Confirms of a lost channel are ignored (a
 * generation number tells channels apart). A publish that is not confirmed within {@link
 * RabbitMqSinkConfig#ackTimeout()} of its acceptance, reconnections included, fails with {@link
 * SinkUnavailableException}: its outcome is unknown.
 */
final class RabbitMqSink implements MessageSink {
  private static final Logger log = LoggerFactory.getLogger(RabbitMqSink.class);
  private static final long IDLE_WAIT_NANOS = TimeUnit.MILLISECONDS.toNanos(50);
  private static final long FIRST_RECONNECT_DELAY_NANOS = TimeUnit.MILLISECONDS.toNanos(50);

  private final AmqpTarget target;
  private final RabbitMqSinkConfig config;
  private final ConnectionFactory factory;
  private final Thread io;

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private final ArrayDeque<Pending> toSend = new ArrayDeque<>();
  private final TreeMap<Long, Pending> unconfirmed = new TreeMap<>();
  private long generation;
  private boolean connected;
  private boolean lost;
  private boolean closing;
  private boolean closed;

  // Owned by the I/O thread.
  private Connection connection;
  private Channel channel;
  private long reconnectDelayNanos = FIRST_RECONNECT_DELAY_NANOS;
  private long nextConnectNanos;

  RabbitMqSink(AmqpTarget target, RabbitMqSinkConfig config) {
    this.target = target;
    this.config = config;
    this.factory = new ConnectionFactory();
    factory.setHost(target.host());
    factory.setPort(target.port());
    factory.setVirtualHost(target.virtualHost());
    factory.setUsername(target.user());
    factory.setPassword(target.password());
    factory.setConnectionTimeout(Math.toIntExact(config.connectTimeout().toMillis()));
    factory.setHandshakeTimeout(Math.toIntExact(config.connectTimeout().toMillis()));
    factory.setShutdownTimeout(Math.toIntExact(config.connectTimeout().toMillis()));
    factory.setRequestedHeartbeat(Math.toIntExact(config.heartbeat().toSeconds()));
    // Recovery is this class's own: the client's would lose the unconfirmed publishes.
    factory.setAutomaticRecoveryEnabled(false);
    factory.setTopologyRecoveryEnabled(false);
    this.io =
        Thread.ofPlatform()
            .daemon()
            .name("pledge-amqp-sink-" + target.exchange())
            .unstarted(this::run);
    io.start();
  }

  @Override
  public CompletableFuture<Void> publish(TransactionalMessage message) {
    CompletableFuture<Void> done = new CompletableFuture<>();
    if (message == null) {
      done.completeExceptionally(new SinkRejectedException("message must not be null"));
      return done;
    }
    byte[] body = AmqpHeaders.body(message);
    if (body.length > config.maxPayloadBytes()) {
      done.completeExceptionally(
          new SinkRejectedException(
              "payload of message "
                  + message.id()
                  + " is "
                  + body.length
                  + " bytes, more than the bound of "
                  + config.maxPayloadBytes()));
      return done;
    }
    Pending pending =
        new Pending(
            message.id(),
            message.topic(),
            AmqpHeaders.properties(message),
            body,
            System.nanoTime() + config.ackTimeout().toNanos(),
            done);
    lock.lock();
    try {
      if (closing) {
        done.completeExceptionally(
            new SinkUnavailableException("sink to " + target + " is closed"));
        return done;
      }
      if (toSend.size() + unconfirmed.size() >= config.maxInFlight()) {
        done.completeExceptionally(
            new SinkUnavailableException(
                config.maxInFlight()
                    + " publishes to "
                    + target
                    + " are already waiting for their confirm"));
        return done;
      }
      toSend.add(pending);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    return done;
  }

  @Override
  public void close() {
    long graceEnd = System.nanoTime() + config.closeGrace().toNanos();
    List<Pending> abandoned = new ArrayList<>();
    lock.lock();
    try {
      if (closed) {
        return;
      }
      closing = true;
      changed.signalAll();
      // A grace period for the outstanding confirms, so that a clean shutdown republishes nothing.
      while (!toSend.isEmpty() || !unconfirmed.isEmpty()) {
        long left = graceEnd - System.nanoTime();
        if (left <= 0) {
          break;
        }
        changed.awaitNanos(left);
      }
      closed = true;
      abandoned.addAll(unconfirmed.values());
      abandoned.addAll(toSend);
      unconfirmed.clear();
      toSend.clear();
      changed.signalAll();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      closed = true;
      abandoned.addAll(unconfirmed.values());
      abandoned.addAll(toSend);
      unconfirmed.clear();
      toSend.clear();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    for (Pending pending : abandoned) {
      pending.done.completeExceptionally(
          new SinkUnavailableException(
              "sink to " + target + " closed before the confirm of " + pending.id));
    }
    try {
      io.join(config.connectTimeout().toMillis() + 1_000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  // --- the I/O thread

  private void run() {
    try {
      while (step()) {
        // until closed
      }
    } catch (RuntimeException | Error e) {
      log.error("sink to {} stopped on a programming error", target, e);
      failEverything(new SinkUnavailableException("sink to " + target + " failed", e));
    } finally {
      disconnect();
    }
  }

  /** One turn: expire, recover, connect, publish one; false once closed. */
  private boolean step() {
    List<Pending> expired = new ArrayList<>();
    Pending next = null;
    long sequence = -1;
    boolean connect = false;
    boolean recover = false;
    lock.lock();
    try {
      if (closed) {
        return false;
      }
      collectExpired(System.nanoTime(), expired);
      if (lost) {
        recover = true;
      } else if (toSend.isEmpty()) {
        if (expired.isEmpty()) {
          changed.awaitNanos(IDLE_WAIT_NANOS);
        }
      } else if (!connected) {
        long wait = nextConnectNanos - System.nanoTime();
        if (wait > 0) {
          changed.awaitNanos(Math.min(wait, IDLE_WAIT_NANOS));
        } else {
          connect = true;
        }
      } else {
        next = toSend.poll();
        sequence = channel.getNextPublishSeqNo();
        unconfirmed.put(sequence, next);
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    } finally {
      lock.unlock();
    }
    fail(expired, "no confirm within " + config.ackTimeout() + "; outcome unknown");
    if (recover) {
      recover();
    } else if (connect) {
      connect();
    } else if (next != null) {
      send(next);
    }
    return true;
  }

  private void send(Pending pending) {
    try {
      channel.basicPublish(
          target.exchange(), pending.routingKey, false, pending.properties, pending.body);
    } catch (IOException | ShutdownSignalException e) {
      log.warn("publish to {} failed; reconnecting: {}", target, e.toString());
      markLost();
    }
  }

  private void connect() {
    Connection opened = null;
    try {
      opened = factory.newConnection("pledge sink " + target.exchange());
      Channel confirming = opened.createChannel();
      confirming.confirmSelect();
      confirming.exchangeDeclare(target.exchange(), BuiltinExchangeType.TOPIC, true);
      long g;
      lock.lock();
      try {
        g = ++generation;
        connection = opened;
        channel = confirming;
        connected = true;
        lost = false;
      } finally {
        lock.unlock();
      }
      confirming.addConfirmListener(
          (sequence, multiple) -> settle(g, sequence, multiple, null),
          (sequence, multiple) ->
              settle(
                  g,
                  sequence,
                  multiple,
                  new SinkUnavailableException(
                      "broker refused to take responsibility (nack) for a publish to " + target)));
      opened.addShutdownListener(cause -> lostGeneration(g, cause));
      confirming.addShutdownListener(cause -> lostGeneration(g, cause));
      reconnectDelayNanos = FIRST_RECONNECT_DELAY_NANOS;
      log.info("connected to {}", target);
    } catch (IOException | TimeoutException | ShutdownSignalException e) {
      closeQuietly(opened);
      Integer code = channelCloseCode(e);
      if (code != null && (code == AMQP.PRECONDITION_FAILED || code == AMQP.ACCESS_REFUSED)) {
        rejectWaiting(
            "broker refuses exchange "
                + target.exchange()
                + " on "
                + target
                + " (reply code "
                + code
                + "): it may exist with another type or durability, or the user may not use it");
      }
      log.warn("cannot connect to {}: {}", target, e.toString());
      nextConnectNanos = System.nanoTime() + reconnectDelayNanos;
      reconnectDelayNanos = Math.min(reconnectDelayNanos * 2, config.reconnectDelayMax().toNanos());
    }
  }

  /** Confirms of the channel of generation {@code g}: complete the futures they cover. */
  private void settle(long g, long sequence, boolean multiple, RuntimeException failure) {
    List<Pending> settled = new ArrayList<>();
    lock.lock();
    try {
      if (g != generation || lost) {
        return; // a lost channel's confirm: those publishes are being sent again
      }
      if (multiple) {
        NavigableMap<Long, Pending> covered = unconfirmed.headMap(sequence, true);
        settled.addAll(covered.values());
        covered.clear();
      } else {
        Pending one = unconfirmed.remove(sequence);
        if (one != null) {
          settled.add(one);
        }
      }
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    for (Pending pending : settled) {
      if (failure == null) {
        pending.done.complete(null);
      } else {
        pending.done.completeExceptionally(failure);
      }
    }
  }

  private void lostGeneration(long g, ShutdownSignalException cause) {
    lock.lock();
    try {
      if (g == generation && connected && !closed) {
        log.warn("connection to {} lost: {}", target, cause.getMessage());
        lost = true;
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  private void markLost() {
    lock.lock();
    try {
      lost = true;
    } finally {
      lock.unlock();
    }
  }

  /** Unconfirmed publishes go back to the front of the queue, in order; the channel is dropped. */
  private void recover() {
    int requeued;
    lock.lock();
    try {
      generation++;
      connected = false;
      lost = false;
      requeued = unconfirmed.size();
      for (Pending pending : unconfirmed.descendingMap().values()) {
        toSend.addFirst(pending);
      }
      unconfirmed.clear();
      nextConnectNanos = System.nanoTime();
    } finally {
      lock.unlock();
    }
    if (requeued > 0) {
      log.info("{} unconfirmed publishes to {} will be sent again", requeued, target);
    }
    disconnect();
  }

  private void collectExpired(long now, List<Pending> expired) {
    for (Iterator<Pending> it = toSend.iterator(); it.hasNext(); ) {
      Pending pending = it.next();
      if (now - pending.deadlineNanos >= 0) {
        expired.add(pending);
        it.remove();
      }
    }
    for (Iterator<Map.Entry<Long, Pending>> it = unconfirmed.entrySet().iterator();
        it.hasNext(); ) {
      Pending pending = it.next().getValue();
      if (now - pending.deadlineNanos >= 0) {
        expired.add(pending);
        it.remove();
      }
    }
    if (!expired.isEmpty()) {
      changed.signalAll();
    }
  }

  private void rejectWaiting(String why) {
    List<Pending> rejected;
    lock.lock();
    try {
      rejected = List.copyOf(toSend);
      toSend.clear();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    for (Pending pending : rejected) {
      pending.done.completeExceptionally(new SinkRejectedException(why));
    }
  }

  private void failEverything(SinkUnavailableException failure) {
    List<Pending> failed = new ArrayList<>();
    lock.lock();
    try {
      closing = true;
      closed = true;
      failed.addAll(unconfirmed.values());
      failed.addAll(toSend);
      unconfirmed.clear();
      toSend.clear();
      changed.signalAll();
    } finally {
      lock.unlock();
    }
    failed.forEach(pending -> pending.done.completeExceptionally(failure));
  }

  private void fail(List<Pending> pendings, String why) {
    for (Pending pending : pendings) {
      pending.done.completeExceptionally(
          new SinkUnavailableException("publish of " + pending.id + " to " + target + ": " + why));
    }
  }

  private void disconnect() {
    Connection old;
    lock.lock();
    try {
      old = connection;
      connection = null;
      channel = null;
      connected = false;
    } finally {
      lock.unlock();
    }
    closeQuietly(old);
  }

  private void closeQuietly(Connection old) {
    if (old != null) {
      // abort: never throws, bounded by the shutdown timeout.
      old.abort(Math.toIntExact(config.connectTimeout().toMillis()));
    }
  }

  private static Integer channelCloseCode(Exception e) {
    Throwable cause = e;
    while (cause != null) {
      if (cause instanceof ShutdownSignalException signal
          && signal.getReason() instanceof AMQP.Channel.Close close) {
        return close.getReplyCode();
      }
      cause = cause.getCause();
    }
    return null;
  }

  /** One accepted publish. */
  private record Pending(
      String id,
      String routingKey,
      AMQP.BasicProperties properties,
      byte[] body,
      long deadlineNanos,
      CompletableFuture<Void> done) {}
}
