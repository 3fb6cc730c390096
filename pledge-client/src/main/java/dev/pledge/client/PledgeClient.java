package dev.pledge.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pledge.core.Gid;
import java.time.Duration;
import java.time.Instant;
import java.util.Objects;
import java.util.UUID;

/**
 * The fluent client of the coordinator's API v1: start and drive saga, 2pc, xa, 3pc, tcc and msg
 * transactions, read them, and await their outcome.
 *
 * <pre>{@code
 * try (PledgeClient pledge = PledgeClient.create(PledgeClientConfig.of("http://127.0.0.1:7878"))) {
 *   TransactionView done = pledge.saga("order-1001")
 *       .step("reserve", inventory + "/reserve", inventory + "/release", Map.of("sku", "A-1"))
 *       .step("charge", payment + "/charge", payment + "/refund", Map.of("cents", 1999))
 *       .run(Duration.ofSeconds(30));   // committed or aborted; PledgeInDoubtException if not yet
 * }
 * }</pre>
 *
 * <p>Every call is idempotent and retried with backoff when its answer is unknown: the gid is
 * chosen by the client ({@link #newGid()} when the caller gives none), so a create sent twice
 * creates one transaction. Failures are {@link PledgeException}s that say whether the outcome is
 * known. One instance per coordinator, shared by all threads: it keeps a pool of keep-alive
 * connections.
 */
public final class PledgeClient implements AutoCloseable {
  /** The coordinator's bound on one long poll. */
  static final int MAX_WAIT_SECONDS = 30;

  private final Http http;

  private PledgeClient(PledgeClientConfig config) {
    this.http = new Http(config);
  }

  public static PledgeClient create(PledgeClientConfig config) {
    return new PledgeClient(Objects.requireNonNull(config, "config"));
  }

  /** Calls sent again after an unknown answer, since this client was created (a counter). */
  public long retriesSent() {
    return http.retries();
  }

  public PledgeClientConfig config() {
    return http.config();
  }

  /** A new gid of 32 random hex characters. */
  public static String newGid() {
    return UUID.randomUUID().toString().replace("-", "");
  }

  /** A saga with this gid: steps run in order, or along their {@code after} DAG. */
  public SagaBuilder saga(String gid) {
    return new SagaBuilder(this, checkGid(gid));
  }

  /** A two-phase commit: every branch prepared in parallel, then all committed or rolled back. */
  public TwoPhaseBuilder twoPhase(String gid) {
    return new TwoPhaseBuilder(this, checkGid(gid), "2pc");
  }

  /**
   * An xa transaction: a two-phase commit whose branches are database prepared transactions, each
   * served by an {@link dev.pledge.client.participant.XaParticipant}.
   */
  public TwoPhaseBuilder xa(String gid) {
    return new TwoPhaseBuilder(this, checkGid(gid), "xa");
  }

  /**
   * A three-phase commit: every branch's can-commit in parallel, then pre-commit and do-commit, or
   * abort; each branch served by a {@link dev.pledge.client.participant.ThreePcParticipant}.
   */
  public ThreePhaseBuilder threePhase(String gid) {
    return new ThreePhaseBuilder(this, checkGid(gid));
  }

  /** A tcc transaction: {@link TccBuilder#begin()} it, register and try branches, then commit. */
  public TccBuilder tcc(String gid) {
    return new TccBuilder(this, checkGid(gid));
  }

  /** A two-phase message: prepared messages delivered only if the local transaction commits. */
  public MessageBuilder msg(String gid) {
    return new MessageBuilder(this, checkGid(gid));
  }

  /**
   * The transaction as the coordinator has it now.
   *
   * @throws PledgeRejectedException with status 404 when there is no such transaction
   */
  public TransactionView get(String gid) {
    checkGid(gid);
    return TransactionView.from(
        http.coordinator(gid, "GET", "/api/v1/transactions/" + gid, null, Duration.ZERO).body());
  }

  /**
   * Waits, at most {@code wait}, until the transaction is final, and answers it. Uses the
   * coordinator's long poll ({@code waitSeconds}, at most 30 s per request), so it costs one
   * request per 30 s of waiting, not a polling loop.
   *
   * @throws PledgeInDoubtException when {@code wait} passed first: the outcome is not known yet
   */
  public TransactionView await(String gid, Duration wait) {
    checkGid(gid);
    Objects.requireNonNull(wait, "wait");
    Instant deadline = Instant.now().plus(wait);
    Duration pause = Duration.ofMillis(20);
    while (true) {
      Duration remaining = Duration.between(Instant.now(), deadline);
      long seconds = Math.min(MAX_WAIT_SECONDS, Math.max(0, (remaining.toMillis() + 999) / 1000));
      Instant asked = Instant.now();
      TransactionView view =
          TransactionView.from(
              http.coordinator(
                      gid,
                      "GET",
                      "/api/v1/transactions/" + gid + "?waitSeconds=" + seconds,
                      null,
                      Duration.ofSeconds(seconds))
                  .body());
      if (view.isFinal()) {
        return view;
      }
      remaining = Duration.between(Instant.now(), deadline);
      if (remaining.isNegative() || remaining.isZero()) {
        throw new PledgeInDoubtException(
            gid,
            view.status(),
            "transaction " + gid + " is still " + view.status() + " after waiting " + wait,
            null);
      }
      // A coordinator without the long poll answers at once: wait a growing pause instead of
      // asking again straight away.
      if (Duration.between(asked, Instant.now()).toMillis() < seconds * 500L) {
        Http.pause(pause.compareTo(remaining) < 0 ? pause : remaining);
        pause =
            pause.multipliedBy(2).compareTo(Duration.ofSeconds(1)) > 0
                ? Duration.ofSeconds(1)
                : pause.multipliedBy(2);
      }
    }
  }

