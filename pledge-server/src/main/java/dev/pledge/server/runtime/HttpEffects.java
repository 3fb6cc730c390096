package dev.pledge.server.runtime;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.Outcome;
import dev.pledge.core.engine.Effect;
import dev.pledge.core.runtime.Transport;
import dev.pledge.server.lra.LraCoordinatorApi;
import dev.pledge.server.lra.LraIds;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Locale;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.apache.hc.client5.http.async.methods.AbstractBinResponseConsumer;
import org.apache.hc.client5.http.async.methods.SimpleHttpRequest;
import org.apache.hc.client5.http.async.methods.SimpleRequestBuilder;
import org.apache.hc.client5.http.async.methods.SimpleRequestProducer;
import org.apache.hc.client5.http.config.ConnectionConfig;
import org.apache.hc.client5.http.config.RequestConfig;
import org.apache.hc.client5.http.impl.async.CloseableHttpAsyncClient;
import org.apache.hc.client5.http.impl.async.HttpAsyncClients;
import org.apache.hc.client5.http.impl.nio.PoolingAsyncClientConnectionManagerBuilder;
import org.apache.hc.core5.concurrent.FutureCallback;
import org.apache.hc.core5.http.ContentType;
import org.apache.hc.core5.http.HttpResponse;
import org.apache.hc.core5.http2.HttpVersionPolicy;
import org.apache.hc.core5.io.CloseMode;
import org.apache.hc.core5.reactor.IOReactorConfig;
import org.apache.hc.core5.util.Timeout;

/**
 * The participant protocol over HTTP/1.1 with Apache HttpClient 5's asynchronous client (chosen by
 * measurement: {@code docs/http-client-choice.md}): pooled keep-alive connections (at most {@link
 * #MAX_CONNECTIONS_PER_ROUTE} to one participant address), a timeout on every call, no redirects
 * followed, no retries, no cookies, only allow-listed URLs called, at most {@link
 * #MAX_ANSWER_BYTES} of any answer kept (the rest is read and dropped).
 *
 * <p>An op is {@code POST url} with the payload and headers {@code Pledge-Gid}, {@code
 * Pledge-Branch}, {@code Pledge-Op}, {@code Pledge-Mode}, {@code Pledge-Attempt}: {@code 2xx}
 * succeeded, {@code 409} failed, {@code 425} pending, anything else or no answer unknown.
 * Check-back is {@code GET checkUrl?gid=…} answering {@code {"status": "committed" | "rolled_back"
 * | "pending"}}. A delivery is {@code POST target} with headers {@code Pledge-Message-Id}, {@code
 * Pledge-Topic}, {@code Pledge-Key}, {@code Pledge-Gid}; {@code 2xx} acknowledges it.
 *
 * <p>The client's I/O threads (one per core, daemon threads) run until {@link #close()}; answers
 * complete on them, so what the runtime does with an answer must not block (it queues it).
 */
public final class HttpEffects implements Transport, AutoCloseable {
  public static final int MAX_ANSWER_BYTES = 64 * 1024;

  /** Connections kept to one participant address (scheme, host, port); more calls queue. */
  public static final int MAX_CONNECTIONS_PER_ROUTE = 1024;

  /**
   * The most of a refusal's body kept as the op's {@code lastError}: enough for a reason, too
   * little to turn the log into a copy of what participants send.
   */
  public static final int MAX_ERROR_CHARS = 512;

  private static final ContentType JSON = ContentType.create("application/json");
  private static final ContentType TEXT = ContentType.create("text/plain", StandardCharsets.UTF_8);

  /** Headers a message may not set: HTTP's own framing (the API refuses them too). */
  private static final Set<String> RESTRICTED_HEADERS =
      Set.of("connection", "content-length", "expect", "host", "upgrade", "transfer-encoding");

  private static String abbreviate(String text) {
    return text.length() <= MAX_ERROR_CHARS ? text : text.substring(0, MAX_ERROR_CHARS) + "…";
  }

  private final CloseableHttpAsyncClient client;
  private final AllowList allowList;
  private final OutgoingHeaders outgoing;

  /** The ids of LRAs, for the headers of their callbacks; null: no LRA is ever called. */
  private final LraIds lraIds;

  private final ObjectMapper json = new ObjectMapper();

  public HttpEffects(Duration callTimeout, AllowList allowList) {
    this(callTimeout, allowList, OutgoingHeaders.NONE);
  }

  /** As {@link #HttpEffects(Duration, AllowList)}, adding {@code outgoing} to calls and checks. */
  public HttpEffects(Duration callTimeout, AllowList allowList, OutgoingHeaders outgoing) {
    this(callTimeout, allowList, outgoing, null);
  }

