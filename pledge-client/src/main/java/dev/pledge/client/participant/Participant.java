package dev.pledge.client.participant;

import com.fasterxml.jackson.databind.JsonNode;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import dev.pledge.client.barrier.Barrier;
import dev.pledge.client.barrier.BarrierOutcome;
import dev.pledge.client.barrier.BusinessRefusal;
import dev.pledge.client.barrier.CheckBackStatus;
import dev.pledge.client.barrier.LocalTransactions;
import dev.pledge.client.inbox.InboxConflictException;
import dev.pledge.client.outbox.CoordinatorSink;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageHandler;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.sql.Connection;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.function.Function;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A participant's endpoints for the coordinator's calls (docs/protocol.md, "The participant
 * protocol"): ops behind the barrier, the {@code msg} check-back, and message deliveries into a
 * handler (the inbox). Each is an {@link HttpHandler} for the JDK's {@code HttpServer}, and also a
 * plain function ({@link #answerOp}, ...) from headers and body to an {@link Answer}, for any other
 * HTTP server.
 *
 * <pre>{@code
 * Participant participant = Participant.create(Barrier.create(dataSource));
 * server.createContext("/stock/reserve", participant.op(Op.ACTION, (connection, request) -> {
 *   if (!reserve(connection, request.payload())) throw new BusinessRefusal("out of stock");
 * }));
 * server.createContext("/stock/release", participant.op(Op.COMPENSATE, this::release));
 * }</pre>
 *
 * <p>An op's answer: {@code 200 {"outcome": "ran" | "duplicate" | "null_compensation" |
 * "hanging"}}; {@code 409} for a {@link BusinessRefusal} of a forward op; {@code 400} naming the
 * header that is missing or wrong; {@code 503} when the database failed (unknown: the coordinator
 * calls again, and the barrier makes that safe).
 */
public final class Participant {
  /** Bodies are payloads of at most 1 MiB; a little more is read to answer 413 clearly. */
  static final int MAX_BODY_BYTES = 1024 * 1024 + 1024;

  private static final Logger LOG = LoggerFactory.getLogger(Participant.class);
  private static final Set<String> DELIVERY_HEADERS =
      Set.of("pledge-message-id", "pledge-topic", "pledge-key", "pledge-gid");
  private static final Set<String> TRANSPORT_HEADERS =
      Set.of(
          "content-type",
          "content-length",
          "host",
          "connection",
          "user-agent",
          "accept",
          "accept-encoding",
          "upgrade",
          "http2-settings",
          "expect",
          "transfer-encoding",
          "keep-alive",
          "te",
          "trailer");

  /** The business side of one op, run in the barrier's local transaction. */
  @FunctionalInterface
  public interface Action {
    void run(Connection connection, ParticipantRequest request) throws SQLException;
  }

  private final Barrier barrier;
  private final LocalTransactions transactions;

  private Participant(Barrier barrier, LocalTransactions transactions) {
    this.barrier = Objects.requireNonNull(barrier, "barrier");
    this.transactions = transactions;
  }

  /** Endpoints guarded by {@code barrier}, each op in a local transaction on its DataSource. */
  public static Participant create(Barrier barrier) {
    return new Participant(barrier, null);
  }

  /**
   * Endpoints guarded by {@code barrier}, each op in a local transaction that {@code transactions}
   * runs (the service's own transaction management).
   */
  public static Participant create(Barrier barrier, LocalTransactions transactions) {
    return new Participant(barrier, Objects.requireNonNull(transactions, "transactions"));
  }

  /** {@code POST} handler for {@code op}. */
  public HttpHandler op(Op op, Action action) {
    Objects.requireNonNull(op, "op");
    Objects.requireNonNull(action, "action");
    return exchange ->
        serve(exchange, "POST", (headers, body) -> answerOp(op, headers, body, action));
  }

  /** {@code GET ?gid=} handler answering a {@code msg} check-back from the barrier. */
  public HttpHandler checkBack() {
    return exchange ->
        serve(
            exchange,
            "GET",
            (headers, body) -> answerCheckBack(query(exchange.getRequestURI().getRawQuery())));
  }

  /** {@code POST} handler for the coordinator's deliveries of messages to {@code handler}. */
  public static HttpHandler deliveries(MessageHandler handler) {
    Objects.requireNonNull(handler, "handler");
    return exchange ->
        serve(exchange, "POST", (headers, body) -> answerDelivery(headers, body, handler));
  }

  /**
   * Answers one op call: checks the headers (names lower case), runs the action behind the barrier
   * in one local transaction.
   */
  public Answer answerOp(Op op, Map<String, String> headers, byte[] body, Action action) {
    List<String> problems = new ArrayList<>();
    ParticipantRequest request = parse(op, headers, body, problems);
    if (request == null) {
      return Answer.error(400, "invalid_request", String.join("; ", problems));
    }
    ParticipantRequest checked = request;
    String gid = request.gid();
    String branch = request.branch();
    try {
      BarrierOutcome outcome;
      if (transactions == null) {
        outcome = barrier.run(checked.call(), c -> action.run(c, checked));
      } else {
        BarrierOutcome[] ran = new BarrierOutcome[1];
        transactions.inTransaction(
            c -> ran[0] = barrier.run(c, checked.call(), conn -> action.run(conn, checked)));
        outcome = ran[0];
      }
      return Answer.json(200, "{\"outcome\":\"" + outcome.name().toLowerCase(Locale.ROOT) + "\"}");
    } catch (BusinessRefusal refusal) {
      return Answer.error(409, "refused", String.valueOf(refusal.getMessage()));
    } catch (SQLException e) {
      LOG.warn("{} of {}/{}: database failed: {}", op.label(), gid, branch, e.toString());
      return Answer.error(503, "unavailable", "the database failed: " + e.getMessage());
    }
  }

  /**
   * The op call that {@code headers} (names lower case) and {@code body} make, checked; or null,
   * with every problem added to {@code problems}.
   */
  static ParticipantRequest parse(
      Op op, Map<String, String> headers, byte[] body, List<String> problems) {
    String gid = required(headers, "pledge-gid", problems);
    String branch = required(headers, "pledge-branch", problems);
    String opLabel = required(headers, "pledge-op", problems);
    String modeLabel = required(headers, "pledge-mode", problems);
    String attemptText = required(headers, "pledge-attempt", problems);
    if (opLabel != null && !opLabel.equals(op.label())) {
      problems.add("Pledge-Op: this endpoint serves " + op.label() + ", was " + opLabel);
    }
    Mode mode = null;
    if (modeLabel != null) {
      List<String> modes = new ArrayList<>();
      for (Mode candidate : modesOf(op)) {
        modes.add(candidate.code());
        if (candidate.code().equals(modeLabel)) {
          mode = candidate;
        }
      }
      if (mode == null) {
        problems.add(
            "Pledge-Mode: "
                + op.label()
                + " is an op of "
                + String.join(" or ", modes)
                + ", was "
                + modeLabel);
      }
    }
    int attempt = 0;
    if (attemptText != null) {
      try {
        attempt = Integer.parseInt(attemptText);
      } catch (NumberFormatException e) {
        attempt = 0;
      }
      if (attempt < 1) {
        problems.add("Pledge-Attempt: a positive integer, was " + attemptText);
      }
    }
    JsonNode payload = null;
    try {
      payload = body.length == 0 ? Json.MAPPER.createObjectNode() : Json.MAPPER.readTree(body);
    } catch (IOException e) {
      problems.add("body: not JSON (" + e.getMessage().lines().findFirst().orElse("") + ")");
    }
    ParticipantRequest request = null;
    if (problems.isEmpty()) {
      try {
        request =
            new ParticipantRequest(
                gid, branch, op, mode, attempt, payload, headers.get("traceparent"));
        request.call();
      } catch (IllegalArgumentException e) {
        problems.add(e.getMessage());
      }
    }
    return problems.isEmpty() ? request : null;
  }

  /** Answers a check-back for {@code query.get("gid")}. */
  public Answer answerCheckBack(Map<String, String> query) {
    String gid = query.get("gid");
    if (gid == null) {
      return Answer.error(400, "invalid_request", "gid: required in the query");
    }
    try {
      CheckBackStatus status;
      if (transactions == null) {
        status = barrier.checkBack(gid);
      } else {
        CheckBackStatus[] answered = new CheckBackStatus[1];
        transactions.inTransaction(c -> answered[0] = barrier.checkBack(c, gid));
        status = answered[0];
      }
      return Answer.json(200, "{\"status\":\"" + status.label() + "\"}");
    } catch (IllegalArgumentException e) {
      return Answer.error(400, "invalid_request", e.getMessage());
    } catch (SQLException e) {
      return Answer.error(503, "unavailable", "the database failed: " + e.getMessage());
    }
  }

  /**
   * Answers one delivery: builds the message from {@code Pledge-Message-Id}, {@code Pledge-Topic},
   * {@code Pledge-Key}, {@code Pledge-Gid} and the producer's own headers, and hands it to {@code
   * handler}. A message relayed by a {@link CoordinatorSink} (its {@code Pledge-Gid} is the sink's
   * gid for its id) gets back the gid it was published with, from {@code Outbox-Gid}, or none.
   * {@code 200} acknowledges; a conflict of ids is {@code 409}, any other failure {@code 500}: the
   * coordinator delivers again.
   */
  public static Answer answerDelivery(
      Map<String, String> headers, byte[] body, MessageHandler handler) {
    String id = headers.get("pledge-message-id");
    String topic = headers.get("pledge-topic");
    TransactionalMessage message;
    try {
      if (id == null || topic == null) {
        throw new IllegalArgumentException("Pledge-Message-Id and Pledge-Topic are required");
      }
      Map<String, String> own = new LinkedHashMap<>();
      headers.forEach((name, value) -> {
        if (!DELIVERY_HEADERS.contains(name) && !TRANSPORT_HEADERS.contains(name)) {
          own.put(name, headerValue(value));
        }
      });
      String gid = headers.get("pledge-gid");
      if (gid != null && gid.equals(CoordinatorSink.gidFor(id))) {
        // Relayed from an outbox through the coordinator: the message's own gid is in a header.
        gid = own.remove(CoordinatorSink.GID_HEADER.toLowerCase(Locale.ROOT));
      }
      message =
          new TransactionalMessage(
              id,
              topic,
              headers.get("pledge-key") == null ? null : headerValue(headers.get("pledge-key")),
              new String(body, StandardCharsets.UTF_8),
              own,
              gid);
    } catch (IllegalArgumentException e) {
      return Answer.error(400, "invalid_request", e.getMessage());
    }
    try {
      handler.handle(message);
      return Answer.json(200, "{}");
    } catch (InboxConflictException e) {
      LOG.error("delivery refused: {}", e.getMessage());
      return Answer.error(409, "conflict", e.getMessage());
    } catch (RuntimeException e) {
      LOG.warn("delivery of {} not handled: {}", id, e.toString());
      return Answer.error(500, "not_handled", String.valueOf(e.getMessage()));
    }
  }

  /**
   * A delivered header's value: the coordinator sends a value that is not printable ASCII as one
   * RFC 2047 encoded word of its UTF-8 bytes ({@code =?UTF-8?B?<base64>?=}); anything else as it
   * is.
   */
  static String headerValue(String value) {
    if (value.startsWith("=?UTF-8?B?") && value.endsWith("?=") && value.length() >= 12) {
      try {
        return new String(
            java.util.Base64.getDecoder().decode(value.substring(10, value.length() - 2)),
            StandardCharsets.UTF_8);
      } catch (IllegalArgumentException notBase64) {
        return value;
      }
    }
    return value;
  }

  /** The modes whose branches have {@code op}: prepare, commit and rollback are 2pc's and xa's. */
  static List<Mode> modesOf(Op op) {
    if (op == Op.CHECK) {
      throw new IllegalArgumentException("check is not a branch op");
    }
    List<Mode> modes = new ArrayList<>();
    for (Mode mode : Mode.values()) {
      if (mode.branchOps().contains(op)) {
        modes.add(mode);
      }
    }
    return modes;
  }

  private static String required(Map<String, String> headers, String name, List<String> problems) {
    String value = headers.get(name);
    if (value == null || value.isBlank()) {
      problems.add(display(name) + ": required");
      return null;
    }
    return value;
  }

  private static String display(String lower) {
    StringBuilder out = new StringBuilder();
    for (String part : lower.split("-")) {
      if (!out.isEmpty()) {
        out.append('-');
      }
      out.append(Character.toUpperCase(part.charAt(0))).append(part.substring(1));
    }
    return out.toString();
  }

  @FunctionalInterface
  interface Respond {
    Answer answer(Map<String, String> headers, byte[] body);
  }

  static void serve(HttpExchange exchange, String method, Respond respond) throws IOException {
    try (exchange) {
      Answer answer;
      if (!exchange.getRequestMethod().equals(method)) {
        answer = Answer.error(405, "method_not_allowed", "use " + method);
      } else {
        byte[] body = readBounded(exchange.getRequestBody());
        if (body == null) {
          answer = Answer.error(413, "too_large", "a body of at most " + MAX_BODY_BYTES + " bytes");
        } else {
          Map<String, String> headers = new LinkedHashMap<>();
          exchange
              .getRequestHeaders()
              .forEach((name, values) -> {
                if (!values.isEmpty()) {
                  headers.put(name.toLowerCase(Locale.ROOT), values.getFirst());
                }
              });
          try {
            answer = respond.answer(headers, body);
          } catch (RuntimeException e) {
            LOG.error("participant endpoint failed", e);
            answer = Answer.error(500, "internal", String.valueOf(e.getMessage()));
          }
        }
      }
      byte[] out = answer.body().getBytes(StandardCharsets.UTF_8);
      exchange.getResponseHeaders().set("Content-Type", "application/json");
      exchange.sendResponseHeaders(answer.status(), out.length == 0 ? -1 : out.length);
      if (out.length > 0) {
        try (OutputStream stream = exchange.getResponseBody()) {
          stream.write(out);
        }
      }
    }
  }

  private static byte[] readBounded(InputStream in) throws IOException {
    byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
    return bytes.length > MAX_BODY_BYTES ? null : bytes;
  }

  /** The query's parameters, decoded; the first of a repeated one wins. */
  public static Map<String, String> query(String raw) {
    Map<String, String> out = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return out;
    }
    for (String pair : raw.split("&")) {
      int eq = pair.indexOf('=');
      Function<String, String> decode = s -> URLDecoder.decode(s, StandardCharsets.UTF_8);
      String name = decode.apply(eq < 0 ? pair : pair.substring(0, eq));
      String value = eq < 0 ? "" : decode.apply(pair.substring(eq + 1));
      out.putIfAbsent(name, value);
    }
    return out;
  }
}
