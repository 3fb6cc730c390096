package dev.pledge.server.lra;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.sun.net.httpserver.HttpExchange;
import dev.pledge.core.Branch;
import dev.pledge.core.BranchSpec;
import dev.pledge.core.Gid;
import dev.pledge.core.InvalidSpecException;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Event;
import dev.pledge.core.lra.LraDecider;
import dev.pledge.core.runtime.Coordinator;
import dev.pledge.core.spi.TransactionLog;
import dev.pledge.server.runtime.LongPolls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.URI;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * {@code /lra-coordinator}: a MicroProfile LRA coordinator speaking Narayana's REST dialect (API
 * version 1.2), so services using Narayana's LRA client (Quarkus, WildFly, …) point at Pledge by
 * changing one URL. Each LRA is a transaction of mode {@code lra} in the same log, driven by the
 * same runtime as every other mode (docs/lra.md, docs/protocols/lra.md).
 */
public final class LraCoordinatorApi {
  public static final String API_VERSION_HEADER = "Narayana-LRA-API-version";
  public static final String API_VERSION = "1.2";
  public static final String PARTICIPANT_DATA_HEADER = "Narayana-LRA-Participant-Data";
  public static final String RECOVERY_HEADER = "Long-Running-Action-Recovery";

  /** How long close and cancel wait for the LRA to end before answering its status so far. */
  static final Duration END_WAIT = Duration.ofSeconds(5);

  /** How long the nested participant endpoints wait for the nested LRA to end. */
  static final Duration NESTED_WAIT = Duration.ofSeconds(2);

  private static final int MAX_BODY = 64 * 1024;
  private static final Pattern LINK =
      Pattern.compile("<([^>]*)>((?:\\s*;\\s*[A-Za-z*]+\\s*=\\s*(?:\"[^\"]*\"|[^;,]*))*)");
  private static final Pattern REL = Pattern.compile("rel\\s*=\\s*\"?([A-Za-z-]+)\"?");
  private static final Map<String, Op> RELS =
      Map.of(
          "complete", Op.COMPLETE,
          "compensate", Op.COMPENSATE,
          "status", Op.STATUS,
          "forget", Op.FORGET,
          "after", Op.AFTER);

  private final Coordinator coordinator;
  private final TransactionLog log;
  private final LongPolls longPolls;
  private final LraIds ids;
  private final SecureRandom random = new SecureRandom();
  private final ObjectMapper json = new ObjectMapper();

  public LraCoordinatorApi(
      Coordinator coordinator, TransactionLog log, LongPolls longPolls, LraIds ids) {
    this.coordinator = Objects.requireNonNull(coordinator, "coordinator");
    this.log = Objects.requireNonNull(log, "log");
    this.longPolls = Objects.requireNonNull(longPolls, "longPolls");
    this.ids = Objects.requireNonNull(ids, "ids");
  }

  /** What one request is answered: status, content type, body and extra headers. */
  record Reply(int status, String contentType, String body, Map<String, String> headers) {
    static Reply text(int status, String body) {
      return new Reply(status, "text/plain", body, Map.of());
    }

    static Reply json(int status, String body) {
      return new Reply(status, "application/json", body, Map.of());
    }
  }

  /** Serves one exchange under {@link LraIds#PATH}. */
  public void handle(HttpExchange exchange) throws IOException {
    try (exchange) {
      byte[] bytes;
      try (InputStream in = exchange.getRequestBody()) {
        bytes = in.readNBytes(MAX_BODY);
      }
      URI uri = exchange.getRequestURI();
      Reply reply;
      try {
        reply =
            route(
                exchange.getRequestMethod(),
                uri.getRawPath().substring(LraIds.PATH.length()),
                query(uri.getRawQuery()),
                exchange.getRequestHeaders()::getFirst,
                new String(bytes, StandardCharsets.UTF_8));
      } catch (InvalidSpecException e) {
        reply = Reply.text(400, e.errors().toString());
      } catch (Coordinator.OverloadedException e) {
        reply = Reply.text(503, "overloaded: " + e.getMessage());
      } catch (RuntimeException e) {
        reply = Reply.text(500, e.getClass().getSimpleName() + ": " + e.getMessage());
      }
      exchange.getResponseHeaders().set(API_VERSION_HEADER, API_VERSION);
      exchange.getResponseHeaders().set("Content-Type", reply.contentType());
      reply.headers().forEach(exchange.getResponseHeaders()::set);
      byte[] out = reply.body().getBytes(StandardCharsets.UTF_8);
      exchange.sendResponseHeaders(reply.status(), out.length == 0 ? -1 : out.length);
      if (out.length > 0) {
        try (OutputStream body = exchange.getResponseBody()) {
          body.write(out);
        }
      }
    }
  }