  /**
   * As {@link #HttpEffects(Duration, AllowList, OutgoingHeaders)}, calling LRA participants as
   * Narayana's coordinator does (see {@link #lraCall}), their LRAs named by {@code lraIds}.
   */
  public HttpEffects(
      Duration callTimeout, AllowList allowList, OutgoingHeaders outgoing, LraIds lraIds) {
    this.lraIds = lraIds;
    Objects.requireNonNull(callTimeout, "callTimeout");
    this.allowList = Objects.requireNonNull(allowList, "allowList");
    this.outgoing = Objects.requireNonNull(outgoing, "outgoing");
    Duration connect =
        callTimeout.compareTo(Duration.ofSeconds(5)) < 0 ? callTimeout : Duration.ofSeconds(5);
    this.client =
        HttpAsyncClients.custom()
            .setVersionPolicy(HttpVersionPolicy.FORCE_HTTP_1)
            .setIOReactorConfig(IOReactorConfig.custom().setTcpNoDelay(true).build())
            .disableRedirectHandling()
            .disableAutomaticRetries()
            .disableCookieManagement()
            .disableAuthCaching()
            .disableConnectionState()
            // No Accept-Encoding and no decoding step per answer: answers are a status and a few
            // bytes (a 409's reason).
            .disableContentCompression()
            .setConnectionManager(
                PoolingAsyncClientConnectionManagerBuilder.create()
                    .setMaxConnPerRoute(MAX_CONNECTIONS_PER_ROUTE)
                    .setMaxConnTotal(4 * MAX_CONNECTIONS_PER_ROUTE)
                    .setDefaultConnectionConfig(
                        ConnectionConfig.custom()
                            .setConnectTimeout(Timeout.of(connect))
                            .setSocketTimeout(Timeout.of(callTimeout))
                            .build())
                    .build())
            .setDefaultRequestConfig(
                RequestConfig.custom()
                    .setResponseTimeout(Timeout.of(callTimeout))
                    .setConnectionRequestTimeout(Timeout.of(callTimeout))
                    .build())
            .build();
    client.start();
  }

  @Override
  public CompletableFuture<Outcome> call(Effect.CallOp call) {
    if (!allowList.allows(call.url())) {
      return refused(call.url());
    }
    if (call.mode() == Mode.LRA) {
      return lraCall(call);
    }
    SimpleRequestBuilder request;
    try {
      request = SimpleRequestBuilder.post(URI.create(call.url()));
    } catch (IllegalArgumentException e) {
      return malformed(call.url(), e);
    }
    request
        .addHeader("Pledge-Gid", call.gid().value())
        .addHeader("Pledge-Branch", call.branchId())
        .addHeader("Pledge-Op", call.op().label())
        .addHeader("Pledge-Mode", call.mode().code())
        .addHeader("Pledge-Attempt", Integer.toString(call.attempt()))
        .setBody(call.payload().getBytes(StandardCharsets.UTF_8), JSON);
    outgoing.addTo(request::addHeader);
    return send(request.build()).thenApply(Answer::outcome);
  }

  /**
   * An LRA participant's callback, as MicroProfile LRA and Narayana define it: {@code PUT complete}
   * and {@code PUT compensate} with the participant's data as body, {@code PUT after} with the
   * LRA's final status, {@code GET status}, {@code DELETE forget}; headers {@code
   * Long-Running-Action} (and {@code -Ended} for after), {@code Long-Running-Action-Recovery}, and
   * {@code Long-Running-Action-Parent} for a nested LRA.
   */
  private CompletableFuture<Outcome> lraCall(Effect.CallOp call) {
    if (lraIds == null) {
      return CompletableFuture.completedFuture(
          new Outcome.Unknown("this coordinator serves no /lra-coordinator"));
    }
    String gid = call.gid().value();
    String id = lraIds.id(gid);
    URI url;
    try {
      url = URI.create(call.url());
    } catch (IllegalArgumentException e) {
      return malformed(call.url(), e);
    }
    Op op = call.op();
    SimpleRequestBuilder request =
        switch (op) {
          case COMPLETE, COMPENSATE -> {
            SimpleRequestBuilder put = SimpleRequestBuilder.put(url);
            if (!call.payload().isEmpty() && headerValue(call.payload()).equals(call.payload())) {
              put.addHeader(LraCoordinatorApi.PARTICIPANT_DATA_HEADER, call.payload());
            } // data that cannot be a header still goes as the body
            yield put.setBody(call.payload(), TEXT);
          }
          case AFTER ->
              SimpleRequestBuilder.put(url)
                  .addHeader("Long-Running-Action-Ended", id)
                  .setBody(call.payload(), TEXT);
          case FORGET -> SimpleRequestBuilder.delete(url);
          default -> SimpleRequestBuilder.get(url); // status
        };
    request
        .addHeader("Long-Running-Action", id)
        .addHeader("Long-Running-Action-Recovery", lraIds.recovery(gid, call.branchId()))
        .addHeader(LraCoordinatorApi.API_VERSION_HEADER, LraCoordinatorApi.API_VERSION);
    String parent = lraIds.parentId(gid);
    if (parent != null) {
      request.addHeader("Long-Running-Action-Parent", parent);
    }
    outgoing.addTo(request::addHeader);
    return send(request.build()).thenApply(answer -> lraOutcome(op, answer));
  }