  /** One page of {@link #list}: the transactions, newest first, and the cursor of the next. */
  public record Page(java.util.List<TransactionView> items, String nextCursor) {
    public Page {
      items = java.util.List.copyOf(items);
    }
  }

  /**
   * One page of transactions, newest first ({@code GET /api/v1/transactions}).
   *
   * @param status one status or null for any
   * @param mode one mode or null for any
   * @param limit 1 to 500
   * @param cursor null for the first page, else the previous page's {@code nextCursor}
   */
  public Page list(String status, String mode, int limit, String cursor) {
    if (limit < 1 || limit > 500) {
      throw new IllegalArgumentException("limit must be 1 to 500, was " + limit);
    }
    StringBuilder query = new StringBuilder("/api/v1/transactions?limit=").append(limit);
    if (status != null) {
      query.append("&status=").append(encode(status));
    }
    if (mode != null) {
      query.append("&mode=").append(encode(mode));
    }
    if (cursor != null) {
      query.append("&cursor=").append(encode(cursor));
    }
    com.fasterxml.jackson.databind.JsonNode body =
        http.coordinator(null, "GET", query.toString(), null, Duration.ZERO).body();
    java.util.List<TransactionView> items = new java.util.ArrayList<>();
    for (com.fasterxml.jackson.databind.JsonNode item : body.path("items")) {
      items.add(TransactionView.from(item));
    }
    com.fasterxml.jackson.databind.JsonNode next = body.get("nextCursor");
    return new Page(items, next == null || next.isNull() ? null : next.asText());
  }

  private static String encode(String text) {
    return java.net.URLEncoder.encode(text, java.nio.charset.StandardCharsets.UTF_8);
  }

  /** The initiator's commit of a tcc or msg transaction; repeating it is harmless. */
  public Submitted commit(String gid) {
    return decide(gid, "commit");
  }

  /** The initiator's abort of a tcc or msg transaction; repeating it is harmless. */
  public Submitted abort(String gid) {
    return decide(gid, "abort");
  }

  /** Creates or replaces a subscription of {@code topic}'s messages to {@code target}. */
  public void subscribe(String name, String topic, String target) {
    ObjectNode body = Http.JSON.createObjectNode().put("topic", topic).put("target", target);
    http.coordinator(null, "PUT", "/api/v1/subscriptions/" + name, body, Duration.ZERO);
  }

  private Submitted decide(String gid, String decision) {
    checkGid(gid);
    Http.Answer answer =
        http.coordinator(
            gid, "POST", "/api/v1/transactions/" + gid + "/" + decision, null, Duration.ZERO);
    return new Submitted(gid, answer.body().path("status").asText());
  }

  Submitted create(ObjectNode body) {
    String gid = body.path("gid").asText();
    Http.Answer answer = http.coordinator(gid, "POST", "/api/v1/transactions", body, Duration.ZERO);
    return new Submitted(gid, answer.body().path("status").asText());
  }

  /**
   * Creates the transaction and waits, at most {@code wait}, for its outcome in the same request
   * ({@code POST /api/v1/transactions?waitSeconds=N}, N at most 30): one exchange where create and
   * {@link #await} would take two. When the answer is not final yet (the wait was longer than one
   * request may wait, or the coordinator answered at once), the rest of {@code wait} is spent in
   * {@link #await}.
   *
   * @throws PledgeInDoubtException when it is not final after {@code wait}
   */
  TransactionView createAndAwait(ObjectNode body, Duration wait) {
    Objects.requireNonNull(wait, "wait");
    String gid = body.path("gid").asText();
    Instant deadline = Instant.now().plus(wait);
    long seconds = Math.min(MAX_WAIT_SECONDS, Math.max(0, (wait.toMillis() + 999) / 1000));
    String path = "/api/v1/transactions" + (seconds > 0 ? "?waitSeconds=" + seconds : "");
    Http.Answer answer = http.coordinator(gid, "POST", path, body, Duration.ofSeconds(seconds));
    if (answer.body().path("final").asBoolean(false)) {
      return TransactionView.from(answer.body());
    }
    Duration remaining = Duration.between(Instant.now(), deadline);
    return await(gid, remaining.isNegative() ? Duration.ZERO : remaining);
  }

  Http http() {
    return http;
  }

  static String checkGid(String gid) {
    if (gid == null || !Gid.isValid(gid)) {
      throw new IllegalArgumentException("gid must match [A-Za-z0-9._:-]{1,128}, was " + gid);
    }
    return gid;
  }

  static long timeoutSeconds(Duration timeout) {
    long seconds = timeout.toSeconds();
    if (timeout.isNegative()
        || seconds < 1
        || seconds > 86_400
        || timeout.toNanos() % 1_000_000_000L != 0) {
      throw new IllegalArgumentException(
          "timeout must be whole seconds from 1 s to 86400 s, was " + timeout);
    }
    return seconds;
  }

  @Override
  public void close() {
    http.close();
  }
}