  /** Reads one request header. */
  interface Headers {
    String get(String name);
  }

  Reply route(String method, String path, Map<String, String> query, Headers headers, String body) {
    List<String> parts = new ArrayList<>();
    for (String part : path.split("/")) {
      if (!part.isEmpty()) {
        parts.add(URLDecoder.decode(part, StandardCharsets.UTF_8));
      }
    }
    if (parts.isEmpty()) {
      return method.equals("GET") ? list(query.get("Status")) : notAllowed();
    }
    String first = parts.get(0);
    if (first.equals("start") && parts.size() == 1) {
      return method.equals("POST") ? start(query) : notAllowed();
    }
    if (first.equals("recovery")) {
      if (parts.size() == 1 && method.equals("GET")) {
        return recoverNow();
      }
      if (parts.size() == 2 && method.equals("GET")) {
        return info(parts.get(1));
      }
      return Reply.text(404, "no such recovery record");
    }
    if (first.equals("nested") && parts.size() == 3) {
      return nested(method, parts.get(1), parts.get(2));
    }
    String gid = first;
    if (!Gid.isValid(gid)) {
      return Reply.text(404, "no LRA " + gid);
    }
    if (parts.size() == 1) {
      return switch (method) {
        case "GET" -> info(gid);
        case "PUT", "POST" -> join(gid, headers, body);
        default -> notAllowed();
      };
    }
    if (parts.size() == 2) {
      String action = parts.get(1);
      return switch (action) {
        case "status" -> method.equals("GET") ? status(gid) : notAllowed();
        case "close" -> method.equals("PUT") ? end(gid, true) : notAllowed();
        case "cancel" -> method.equals("PUT") ? end(gid, false) : notAllowed();
        case "remove" -> method.equals("PUT") ? leave(gid, body) : notAllowed();
        default -> Reply.text(404, "no such LRA resource: " + action);
      };
    }
    return Reply.text(404, "no such LRA resource");
  }

  private static Reply notAllowed() {
    return Reply.text(405, "method not allowed");
  }

  // --- start ----------------------------------------------------------------------------------

  private Reply start(Map<String, String> query) {
    Duration timeLimit = null;
    String limitText = query.getOrDefault("TimeLimit", "");
    if (!limitText.isEmpty()) {
      long millis;
      try {
        millis = Long.parseLong(limitText);
      } catch (NumberFormatException e) {
        return Reply.text(400, "TimeLimit must be a number of milliseconds, got " + limitText);
      }
      if (millis > 0) {
        timeLimit = Duration.ofMillis(millis);
      }
    }
    String parentText = query.getOrDefault("ParentLRA", "");
    // The client encodes the parent's id twice; the query was decoded once.
    while (parentText.startsWith("http%3A") || parentText.startsWith("https%3A")) {
      parentText = URLDecoder.decode(parentText, StandardCharsets.UTF_8);
    }
    String parentGid = parentText.isEmpty() ? null : uidOf(parentText);
    String own = HexFormat.of().formatHex(randomBytes(parentGid == null ? 10 : 4));
    String gid = parentGid == null ? own : parentGid + "." + own;
    if (parentGid != null) {
      Transaction parent = coordinator.load(Gid.of(parentGid));
      if (parent == null || parent.mode() != Mode.LRA || parent.isFinal()) {
        return Reply.text(404, "no active parent LRA " + parentText);
      }
      if (parent.status() != Status.BEGUN) {
        return Reply.text(412, "the parent LRA is " + LraDecider.lraStatus(parent));
      }
      if (gid.length() > Gid.MAX_LENGTH) {
        return Reply.text(412, "LRAs nest too deep for a gid of " + Gid.MAX_LENGTH + " characters");
      }
    }
    TransactionSpec spec =
        new TransactionSpec(Gid.of(gid), Mode.LRA, timeLimit, List.of(), List.of(), null);
    Coordinator.Answer answer = coordinator.begin(spec);
    if (!(answer instanceof Coordinator.Answer.Accepted)) {
      return Reply.text(500, "the LRA could not be started: " + answer);
    }
    if (parentGid != null) {
      // The nested LRA takes part in its parent through the coordinator's own endpoints.
      Map<Op, String> urls = new EnumMap<>(Op.class);
      urls.put(Op.COMPLETE, ids.nested(gid, "complete"));
      urls.put(Op.COMPENSATE, ids.nested(gid, "compensate"));
      urls.put(Op.STATUS, ids.nested(gid, "status"));
      BranchSpec branch = new BranchSpec("nested-" + own, urls, "", List.of());
      Coordinator.Answer joined =
          coordinator.request(Gid.of(parentGid), new Event.BranchRegistered(branch));
      if (!(joined instanceof Coordinator.Answer.Accepted)) {
        coordinator.request(Gid.of(gid), new Event.AbortRequested());
        return Reply.text(412, "the nested LRA could not join its parent: " + joined);
      }
    }
    String id = ids.id(gid);
    return new Reply(201, "text/plain", id, Map.of("Location", id));
  }