  /** How an LRA participant's answer reads: see docs/protocols/lra.md. */
  static Outcome lraOutcome(Op op, Answer answer) {
    int status = answer.status();
    if (status == 0) {
      return new Outcome.Unknown(answer.error());
    }
    String said = answer.body().strip();
    if (said.length() >= 2 && said.startsWith("\"") && said.endsWith("\"")) {
      said = said.substring(1, said.length() - 1);
    }
    if (op == Op.FORGET || op == Op.AFTER) {
      return status / 100 == 2 || status == 404 || status == 410
          ? Outcome.SUCCEEDED
          : new Outcome.Unknown("HTTP " + status);
    }
    if (status == 410) {
      return Outcome.SUCCEEDED; // the participant has ended and forgotten the LRA
    }
    if (status == 202) {
      return Outcome.PENDING;
    }
    if (status == 409) {
      return new Outcome.Failed(op == Op.COMPLETE ? "FailedToComplete" : "FailedToCompensate");
    }
    if (status / 100 != 2) {
      return new Outcome.Unknown("HTTP " + status);
    }
    return switch (said) {
      case "FailedToComplete", "FailedToCompensate" -> new Outcome.Failed(said);
      case "Completing", "Compensating", "Active" -> Outcome.PENDING;
      default -> Outcome.SUCCEEDED;
    };
  }

  @Override
  public CompletableFuture<Outcome> checkBack(Effect.CheckBack check) {
    String url =
        check.checkUrl()
            + (check.checkUrl().contains("?") ? "&" : "?")
            + "gid="
            + URLEncoder.encode(check.gid().value(), StandardCharsets.UTF_8);
    if (!allowList.allows(url)) {
      return refused(url);
    }
    SimpleRequestBuilder request;
    try {
      request = SimpleRequestBuilder.get(URI.create(url));
    } catch (IllegalArgumentException e) {
      return malformed(url, e);
    }
    request.addHeader("Pledge-Gid", check.gid().value());
    outgoing.addTo(request::addHeader);
    return send(request.build()).thenApply(this::checkOutcome);
  }

  @Override
  public CompletableFuture<Outcome> deliver(Effect.Deliver delivery, String target) {
    if (!allowList.allows(target)) {
      return refused(target);
    }
    SimpleRequestBuilder request;
    try {
      request = SimpleRequestBuilder.post(URI.create(target));
    } catch (IllegalArgumentException e) {
      return malformed(target, e);
    }
    request
        .addHeader("Pledge-Message-Id", delivery.messageId())
        .addHeader("Pledge-Topic", delivery.topic())
        .addHeader("Pledge-Gid", delivery.gid().value());
    if (delivery.key() != null) {
      request.addHeader("Pledge-Key", headerValue(delivery.key()));
    }
    try {
      delivery
          .headers()
          .forEach((name, value) -> {
            String sent = headerValue(value);
            checkHeader(name, sent);
            request.addHeader(name, sent);
          });
    } catch (IllegalArgumentException e) {
      // The API refuses such headers; a message stored before it did is reported, not thrown.
      return CompletableFuture.completedFuture(
          new Outcome.Unknown("the message's headers cannot be sent: " + e.getMessage()));
    }
    request.setBody(delivery.payload().getBytes(StandardCharsets.UTF_8), JSON);
    return send(request.build())
        .thenApply(answer ->
            answer.status() / 100 == 2
                ? Outcome.SUCCEEDED
                : answer.status() == 0
                    ? answer.outcome()
                    : new Outcome.Unknown("HTTP " + answer.status()));
  }

  /** Stops the client's I/O threads; calls still awaiting answers end as unknown. */
  @Override
  public void close() {
    client.close(CloseMode.GRACEFUL);
  }

