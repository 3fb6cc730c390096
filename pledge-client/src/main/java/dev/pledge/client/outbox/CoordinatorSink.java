package dev.pledge.client.outbox;

import dev.pledge.client.PledgeClient;
import dev.pledge.client.PledgeException;
import dev.pledge.client.PledgeRejectedException;
import dev.pledge.client.TransactionView;
import dev.pledge.core.Gid;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.core.spi.SinkRejectedException;
import dev.pledge.core.spi.SinkUnavailableException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.time.Duration;
import java.time.Instant;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * The coordinator as a {@link MessageSink}: each message becomes the only message of a {@code msg}
 * transaction, created, committed, and acknowledged once the coordinator has delivered it to every
 * subscription of its topic (the transaction is {@code committed}).
 *
 * <p>Idempotent by the message's id: the transaction's gid is {@link #gidFor} the id, and the
 * message keeps its id ({@code messages[].id}) as its {@code Pledge-Message-Id}. A message
 * published again (a relay retrying after a crash, or after an unknown outcome) is the same create
 * and the same commit, so the coordinator answers the transaction it has: no second transaction, no
 * second delivery id.
 *
 * <p>Acknowledging after the deliveries, not after the commit, is what keeps order per key: the
 * coordinator orders deliveries per key only within one transaction, so a message is not
 * acknowledged (and the relay does not publish the next one of its key) before it reached every
 * subscription. A subscriber that is down therefore holds back the relay's key (the publish times
 * out as unavailable and is retried, idempotently).
 *
 * <p>The message's own gid (the global transaction that committed it, if any) travels in the header
 * {@value #GID_HEADER}, since {@code Pledge-Gid} names the relaying transaction; the SDK's delivery
 * decoding ({@code Participant.answerDelivery}) restores it, so the consumer sees the message as it
 * was published. A message that carries a {@value #GID_HEADER} header itself is rejected.
 *
 * <p>The check URL is asked only if the relay died between the create and the commit and did not
 * come back before the transaction's timeout; a relayed message always comes from a committed
 * outbox row, so {@link #CHECK_BACK_ANSWER} ({@code committed}) is the right answer for every gid
 * this sink makes.
 */
public final class CoordinatorSink implements MessageSink {
  /** The header carrying the message's own gid through the coordinator. */
  public static final String GID_HEADER = "Outbox-Gid";

  /** What the relay's check-back endpoint answers: the row was committed, or it would not exist. */
  public static final String CHECK_BACK_ANSWER = "{\"status\":\"committed\"}";

  private static final String PREFIX = "outbox-";

  private final PledgeClient client;
  private final String checkUrl;
  private final Duration transactionTimeout;
  private final Duration ackTimeout;
  private final int maxInFlight;
  private final AtomicInteger inFlight = new AtomicInteger();
  private final Set<CompletableFuture<Void>> pending = ConcurrentHashMap.newKeySet();
  private final ExecutorService calls = Executors.newVirtualThreadPerTaskExecutor();
  private volatile boolean closed;

  /**
   * @param client the coordinator's client; its request timeout and attempts bound each call, and
   *     the sink does not close it
   * @param checkUrl the relay's check-back endpoint, answering {@link #CHECK_BACK_ANSWER}
   * @param transactionTimeout when the coordinator asks {@code checkUrl} if the commit never came
   * @param ackTimeout bound on one publish, from the create to the deliveries; past it the publish
   *     is unavailable (its outcome unknown) and the caller publishes it again
   * @param maxInFlight bound on unacknowledged publishes
   */
  public CoordinatorSink(
      PledgeClient client,
      String checkUrl,
      Duration transactionTimeout,
      Duration ackTimeout,
      int maxInFlight) {
    this.client = Objects.requireNonNull(client, "client");
    this.checkUrl = Objects.requireNonNull(checkUrl, "checkUrl");
    this.transactionTimeout = Objects.requireNonNull(transactionTimeout, "transactionTimeout");
    this.ackTimeout = Objects.requireNonNull(ackTimeout, "ackTimeout");
    if (ackTimeout.isNegative() || ackTimeout.isZero()) {
      throw new IllegalArgumentException("ackTimeout must be > 0, was " + ackTimeout);
    }
    if (maxInFlight < 1) {
      throw new IllegalArgumentException("maxInFlight must be >= 1, was " + maxInFlight);
    }
    this.maxInFlight = maxInFlight;
  }

  /**
   * The gid of the transaction that carries message {@code id}: {@code outbox-<id>} when that is a
   * valid gid, else {@code outbox-} and the SHA-256 of the id in hex. Always the same for one id.
   */
  public static String gidFor(String id) {
    String plain = PREFIX + id;
    if (Gid.isValid(plain)) {
      return plain;
    }
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(id.getBytes(StandardCharsets.UTF_8));
      return PREFIX + HexFormat.of().formatHex(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing from the JDK", e);
    }
  }

  /** The relay's check-back endpoint on the JDK's HTTP server: {@link #CHECK_BACK_ANSWER}. */
  public static com.sun.net.httpserver.HttpHandler checkBack() {
    byte[] body = CHECK_BACK_ANSWER.getBytes(StandardCharsets.UTF_8);
    return exchange -> {
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(200, body.length);
      try (java.io.OutputStream out = exchange.getResponseBody()) {
        out.write(body);
      }
    };
  }

  @Override
  public CompletableFuture<Void> publish(TransactionalMessage message) {
    if (closed) {
      return CompletableFuture.failedFuture(new SinkUnavailableException("the sink is closed"));
    }
    for (String name : message.headers().keySet()) {
      if (name.toLowerCase(Locale.ROOT).equals(GID_HEADER.toLowerCase(Locale.ROOT))) {
        return CompletableFuture.failedFuture(
            new SinkRejectedException(
                "message " + message.id() + " carries " + GID_HEADER + ", which this sink sets"));
      }
    }
    if (inFlight.incrementAndGet() > maxInFlight) {
      inFlight.decrementAndGet();
      return CompletableFuture.failedFuture(
          new SinkUnavailableException(
              maxInFlight + " publishes already wait for the coordinator"));
    }
    CompletableFuture<Void> ack = new CompletableFuture<>();
    pending.add(ack);
    ack.whenComplete((ignored, error) -> {
      pending.remove(ack);
      inFlight.decrementAndGet();
    });
    CompletableFuture.delayedExecutor(ackTimeout.toMillis(), TimeUnit.MILLISECONDS)
        .execute(() ->
            ack.completeExceptionally(
                new SinkUnavailableException(
                    "no acknowledgement of " + message.id() + " within " + ackTimeout)));
    try {
      calls.execute(() -> send(message, ack));
    } catch (java.util.concurrent.RejectedExecutionException e) {
      ack.completeExceptionally(new SinkUnavailableException("the sink is closed"));
    }
    if (closed) {
      ack.completeExceptionally(new SinkUnavailableException("the sink is closed"));
    }
    return ack;
  }

  private void send(TransactionalMessage message, CompletableFuture<Void> ack) {
    String gid = gidFor(message.id());
    Instant deadline = Instant.now().plus(ackTimeout);
    try {
      Map<String, String> headers = new LinkedHashMap<>(message.headers());
      if (message.gid() != null) {
        headers.put(GID_HEADER, message.gid());
      }
      client
          .msg(gid)
          .checkUrl(checkUrl)
          .timeout(transactionTimeout)
          .namedMessage(message.id(), message.topic(), message.key(), message.payload(), headers)
          .prepare();
      client.commit(gid);
      Duration left = Duration.between(Instant.now(), deadline);
      TransactionView view =
          client.await(gid, left.isNegative() ? Duration.ZERO : left.plusMillis(1));
      if (!"committed".equals(view.status())) {
        ack.completeExceptionally(
            new SinkRejectedException(
                "transaction " + gid + " of message " + message.id() + " is " + view.status()));
        return;
      }
      ack.complete(null);
    } catch (PledgeRejectedException e) {
      ack.completeExceptionally(
          new SinkRejectedException("the coordinator refused " + message.id() + ": " + e, e));
    } catch (PledgeException e) {
      ack.completeExceptionally(
          new SinkUnavailableException("no definite answer for " + message.id() + ": " + e, e));
    } catch (IllegalArgumentException e) {
      ack.completeExceptionally(
          new SinkRejectedException("message " + message.id() + " cannot be sent: " + e, e));
    } catch (RuntimeException e) {
      ack.completeExceptionally(
          new SinkUnavailableException("publishing " + message.id() + " failed: " + e, e));
    }
  }

  @Override
  public void close() {
    closed = true;
    calls.shutdownNow();
    for (CompletableFuture<Void> ack : pending) {
      ack.completeExceptionally(new SinkUnavailableException("the sink was closed"));
    }
  }
}