  private byte[] randomBytes(int n) {
    byte[] bytes = new byte[n];
    random.nextBytes(bytes);
    return bytes;
  }

  /** The uid (our gid) of an LRA id: the last segment of its path. */
  static String uidOf(String id) {
    String path = id;
    int query = path.indexOf('?');
    if (query >= 0) {
      path = path.substring(0, query);
    }
    while (path.endsWith("/")) {
      path = path.substring(0, path.length() - 1);
    }
    return path.substring(path.lastIndexOf('/') + 1);
  }

  // --- join and leave -------------------------------------------------------------------------

  private Reply join(String gid, Headers headers, String body) {
    String links = headers.get("Link");
    if (links == null || links.isBlank()) {
      links = body;
    }
    Map<Op, String> urls = parseLinks(links);
    if (urls.isEmpty()) {
      return Reply.text(400, "a participant needs a Link header naming its URLs");
    }
    String data = headers.get(PARTICIPANT_DATA_HEADER);
    BranchSpec participant =
        new BranchSpec(participantId(urls), urls, data == null ? "" : data, List.of());
    Coordinator.Answer answer =
        coordinator.request(Gid.of(gid), new Event.BranchRegistered(participant));
    return switch (answer) {
      case Coordinator.Answer.NotFound n -> Reply.text(404, "no LRA " + gid);
      case Coordinator.Answer.Rejected r -> {
        Transaction now = coordinator.load(Gid.of(gid));
        yield now == null || now.isFinal()
            ? Reply.text(404, "no active LRA " + gid) // ended: the client reads 410
            : Reply.text(r.reason().startsWith("[") ? 400 : 412, r.reason());
      }
      case Coordinator.Answer.Accepted a -> {
        if (a.state().mode() != Mode.LRA || a.state().isFinal()) {
          yield Reply.text(404, "no active LRA " + gid);
        }
        String recovery = ids.recovery(gid, participant.branchId());
        Map<String, String> out = new LinkedHashMap<>();
        out.put(RECOVERY_HEADER, recovery);
        out.put("Location", recovery);
        if (data != null) {
          out.put(PARTICIPANT_DATA_HEADER, data);
        }
        yield new Reply(200, "text/plain", recovery, out);
      }
    };
  }

  private Reply leave(String gid, String body) {
    Transaction tx = coordinator.load(Gid.of(gid));
    if (tx == null || tx.mode() != Mode.LRA || tx.isFinal()) {
      return Reply.text(404, "no active LRA " + gid);
    }
    Map<Op, String> urls = parseLinks(body);
    String branchId = null;
    if (!urls.isEmpty()) {
      branchId = participantId(urls);
    }
    if (branchId == null || tx.branch(branchId) == null) {
      String url = body.strip();
      for (Branch branch : tx.branches()) {
        if (branch.urls().containsValue(url) || branch.branchId().equals(url)) {
          branchId = branch.branchId();
        }
      }
    }
    if (branchId == null || tx.branch(branchId) == null) {
      return Reply.text(400, "no participant of " + gid + " matches the body");
    }
    Coordinator.Answer answer = coordinator.request(Gid.of(gid), new Event.BranchLeft(branchId));
    return switch (answer) {
      case Coordinator.Answer.NotFound n -> Reply.text(404, "no LRA " + gid);
      case Coordinator.Answer.Rejected r -> Reply.text(412, r.reason());
      case Coordinator.Answer.Accepted a -> Reply.text(200, "");
    };
  }