  /** A header name must be an HTTP token and not HTTP's own; a value has no line breaks. */
  private static void checkHeader(String name, String value) {
    if (name.isEmpty() || !name.chars().allMatch(HttpEffects::isTokenChar)) {
      throw new IllegalArgumentException("invalid header name \"" + name + "\"");
    }
    if (RESTRICTED_HEADERS.contains(name.toLowerCase(Locale.ROOT))) {
      throw new IllegalArgumentException("restricted header name: \"" + name + "\"");
    }
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c == '\r' || c == '\n' || c == 0) {
        throw new IllegalArgumentException("invalid header value for header \"" + name + "\"");
      }
    }
  }

  private static boolean isTokenChar(int c) {
    return c > 32 && c < 127 && "\"(),/:;<=>?@[\\]{}".indexOf(c) < 0;
  }

  /**
   * A header value as HTTP carries it: as it is when it is printable ASCII, else as one RFC 2047
   * encoded word of its UTF-8 bytes, {@code =?UTF-8?B?<base64>?=} (HTTP headers are not UTF-8).
   */
  static String headerValue(String value) {
    for (int i = 0; i < value.length(); i++) {
      char c = value.charAt(i);
      if (c < 0x20 || c > 0x7e) {
        return "=?UTF-8?B?"
            + java.util.Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8))
            + "?=";
      }
    }
    return value;
  }

  private static CompletableFuture<Outcome> refused(String url) {
    return CompletableFuture.completedFuture(
        new Outcome.Unknown("URL not on the allow-list: " + url));
  }

  private static CompletableFuture<Outcome> malformed(String url, IllegalArgumentException e) {
    return CompletableFuture.completedFuture(
        new Outcome.Unknown("malformed URL " + url + ": " + e.getMessage()));
  }

  /** An HTTP answer: its status and the first bytes of its body; status 0 means no answer. */
  record Answer(int status, String body, String error) {
    Outcome outcome() {
      if (status == 0) {
        return new Outcome.Unknown(error);
      }
      if (status / 100 == 2) {
        return Outcome.SUCCEEDED;
      }
      return switch (status) {
        case 409 -> new Outcome.Failed("409 " + abbreviate(body.strip()));
        case 425 -> Outcome.PENDING;
        default -> new Outcome.Unknown("HTTP " + status);
      };
    }
  }

  private CompletableFuture<Answer> send(SimpleHttpRequest request) {
    CompletableFuture<Answer> done = new CompletableFuture<>();
    try {
      var unused =
          client.execute(
              SimpleRequestProducer.create(request),
              new BoundedAnswer(),
              new FutureCallback<Answer>() {
                @Override
                public void completed(Answer answer) {
                  done.complete(answer);
                }

                @Override
                public void failed(Exception error) {
                  done.complete(failure(error));
                }

                @Override
                public void cancelled() {
                  done.complete(new Answer(0, "", "the call was cancelled"));
                }
              });
    } catch (RuntimeException e) {
      done.complete(failure(e)); // the client is closed, or the request could not be sent
    }
    return done;
  }

  private static Answer failure(Throwable error) {
    Throwable cause = error.getCause() != null ? error.getCause() : error;
    return new Answer(
        0,
        "",
        cause.getClass().getSimpleName()
            + (cause.getMessage() == null ? "" : ": " + cause.getMessage()));
  }

  /** Keeps the status and the first {@link #MAX_ANSWER_BYTES} of the body; drops the rest. */
  private static final class BoundedAnswer extends AbstractBinResponseConsumer<Answer> {
    private int status;
    private ByteArrayOutputStream head;

    @Override
    protected void start(HttpResponse response, ContentType contentType) {
      status = response.getCode();
    }

    @Override
    protected int capacityIncrement() {
      return Integer.MAX_VALUE;
    }

    @Override
    protected void data(ByteBuffer data, boolean endOfStream) {
      int room = MAX_ANSWER_BYTES - (head == null ? 0 : head.size());
      int keep = Math.min(room, data.remaining());
      if (keep > 0) {
        if (head == null) {
          head = new ByteArrayOutputStream(Math.min(keep, 1024));
        }
        byte[] bytes = new byte[keep];
        data.get(bytes);
        head.write(bytes, 0, keep);
      }
      data.position(data.limit()); // past the bound: read and dropped
    }

    @Override
    protected Answer buildResult() {
      return new Answer(status, head == null ? "" : head.toString(StandardCharsets.UTF_8), null);
    }

    @Override
    public void releaseResources() {
      // Nothing held: the kept bytes are the result's.
    }
  }

  private Outcome checkOutcome(Answer answer) {
    if (answer.status() / 100 != 2) {
      return answer.status() == 0
          ? answer.outcome()
          : new Outcome.Unknown("HTTP " + answer.status());
    }
    try {
      JsonNode status = json.readTree(answer.body()).path("status");
      return switch (status.asText("")) {
        case "committed" -> Outcome.SUCCEEDED;
        case "rolled_back" -> new Outcome.Failed("rolled_back");
        case "pending" -> Outcome.PENDING;
        default -> new Outcome.Unknown("check-back answered status '" + status.asText("") + "'");
      };
    } catch (IOException e) {
      return new Outcome.Unknown("check-back answer is not JSON");
    }
  }
}
