package dev.pledge.server.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pledge.core.Branch;
import dev.pledge.core.BranchSpec;
import dev.pledge.core.Delivery;
import dev.pledge.core.FieldError;
import dev.pledge.core.Gid;
import dev.pledge.core.InvalidSpecException;
import dev.pledge.core.Limits;
import dev.pledge.core.Message;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.Progress;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Event;
import dev.pledge.core.history.HistoryEntry;
import dev.pledge.core.runtime.Coordinator;
import dev.pledge.core.spi.AuditLog;
import dev.pledge.core.spi.LogUnavailableException;
import dev.pledge.core.spi.SubscriptionStore;
import dev.pledge.core.spi.TransactionLog;
import dev.pledge.server.metrics.ServerMetrics;
import dev.pledge.server.runtime.AllowList;
import dev.pledge.server.runtime.BrokerSinks;
import dev.pledge.server.runtime.LongPolls;
import dev.pledge.server.runtime.ServerRuntime;
import dev.pledge.server.runtime.Subscriptions;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The coordinator's HTTP API v1, independent of any HTTP server: a request (method, path, query,
 * body) in, a status and a JSON body out. Errors are {@code {"error": code, "message": text,
 * "fields": [{field, reason}]}}; a rejected request changes nothing.
 */
public final class Api {
  private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Api.class);

  /**
   * The largest request body read: 64 branches of 1 MiB payloads do not fit; the limits say why.
   */
  public static final int MAX_BODY_BYTES = 8 << 20;

  /** A gid no client can use for long: {@code /health} reads it to see that the log answers. */
  private static final Gid HEALTH_PROBE = Gid.of("pledge.health.probe");

  private static final Pattern TRANSACTION = Pattern.compile("/api/v1/transactions/([^/]+)");
  private static final Pattern TRANSACTION_ACTION =
      Pattern.compile("/api/v1/transactions/([^/]+)/(branches|commit|abort|retry|force)");
  private static final Pattern TRANSACTION_HISTORY =
      Pattern.compile("/api/v1/transactions/([^/]+)/history");
  private static final Pattern SUBSCRIPTION =
      Pattern.compile("/api/v1/subscriptions/([A-Za-z0-9._:-]{1,128})");

  private final Coordinator coordinator;
  private final LongPolls longPolls;
  private final TransactionLog log;
  private final Limits limits;
  private final Subscriptions subscriptions;
  private final AllowList allowList;
  private final Supplier<String> gids;
  private final ObjectMapper json = new ObjectMapper();
  private final Operations operations;
  private final DeadLetters deadLetters;

  /** The broker providers on the classpath, to check a subscription's broker target. */
  private final BrokerSinks brokers = BrokerSinks.discover();

  private final ServerMetrics metrics;

  public Api(
      ServerRuntime runtime,
      TransactionLog log,
      Limits limits,
      Subscriptions subscriptions,
      AllowList allowList,
      AuditLog audit,
      Supplier<String> gids) {
    this.coordinator = runtime.coordinator();
    this.longPolls = runtime.longPolls();
    this.metrics = runtime.metrics();
    this.operations =
        new Operations(
            coordinator, Objects.requireNonNull(audit, "audit"), json, InstantSource.system());
    this.log = Objects.requireNonNull(log, "log");
    this.limits = Objects.requireNonNull(limits, "limits");
    this.subscriptions = Objects.requireNonNull(subscriptions, "subscriptions");
    this.allowList = Objects.requireNonNull(allowList, "allowList");
    this.gids = Objects.requireNonNull(gids, "gids");
    this.deadLetters = new DeadLetters(coordinator, log, operations, json);
  }

  /** Who acts when the server asks for no token: anyone on this machine. */
  public static final String LOCAL_ACTOR = "local (no tokens file)";

  public ApiResponse handle(String method, String path, Map<String, String> query, byte[] body) {
    return handle(method, path, query, body, LOCAL_ACTOR);
  }

  /**
   * Handles one request made by {@code actor}: the name the audit log records for an operator
   * action (the token's role and line, as {@code operator@3}; never the token).
   */
  public ApiResponse handle(
      String method, String path, Map<String, String> query, byte[] body, String actor) {
    Objects.requireNonNull(actor, "actor");
    long startNanos = System.nanoTime();
    ApiResponse response;
    try {
      response = route(method, path, query, body, actor);
    } catch (ApiException e) {
      response = error(e.status, e.code, e.getMessage(), e.fields);
    } catch (InvalidSpecException e) {
      response = error(400, "invalid_request", e.errors().size() + " invalid field(s)", e.errors());
    } catch (Coordinator.OverloadedException e) {
      response =
          error(
              503,
              "overloaded",
              "nothing was recorded; the coordinator has too much work in flight: "
                  + e.getMessage(),
              List.of());
    } catch (LongPolls.TooManyWaitersException e) {
      response =
          error(
              503,
              "too_many_long_polls",
              "the long poll was refused and nothing was recorded: "
                  + e.getMessage()
                  + "; send the request again without waitSeconds, or retry shortly",
              List.of());
    } catch (LogUnavailableException e) {
      response =
          error(
              503,
              "log_unavailable",
              "the transaction log is unavailable, so the request may not have been recorded;"
                  + " retry it (a create with the same gid and body is idempotent): "
                  + e.getMessage(),
              List.of());
    } catch (RuntimeException e) {
      // A programmer error: the client gets an answer, the operator the stack trace.
      LOG.error("{} {} failed", method, path, e);
      response = error(500, "internal", "the coordinator failed to handle the request", List.of());
    }
    metrics.apiAnswered(
        method,
        routeName(path),
        response.status(),
        Duration.ofNanos(System.nanoTime() - startNanos));
    return response;
  }

  private ApiResponse route(
      String method, String path, Map<String, String> query, byte[] body, String actor) {
    if (body.length > MAX_BODY_BYTES) {
      throw new ApiException(
          413, "too_large", "the body is larger than " + MAX_BODY_BYTES + " bytes", List.of());
    }
    if ((path.equals("/health") || path.equals("/metrics")) && !method.equals("GET")) {
      throw methodNotAllowed(method, path);
    }
    if (path.equals("/health")) {
      // Ready only when the log answers: a read that throws LogUnavailableException makes it 503.
      var unused = log.load(HEALTH_PROBE);
      return ApiResponse.json(200, "{\"status\":\"ok\"}");
    }
    if (path.equals("/metrics")) {
      return new ApiResponse(200, "text/plain; version=0.0.4; charset=utf-8", metrics.scrape());
    }
    if (path.equals("/api/v1/transactions")) {
      return switch (method) {
        case "POST" -> create(text(body), waitSeconds(query));
        case "GET" -> list(query);
        default -> throw methodNotAllowed(method, path);
      };
    }
    if (path.equals("/api/v1/counts")) {
      if (!method.equals("GET")) {
        throw methodNotAllowed(method, path);
      }
      return counts();
    }
    if (path.equals("/api/v1/audit")) {
      if (!method.equals("GET")) {
        throw methodNotAllowed(method, path);
      }
      return ApiResponse.json(200, write(operations.recent(query)));
    }
    if (path.equals("/api/v1/deliveries")) {
      if (!method.equals("GET")) {
        throw methodNotAllowed(method, path);
      }
      return ApiResponse.json(200, write(deadLetters.list(query)));
    }
    if (path.equals("/api/v1/deliveries/redrive")) {
      if (!method.equals("POST")) {
        throw methodNotAllowed(method, path);
      }
      return ApiResponse.json(
          200, write(deadLetters.redrive(new RequestReader(json).parse(text(body)), actor)));
    }
    Matcher action = TRANSACTION_ACTION.matcher(path);
    if (action.matches()) {
      if (!method.equals("POST")) {
        throw methodNotAllowed(method, path);
      }
      Gid gid = gid(action.group(1));
      return switch (action.group(2)) {
        case "branches" -> register(gid, text(body));
        case "commit" -> decide(gid, new Event.CommitRequested());
        case "abort" -> decide(gid, new Event.AbortRequested());
        case "force" ->
            ApiResponse.json(
                200,
                write(operations.force(gid, new RequestReader(json).parse(text(body)), actor)));
        default -> retry(gid, body, actor);
      };
    }
    Matcher history = TRANSACTION_HISTORY.matcher(path);
    if (history.matches()) {
      if (!method.equals("GET")) {
        throw methodNotAllowed(method, path);
      }
      return history(gid(history.group(1)));
    }
    Matcher one = TRANSACTION.matcher(path);
    if (one.matches()) {
      if (!method.equals("GET")) {
        throw methodNotAllowed(method, path);
      }
      Gid gid = gid(one.group(1));
      Duration wait = waitSeconds(query);
      Transaction tx = longPolls.awaitFinal(coordinator, gid, wait);
      if (tx == null) {
        throw ApiException.notFound("no transaction " + one.group(1));
      }
      return ApiResponse.json(200, write(view(tx)));
    }
    Matcher subscription = SUBSCRIPTION.matcher(path);
    if (subscription.matches()) {
      if (!method.equals("PUT")) {
        throw methodNotAllowed(method, path);
      }
      ApiResponse subscribed = subscribe(subscription.group(1), text(body));
      JsonNode view = new RequestReader(json).parse(subscribed.body());
      operations.record(
          actor,
          "subscribe " + subscription.group(1),
          null,
          "",
          "topic " + view.path("topic").asText() + " to " + view.path("target").asText());
      return subscribed;
    }
    throw new ApiException(
        404, "not_found", "no route " + method + " " + RequestReader.abbreviate(path), List.of());
  }

  /**
   * The long poll's {@code waitSeconds} (on {@code GET} of a transaction and on the create): a
   * whole number in [0, 30]; absent means 0.
   */
  private static Duration waitSeconds(Map<String, String> query) {
    String text = query.get("waitSeconds");
    if (text == null) {
      return Duration.ZERO;
    }
    long max = LongPolls.MAX_WAIT.toSeconds();
    long seconds;
    try {
      seconds = Long.parseLong(text);
    } catch (NumberFormatException e) {
      seconds = -1;
    }
    if (seconds < 0 || seconds > max) {
      throw ApiException.badRequest(
          "waitSeconds",
          "must be a whole number of seconds in [0, "
              + max
              + "], got "
              + RequestReader.abbreviate(text));
    }
    return Duration.ofSeconds(seconds);
  }

  /**
   * Creates a transaction. With {@code wait} zero it answers {@code 201 {gid, status}} as soon as
   * the create is logged; otherwise it answers {@code 201} with the whole view (as {@code GET})
   * once the transaction is final or {@code wait} has passed: one exchange where a client would
   * otherwise create, then long-poll. The waiter is registered before the create, so a transaction
   * that ends while the create's answer is on its way is not missed, and nothing is read back from
   * the log unless the wait ends first.
   */
  private ApiResponse create(String body, Duration wait) {
    RequestReader reader = new RequestReader(json);
    RequestReader.Create request = reader.create(reader.parse(body));
    List<FieldError> errors = new ArrayList<>(reader.errors());
    if (!errors.isEmpty() || request.mode() == null) {
      throw ApiException.badRequest(errors);
    }
    Gid gid = Gid.of(request.gid() == null ? gids.get() : request.gid());
    TransactionSpec spec =
        new TransactionSpec(
            gid,
            request.mode(),
            request.timeout(),
            request.branches(),
            request.messages(),
            request.checkUrl());
    errors.addAll(spec.validate(limits));
    errors.addAll(disallowedUrls(spec));
    if (!errors.isEmpty()) {
      throw ApiException.badRequest(errors);
    }
    if (!wait.isZero()) {
      Transaction tx =
          longPolls.awaitFinal(
              gid, wait, () -> answer(coordinator.begin(spec)), () -> coordinator.load(gid));
      return ApiResponse.json(201, write(view(tx)));
    }
    Transaction tx = answer(coordinator.begin(spec));
    ObjectNode out = json.createObjectNode();
    out.put("gid", tx.gid().value());
    out.put("status", tx.status().label());
    return ApiResponse.json(201, write(out));
  }

  private List<FieldError> disallowedUrls(TransactionSpec spec) {
    List<FieldError> errors = new ArrayList<>();
    for (int i = 0; i < spec.branches().size(); i++) {
      for (Map.Entry<Op, String> url : spec.branches().get(i).urls().entrySet()) {
        if (!allowList.allows(url.getValue())) {
          errors.add(
              new FieldError(
                  "branches[" + i + "]." + url.getKey().label(),
                  "not on the coordinator's URL allow-list"));
        }
      }
    }
    if (spec.checkUrl() != null && !allowList.allows(spec.checkUrl())) {
      errors.add(new FieldError("checkUrl", "not on the coordinator's URL allow-list"));
    }
    return errors;
  }

  private ApiResponse register(Gid gid, String body) {
    RequestReader reader = new RequestReader(json);
    Transaction tx = coordinator.load(gid);
    if (tx == null) {
      throw ApiException.notFound("no transaction " + gid);
    }
    if (tx.mode() != Mode.TCC) {
      throw ApiException.conflict(
          "only tcc transactions register branches; " + gid + " is " + tx.mode().code());
    }
    BranchSpec branch =
        reader.branch(
            reader.parse(body), Mode.TCC, "branch", Integer.toString(tx.branches().size() + 1));
    List<FieldError> errors = new ArrayList<>(reader.errors());
    if (branch != null) {
      TransactionSpec.validateBranch(branch, Mode.TCC, "branch", limits, errors);
      for (Map.Entry<Op, String> url : branch.urls().entrySet()) {
        if (!allowList.allows(url.getValue())) {
          errors.add(
              new FieldError(
                  "branch." + url.getKey().label(), "not on the coordinator's URL allow-list"));
        }
      }
    }
    if (!errors.isEmpty()) {
      throw ApiException.badRequest(errors);
    }
    answer(coordinator.request(gid, new Event.BranchRegistered(branch)));
    ObjectNode out = json.createObjectNode();
    out.put("branchId", branch.branchId());
    return ApiResponse.json(200, write(out));
  }

  /** The operator's retry, audited; an optional {@code {"reason": …}} body says why. */
  private ApiResponse retry(Gid gid, byte[] body, String actor) {
    String reason = "";
    if (body.length > 0) {
      JsonNode reasonNode = new RequestReader(json).parse(text(body)).get("reason");
      if (reasonNode != null && reasonNode.isTextual()) {
        reason = reasonNode.asText().strip();
      }
      if (reason.length() > Operations.MAX_REASON) {
        throw ApiException.badRequest("reason", "at most " + Operations.MAX_REASON + " characters");
      }
    }
    ApiResponse response = decide(gid, new Event.RetryNow());
    operations.record(
        actor,
        "retry",
        gid,
        reason,
        "sent every pending op now; status "
            + new RequestReader(json).parse(response.body()).path("status").asText());
    return response;
  }

  private ApiResponse decide(Gid gid, Event event) {
    Transaction tx = answer(coordinator.request(gid, event));
    ObjectNode out = json.createObjectNode();
    out.put("gid", tx.gid().value());
    out.put("status", tx.status().label());
    return ApiResponse.json(200, write(out));
  }

  private static Transaction answer(Coordinator.Answer answer) {
    return switch (answer) {
      case Coordinator.Answer.Accepted accepted -> accepted.state();
      case Coordinator.Answer.Rejected rejected -> throw ApiException.conflict(rejected.reason());
      case Coordinator.Answer.NotFound notFound ->
          throw ApiException.notFound("no such transaction");
    };
  }

  private ApiResponse list(Map<String, String> query) {
    List<FieldError> errors = new ArrayList<>();
    Status status = null;
    Mode mode = null;
    int limit = 50;
    try {
      status = query.containsKey("status") ? Status.fromLabel(query.get("status")) : null;
    } catch (IllegalArgumentException e) {
      errors.add(
          new FieldError(
              "status",
              "must be one of begun, prepared, committing, aborting, committed, aborted"));
    }
    try {
      mode = query.containsKey("mode") ? Mode.fromCode(query.get("mode")) : null;
    } catch (IllegalArgumentException e) {
      errors.add(new FieldError("mode", "must be one of " + Mode.codes()));
    }
    if (query.containsKey("limit")) {
      try {
        limit = Integer.parseInt(query.get("limit"));
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > TransactionLog.Query.MAX_LIMIT) {
        errors.add(
            new FieldError(
                "limit", "must be a whole number in [1, " + TransactionLog.Query.MAX_LIMIT + "]"));
      }
    }
    String gidContains = query.get("gid");
    if (gidContains != null && !Gid.isValid(gidContains)) {
      errors.add(new FieldError("gid", "must match [A-Za-z0-9._:-]{1,128}"));
    }
    Instant createdAfter = instant(query, "createdAfter", errors);
    Instant createdBefore = instant(query, "createdBefore", errors);
    if (!errors.isEmpty()) {
      throw ApiException.badRequest(errors);
    }
    TransactionLog.Page page;
    try {
      page =
          log.page(
              new TransactionLog.Query(
                  status,
                  mode,
                  gidContains,
                  createdAfter,
                  createdBefore,
                  limit,
                  query.get("cursor")));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("cursor", "was not made by this coordinator");
    }
    ObjectNode out = json.createObjectNode();
    ArrayNode items = out.putArray("items");
    for (Transaction tx : page.items()) {
      items.add(view(tx));
    }
    if (page.nextCursor() != null) {
      out.put("nextCursor", page.nextCursor());
    }
    return ApiResponse.json(200, write(out));
  }

  private static Instant instant(Map<String, String> query, String name, List<FieldError> errors) {
    String text = query.get(name);
    if (text == null) {
      return null;
    }
    try {
      return Instant.parse(text);
    } catch (DateTimeParseException e) {
      errors.add(new FieldError(name, "must be an ISO-8601 instant, as 2026-01-31T12:00:00Z"));
      return null;
    }
  }

  /** How many transactions the log holds by mode and status: the console's live counts. */
  private ApiResponse counts() {
    ObjectNode out = json.createObjectNode();
    ArrayNode counts = out.putArray("counts");
    for (TransactionLog.Count count : log.counts()) {
      counts
          .addObject()
          .put("mode", count.mode().code())
          .put("status", count.status().label())
          .put("transactions", count.transactions());
    }
    return ApiResponse.json(200, write(out));
  }

  private ApiResponse subscribe(String name, String body) {
    JsonNode root = new RequestReader(json).parse(body);
    List<FieldError> errors = new ArrayList<>();
    JsonNode topic = root.get("topic");
    JsonNode target = root.get("target");
    if (topic == null || !topic.isTextual() || !Gid.isValid(topic.asText())) {
      errors.add(new FieldError("topic", "required, matching [A-Za-z0-9._:-]{1,128}"));
    }
    if (target == null || !target.isTextual()) {
      errors.add(
          new FieldError(
              "target",
              "required: an http(s):// URL or a broker target (" + brokerSchemes() + ")"));
    } else if (target.asText().startsWith("http://") || target.asText().startsWith("https://")) {
      if (!allowList.allows(target.asText())) {
        errors.add(new FieldError("target", "not on the coordinator's URL allow-list"));
      }
    } else if (target.asText().length() > Subscriptions.MAX_TARGET_CHARS) {
      errors.add(
          new FieldError("target", "at most " + Subscriptions.MAX_TARGET_CHARS + " characters"));
    } else if (!brokers.handles(target.asText())) {
      errors.add(
          new FieldError(
              "target", "an http(s):// URL or a broker target (" + brokerSchemes() + ")"));
    } else {
      String problem = brokers.problem(target.asText());
      if (problem != null) {
        errors.add(new FieldError("target", problem));
      } else if (!allowList.allowsBroker(target.asText())) {
        errors.add(new FieldError("target", "the broker is not on the coordinator's allow-list"));
      }
    }
    root.fieldNames()
        .forEachRemaining(field -> {
          if (!field.equals("topic") && !field.equals("target")) {
            errors.add(new FieldError(RequestReader.abbreviate(field), "unknown field"));
          }
        });
    if (!errors.isEmpty()) {
      throw ApiException.badRequest(errors);
    }
    if (subscriptions.target(name) == null
        && subscriptions.size() >= Subscriptions.MAX_SUBSCRIPTIONS) {
      throw ApiException.conflict(
          "there are already "
              + Subscriptions.MAX_SUBSCRIPTIONS
              + " subscriptions, the most allowed");
    }
    subscriptions.put(new SubscriptionStore.Subscription(name, topic.asText(), target.asText()));
    ObjectNode out = json.createObjectNode();
    out.put("name", name);
    out.put("topic", topic.asText());
    out.put("target", target.asText());
    return ApiResponse.json(200, write(out));
  }

  private String brokerSchemes() {
    return brokers.schemes().isEmpty()
        ? "none on this coordinator's classpath"
        : String.join("://, ", brokers.schemes()) + "://";
  }

  private ApiResponse history(Gid gid) {
    if (coordinator.load(gid) == null) {
      throw ApiException.notFound("no transaction " + gid);
    }
    ObjectNode out = json.createObjectNode();
    out.put("gid", gid.value());
    ArrayNode entries = out.putArray("entries");
    for (HistoryEntry entry : coordinator.history(gid)) {
      ObjectNode e = entries.addObject();
      e.put("at", entry.at().toString());
      e.put("version", entry.version());
      e.put("kind", entry.kind().label());
      putIfSet(e, "subject", entry.subject());
      putIfSet(e, "op", entry.op());
      if (entry.from() != null) {
        e.put("from", entry.from().label());
      }
      if (entry.to() != null) {
        e.put("to", entry.to().label());
      }
      putIfSet(e, "outcome", entry.outcome());
      if (entry.attempt() > 0) {
        e.put("attempt", entry.attempt());
      }
      if (entry.latency() != null) {
        e.put("latencyMicros", entry.latency().toNanos() / 1_000);
      }
      putIfSet(e, "detail", entry.detail());
    }
    return ApiResponse.json(200, write(out));
  }

  private static void putIfSet(ObjectNode node, String field, String value) {
    if (value != null) {
      node.put(field, value);
    }
  }

  private ObjectNode view(Transaction tx) {
    ObjectNode out = json.createObjectNode();
    out.put("gid", tx.gid().value());
    out.put("mode", tx.mode().code());
    out.put("status", tx.status().label());
    out.put("final", tx.isFinal());
    out.put("createdAt", tx.createdAt().toString());
    out.put("updatedAt", tx.updatedAt().toString());
    out.put("version", tx.version());
    if (tx.flag() != null) {
      out.put("flag", tx.flag());
    }
    ArrayNode branches = out.putArray("branches");
    for (Branch branch : tx.branches()) {
      ObjectNode b = branches.addObject();
      b.put("branchId", branch.branchId());
      ArrayNode ops = b.putArray("ops");
      for (Op op : tx.mode().branchOps()) {
        ObjectNode o = progress(ops.addObject(), branch.op(op));
        o.put("op", op.label());
      }
    }
    ArrayNode messages = out.putArray("messages");
    for (Message message : tx.messages()) {
      ObjectNode m = messages.addObject();
      m.put("messageId", message.messageId());
      m.put("topic", message.topic());
      if (message.key() != null) {
        m.put("key", message.key());
      }
      ArrayNode deliveries = m.putArray("deliveries");
      for (Delivery delivery : message.deliveries()) {
        progress(deliveries.addObject(), delivery.progress())
            .put("subscription", delivery.subscription());
      }
    }
    return out;
  }

  private static ObjectNode progress(ObjectNode node, Progress progress) {
    node.put("status", progress.status().name().toLowerCase(Locale.ROOT).replace('_', '-'));
    node.put("attempts", progress.attempts());
    if (progress.lastError() != null) {
      node.put("lastError", progress.lastError());
    }
    return node;
  }

  private static String routeName(String path) {
    if (path.startsWith("/api/v1/transactions/")) {
      Matcher action = TRANSACTION_ACTION.matcher(path);
      if (action.matches()) {
        return "/api/v1/transactions/{gid}/" + action.group(2);
      }
      return TRANSACTION_HISTORY.matcher(path).matches()
          ? "/api/v1/transactions/{gid}/history"
          : "/api/v1/transactions/{gid}";
    }
    if (path.startsWith("/api/v1/subscriptions/")) {
      return "/api/v1/subscriptions/{name}";
    }
    return path.equals("/health")
            || path.equals("/metrics")
            || path.equals("/api/v1/transactions")
            || path.equals("/api/v1/counts")
            || path.equals("/api/v1/audit")
            || path.equals("/api/v1/deliveries")
            || path.equals("/api/v1/deliveries/redrive")
        ? path
        : "other";
  }

  private static Gid gid(String text) {
    if (!Gid.isValid(text)) {
      throw ApiException.badRequest("gid", "must match [A-Za-z0-9._:-]{1,128}");
    }
    return Gid.of(text);
  }

  private static String text(byte[] body) {
    return new String(body, StandardCharsets.UTF_8);
  }

  private static ApiException methodNotAllowed(String method, String path) {
    return new ApiException(
        405,
        "method_not_allowed",
        method + " is not allowed on " + RequestReader.abbreviate(path),
        List.of());
  }

  private ApiResponse error(int status, String code, String message, List<FieldError> fields) {
    ObjectNode out = json.createObjectNode();
    out.put("error", code);
    out.put("message", message);
    if (!fields.isEmpty()) {
      ArrayNode list = out.putArray("fields");
      for (FieldError field : fields) {
        list.addObject().put("field", field.field()).put("reason", field.reason());
      }
    }
    return ApiResponse.json(status, write(out));
  }

  private String write(JsonNode node) {
    try {
      return json.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree could not be written", e);
    }
  }
}