  /** The URLs of an RFC 5988 link list, by the rel each is given. */
  static Map<Op, String> parseLinks(String links) {
    Map<Op, String> urls = new EnumMap<>(Op.class);
    if (links == null) {
      return urls;
    }
    Matcher link = LINK.matcher(links);
    while (link.find()) {
      Matcher rel = REL.matcher(link.group(2));
      if (rel.find()) {
        Op op = RELS.get(rel.group(1).toLowerCase(Locale.ROOT));
        if (op != null) {
          urls.putIfAbsent(op, link.group(1).strip());
        }
      }
    }
    return urls;
  }

  /** A participant's id: the same URLs always name the same participant. */
  static String participantId(Map<Op, String> urls) {
    try {
      MessageDigest sha = MessageDigest.getInstance("SHA-256");
      for (Map.Entry<Op, String> entry : urls.entrySet()) {
        sha.update((entry.getKey().label() + "=" + entry.getValue() + "\n").getBytes(UTF8));
      }
      return "p-" + HexFormat.of().formatHex(sha.digest(), 0, 10);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is missing", e);
    }
  }

  private static final java.nio.charset.Charset UTF8 = StandardCharsets.UTF_8;

  // --- ending ---------------------------------------------------------------------------------

  private Reply end(String gid, boolean close) {
    Gid id = Gid.of(gid);
    Transaction tx = coordinator.load(id);
    if (tx == null || tx.mode() != Mode.LRA || tx.isFinal()) {
      // Like Narayana: an LRA that has ended is unknown; the client reads 404 as "ended already".
      return Reply.text(404, "no active LRA " + gid);
    }
    if (close && tx.status() == Status.PREPARED) {
      return Reply.text(200, LraDecider.lraStatus(tx)); // a nested LRA closed already
    }
    if (tx.status() == (close ? Status.ABORTING : Status.COMMITTING)) {
      // Ending the other way (a time limit, the participant's own cancel): once it has ended, the
      // client's close or cancel reads 404 as "ended already"; until then it is too late (412).
      Transaction waited = longPolls.awaitFinal(coordinator, id, END_WAIT);
      return waited != null && waited.isFinal()
          ? Reply.text(404, "no active LRA " + gid + ": it ended " + LraDecider.lraStatus(waited))
          : Reply.text(412, "the LRA is " + LraDecider.lraStatus(tx));
    }
    Coordinator.Answer answer =
        coordinator.request(id, close ? new Event.CommitRequested() : new Event.AbortRequested());
    return switch (answer) {
      case Coordinator.Answer.NotFound n -> Reply.text(404, "no LRA " + gid);
      case Coordinator.Answer.Rejected r -> Reply.text(412, r.reason());
      case Coordinator.Answer.Accepted a -> {
        Transaction now = a.state();
        if (now.status() == Status.PREPARED) {
          now = awaitProvisionalClose(id, now);
        } else if (!now.isFinal()) {
          Transaction waited = longPolls.awaitFinal(coordinator, id, END_WAIT);
          now = waited == null ? now : waited;
        }
        yield Reply.text(200, LraDecider.lraStatus(now));
      }
    };
  }

  /**
   * Waits, up to {@link #END_WAIT}, until every participant of a nested LRA closed provisionally
   * has answered its completion (nothing signals that, so it looks every 20 ms), as Narayana's
   * close answers once its participants are done.
   */
  private Transaction awaitProvisionalClose(Gid id, Transaction tx) {
    long until = System.nanoTime() + END_WAIT.toNanos();
    Transaction now = tx;
    while (now != null
        && now.status() == Status.PREPARED
        && LraDecider.lraStatus(now).equals("Closing")
        && System.nanoTime() < until) {
      try {
        Thread.sleep(20);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
      now = coordinator.load(id);
    }
    return now == null ? tx : now;
  }

  /**
   * The coordinator's own participant endpoints of a nested LRA, called by its parent's end:
   * complete closes it for good, compensate cancels it (completed participants included), status
   * reports how far it got. {@code 202} while it is still ending.
   */
  private Reply nested(String method, String gid, String op) {
    if (!Gid.isValid(gid)) {
      return Reply.text(410, "no LRA " + gid);
    }
    Gid id = Gid.of(gid);
    Transaction tx = coordinator.load(id);
    if (tx == null) {
      return Reply.text(410, "no LRA " + gid);
    }
    switch (op) {
      case "complete" -> {
        if (!method.equals("PUT")) {
          return notAllowed();
        }
        if (tx.status() == Status.BEGUN) {
          coordinator.request(id, new Event.CommitRequested()); // its own close first
        }
        coordinator.request(id, new Event.CommitRequested());
      }
      case "compensate" -> {
        if (!method.equals("PUT")) {
          return notAllowed();
        }
        coordinator.request(id, new Event.AbortRequested());
      }
      case "status" -> {
        if (!method.equals("GET")) {
          return notAllowed();
        }
      }
      default -> {
        return Reply.text(404, "no such nested resource: " + op);
      }
    }
    Transaction now = coordinator.load(id);
    if (!op.equals("status") && now != null && !now.isFinal()) {
      Transaction waited = longPolls.awaitFinal(coordinator, id, NESTED_WAIT);
      now = waited == null ? now : waited;
    }
    if (now == null) {
      return Reply.text(410, "no LRA " + gid);
    }
    return switch (now.status()) {
      case COMMITTED -> Reply.text(200, "Completed");
      case ABORTED -> Reply.text(200, "Compensated");
      case ABORTING -> Reply.text(202, "Compensating");
      case COMMITTING, PREPARED -> Reply.text(202, "Completing");
      case BEGUN -> Reply.text(202, "Active");
    };
  }

  // --- reading --------------------------------------------------------------------------------

  private Reply info(String gid) {
    Transaction tx = Gid.isValid(gid) ? coordinator.load(Gid.of(gid)) : null;
    if (tx == null || tx.mode() != Mode.LRA || tx.isFinal()) {
      return Reply.text(404, "no active LRA " + gid);
    }
    return Reply.json(200, data(tx).toString());
  }

  private Reply status(String gid) {
    Transaction tx = Gid.isValid(gid) ? coordinator.load(Gid.of(gid)) : null;
    if (tx == null || tx.mode() != Mode.LRA || tx.isFinal()) {
      return Reply.text(404, "no active LRA " + gid);
    }
    return Reply.text(200, LraDecider.lraStatus(tx));
  }

  private Reply list(String statusFilter) {
    ArrayNode out = json.createArrayNode();
    for (Transaction tx : unfinished()) {
      String status = LraDecider.lraStatus(tx);
      if (statusFilter == null || statusFilter.isEmpty() || statusFilter.equals(status)) {
        out.add(data(tx));
      }
    }
    return Reply.json(200, out.toString());
  }

  /** "Recover now": every LRA that is ending has its waiting calls sent at once. */
  private Reply recoverNow() {
    ArrayNode out = json.createArrayNode();
    for (Transaction tx : unfinished()) {
      if (tx.status() == Status.COMMITTING || tx.status() == Status.ABORTING) {
        coordinator.request(tx.gid(), new Event.RetryNow());
        Transaction now = coordinator.load(tx.gid());
        if (now != null && !now.isFinal()) {
          out.add(data(now));
        }
      }
    }
    return Reply.json(200, out.toString());
  }

  private List<Transaction> unfinished() {
    List<Transaction> all = new ArrayList<>();
    for (Status status :
        List.of(Status.BEGUN, Status.PREPARED, Status.COMMITTING, Status.ABORTING)) {
      String cursor = null;
      do {
        TransactionLog.Page page =
            log.page(
                new TransactionLog.Query(
                    status,
                    Mode.LRA,
                    null,
                    null,
                    null,
                    false,
                    null,
                    TransactionLog.Query.MAX_LIMIT,
                    cursor));
        all.addAll(page.items());
        cursor = page.nextCursor();
      } while (cursor != null && all.size() < 10_000);
    }
    return all;
  }

  private ObjectNode data(Transaction tx) {
    ObjectNode node = json.createObjectNode();
    String gid = tx.gid().value();
    node.put("lraId", ids.id(gid));
    node.put("clientId", "");
    node.put("status", LraDecider.lraStatus(tx));
    node.put("startTime", tx.createdAt().toEpochMilli());
    node.put("finishTime", tx.isFinal() ? tx.updatedAt().toEpochMilli() : 0L);
    node.put("httpStatus", 200);
    node.put("topLevel", !LraDecider.isNested(gid));
    node.put("recovering", tx.flag() != null);
    if (LraDecider.isNested(gid)) {
      node.put("parentLraId", ids.parentId(gid));
    }
    return node;
  }

  private static Map<String, String> query(String raw) {
    Map<String, String> query = new LinkedHashMap<>();
    if (raw == null || raw.isEmpty()) {
      return query;
    }
    for (String pair : raw.split("&", 16)) {
      int eq = pair.indexOf('=');
      String key = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
      String value =
          eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
      query.putIfAbsent(key, value);
    }
    return query;
  }
}
