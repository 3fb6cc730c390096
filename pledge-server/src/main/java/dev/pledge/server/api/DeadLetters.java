package dev.pledge.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pledge.core.Delivery;
import dev.pledge.core.FieldError;
import dev.pledge.core.Gid;
import dev.pledge.core.Message;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Event;
import dev.pledge.core.runtime.Coordinator;
import dev.pledge.core.spi.TransactionLog;
import dev.pledge.core.spi.TransactionLog.Query;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.locks.LockSupport;

/**
 * Dead letters through the API: {@code GET /api/v1/deliveries?status=dead} lists the deliveries
 * that failed past their retry bound, and {@code POST /api/v1/deliveries/redrive} sends them again,
 * at a bounded rate, with a dry run, audited.
 *
 * <p>A delivery is named {@code <gid>#<n>-><subscription>}, {@code n} the message's position in its
 * transaction (from 1): that is its message id, as in the history, unless the producer named the
 * message ({@code messages[].id}). A page of the listing holds the dead deliveries of at most
 * {@code limit} transactions, newest transaction first. A re-drive handles at most {@value
 * #MAX_REDRIVE} deliveries and at most {@value #MAX_REDRIVE_SECONDS} s of work at its rate per
 * call, paced in the request: when it answers, every re-drive it names has been decided and logged
 * (the sends themselves follow, as any delivery's). An applied re-drive writes one audit entry per
 * transaction it touched (its gid, which of its deliveries were sent), and answers them as {@code
 * audited: [{gid, at}]}; one that matched nothing writes one entry with no gid.
 */
final class DeadLetters {
  static final int MAX_REDRIVE = 500;
  static final int MAX_REDRIVE_SECONDS = 30;
  static final int MAX_PER_SECOND = 1_000;
  private static final int DEFAULT_LIMIT = 50;
  private static final Set<String> REDRIVE_FIELDS =
      Set.of("ids", "filter", "maxPerSecond", "dryRun", "reason", "limit");

  private final Coordinator coordinator;
  private final TransactionLog log;
  private final Operations operations;
  private final ObjectMapper json;

  DeadLetters(
      Coordinator coordinator, TransactionLog log, Operations operations, ObjectMapper json) {
    this.coordinator = coordinator;
    this.log = log;
    this.operations = operations;
    this.json = json;
  }

  /** One dead delivery, as listed. */
  private record Dead(Transaction tx, Message message, Delivery delivery) {
    String id() {
      return tx.gid().value()
          + "#"
          + (tx.messages().indexOf(message) + 1)
          + "->"
          + delivery.subscription();
    }
  }

  /** {@code GET /api/v1/deliveries?status=dead&subscription=&limit=&cursor=}. */
  ObjectNode list(Map<String, String> query) {
    List<FieldError> errors = new ArrayList<>();
    if (!"dead".equals(query.get("status"))) {
      errors.add(new FieldError("status", "required: dead (only dead deliveries are listed)"));
    }
    String subscription = subscription(query.get("subscription"), "subscription", errors);
    int limit = limit(query.get("limit"), Query.MAX_LIMIT, errors);
    if (!errors.isEmpty()) {
      throw ApiException.badRequest(errors);
    }
    TransactionLog.Page page;
    try {
      page = log.page(Query.deadLetters(subscription, limit, query.get("cursor")));
    } catch (IllegalArgumentException e) {
      throw ApiException.badRequest("cursor", "was not made by this coordinator");
    }
    ObjectNode out = json.createObjectNode();
    ArrayNode items = out.putArray("items");
    for (Transaction tx : page.items()) {
      for (Dead dead : deadIn(tx, subscription)) {
        items.add(view(dead));
      }
    }
    if (page.nextCursor() != null) {
      out.put("nextCursor", page.nextCursor());
    }
    return out;
  }

  /**
   * {@code POST /api/v1/deliveries/redrive} {@code {ids | filter: {subscription?}, maxPerSecond,
   * dryRun, reason?, limit?}}.
   */
  ObjectNode redrive(JsonNode body, String actor) {
    List<FieldError> errors = new ArrayList<>();
    body.fieldNames()
        .forEachRemaining(field -> {
          if (!REDRIVE_FIELDS.contains(field)) {
            errors.add(new FieldError(RequestReader.abbreviate(field), "unknown field"));
          }
        });
    JsonNode ids = body.get("ids");
    JsonNode filter = body.get("filter");
    if ((ids == null) == (filter == null)) {
      errors.add(new FieldError("ids", "give exactly one of ids and filter"));
    }
    List<String> named = new ArrayList<>();
    if (ids != null) {
      if (!ids.isArray() || ids.isEmpty() || ids.size() > MAX_REDRIVE) {
        errors.add(new FieldError("ids", "an array of 1 to " + MAX_REDRIVE + " delivery ids"));
      } else {
        for (int i = 0; i < ids.size(); i++) {
          JsonNode id = ids.get(i);
          if (!id.isTextual() || parse(id.asText()) == null) {
            errors.add(
                new FieldError("ids[" + i + "]", "a delivery id, <gid>#<n>-><subscription>"));
          } else {
            named.add(id.asText());
          }
        }
      }
    }
    String subscription = null;
    if (filter != null) {
      if (!filter.isObject()) {
        errors.add(new FieldError("filter", "an object: {subscription?}"));
      } else {
        filter
            .fieldNames()
            .forEachRemaining(field -> {
              if (!field.equals("subscription")) {
                errors.add(
                    new FieldError("filter." + RequestReader.abbreviate(field), "unknown field"));
              }
            });
        JsonNode sub = filter.get("subscription");
        if (sub != null) {
          subscription =
              sub.isTextual()
                  ? subscription(sub.asText(), "filter.subscription", errors)
                  : subscription("", "filter.subscription", errors);
        }
      }
    }
    JsonNode rateNode = body.get("maxPerSecond");
    int maxPerSecond = 0;
    if (rateNode == null
        || !rateNode.canConvertToInt()
        || !rateNode.isIntegralNumber()
        || rateNode.asInt() < 1
        || rateNode.asInt() > MAX_PER_SECOND) {
      errors.add(
          new FieldError(
              "maxPerSecond", "required: a whole number of re-drives per second in [1, 1000]"));
    } else {
      maxPerSecond = rateNode.asInt();
    }
    JsonNode dryRunNode = body.get("dryRun");
    if (dryRunNode == null || !dryRunNode.isBoolean()) {
      errors.add(
          new FieldError("dryRun", "required: true to see what would be sent, false to send it"));
    }
    JsonNode reasonNode = body.get("reason");
    String reason = reasonNode != null && reasonNode.isTextual() ? reasonNode.asText().strip() : "";
    if (reason.length() > Operations.MAX_REASON) {
      errors.add(new FieldError("reason", "at most " + Operations.MAX_REASON + " characters"));
    }
    JsonNode limitNode = body.get("limit");
    int limit = ids != null ? named.size() : 100;
    if (limitNode != null) {
      if (ids != null) {
        errors.add(new FieldError("limit", "only with a filter: ids name their deliveries"));
      } else if (!limitNode.isIntegralNumber()
          || limitNode.asInt() < 1
          || limitNode.asInt() > MAX_REDRIVE) {
        errors.add(new FieldError("limit", "a whole number in [1, " + MAX_REDRIVE + "]"));
      } else {
        limit = limitNode.asInt();
      }
    }
    if (errors.isEmpty() && (long) limit > (long) maxPerSecond * MAX_REDRIVE_SECONDS) {
      errors.add(
          new FieldError(
              "maxPerSecond",
              "at "
                  + maxPerSecond
                  + " per second, "
                  + limit
                  + " re-drives take more than "
                  + MAX_REDRIVE_SECONDS
                  + " s: raise maxPerSecond or send fewer"));
    }
    if (!errors.isEmpty()) {
      throw ApiException.badRequest(errors);
    }
    boolean dryRun = dryRunNode.asBoolean();

    List<Dead> matched = new ArrayList<>();
    List<ObjectNode> notDead = new ArrayList<>();
    if (ids != null) {
      for (String id : new LinkedHashSet<>(named)) {
        Dead dead = find(id);
        if (dead == null) {
          notDead.add(json.createObjectNode().put("id", id).put("reason", "not a dead delivery"));
        } else {
          matched.add(dead);
        }
      }
    } else {
      String cursor = null;
      do {
        TransactionLog.Page page =
            log.page(Query.deadLetters(subscription, Query.MAX_LIMIT, cursor));
        for (Transaction tx : page.items()) {
          for (Dead dead : deadIn(tx, subscription)) {
            if (matched.size() < limit) {
              matched.add(dead);
            }
          }
        }
        cursor = page.nextCursor();
      } while (cursor != null && matched.size() < limit);
    }

    ObjectNode out = json.createObjectNode();
    out.put("dryRun", dryRun);
    ArrayNode items = out.putArray("matched");
    matched.forEach(dead -> items.add(view(dead)));
    ArrayNode refused = out.putArray("refused");
    notDead.forEach(refused::add);
    if (dryRun) {
      out.put("redriven", 0);
      return out;
    }
    long gapNanos = Duration.ofSeconds(1).toNanos() / maxPerSecond;
    long next = System.nanoTime();
    int redriven = 0;
    // What happened to each transaction's dead letters, in the order they were matched: each
    // transaction gets an audit entry of its own, so GET /api/v1/audit?gid= finds it.
    Map<Gid, PerTransaction> byTransaction = new LinkedHashMap<>();
    for (Dead dead : matched) {
      PerTransaction mine =
          byTransaction.computeIfAbsent(dead.tx().gid(), gid -> new PerTransaction());
      mine.matched++;
      long wait = next - System.nanoTime();
      if (wait > 0) {
        LockSupport.parkNanos(wait); // the bounded rate: at most maxPerSecond re-drives a second
      }
      next = Math.max(next, System.nanoTime()) + gapNanos;
      Coordinator.Answer answer =
          coordinator.request(
              dead.tx().gid(),
              new Event.Redrive(dead.message().messageId(), dead.delivery().subscription()));
      switch (answer) {
        case Coordinator.Answer.Accepted accepted -> {
          redriven++;
          mine.done.add(dead.id());
        }
        case Coordinator.Answer.Rejected rejected -> {
          refused.add(
              json.createObjectNode().put("id", dead.id()).put("reason", rejected.reason()));
          mine.refused.add(dead.id());
        }
        case Coordinator.Answer.NotFound notFound -> {
          refused.add(
              json.createObjectNode().put("id", dead.id()).put("reason", "no such transaction"));
          mine.refused.add(dead.id());
        }
      }
    }
    out.put("redriven", redriven);
    ArrayNode audited = out.putArray("audited");
    if (byTransaction.isEmpty()) {
      // Nothing matched: still an operator action, audited once, on no transaction.
      var entry =
          operations.record(
              actor,
              "redrive",
              null,
              reason,
              "re-drove 0 of 0 dead deliveries at most " + maxPerSecond + "/s");
      audited.addObject().put("at", entry.at().toString());
    }
    for (Map.Entry<Gid, PerTransaction> each : byTransaction.entrySet()) {
      PerTransaction mine = each.getValue();
      var entry =
          operations.record(
              actor,
              "redrive",
              each.getKey(),
              reason,
              "re-drove "
                  + mine.done.size()
                  + " of "
                  + mine.matched
                  + " dead deliveries at most "
                  + maxPerSecond
                  + "/s"
                  + (mine.done.isEmpty() ? "" : ": " + String.join(", ", mine.done))
                  + (mine.refused.isEmpty() ? "" : "; refused: " + String.join(", ", mine.refused))
                  + (byTransaction.size() == 1
                      ? ""
                      : " (one of "
                          + byTransaction.size()
                          + " transactions in this re-drive, "
                          + redriven
                          + " of "
                          + matched.size()
                          + " deliveries in all)"));
      audited.addObject().put("gid", each.getKey().value()).put("at", entry.at().toString());
    }
    return out;
  }

  /** One transaction's share of a re-drive: how many matched, which were sent, which refused. */
  private static final class PerTransaction {
    private int matched;
    private final List<String> done = new ArrayList<>();
    private final List<String> refused = new ArrayList<>();
  }

  /** The dead delivery {@code id} names, or null when there is none (or it is not dead). */
  private Dead find(String id) {
    String[] parts = parse(id);
    Transaction tx = coordinator.load(Gid.of(parts[0]));
    if (tx == null) {
      return null;
    }
    int position = Integer.parseInt(parts[1].substring(parts[1].lastIndexOf('#') + 1));
    Message message = position <= tx.messages().size() ? tx.messages().get(position - 1) : null;
    Delivery delivery = message == null ? null : message.delivery(parts[2]);
    if (delivery == null || delivery.progress().status() != OpStatus.DEAD) {
      return null;
    }
    return new Dead(tx, message, delivery);
  }

  /** {@code <gid>#<n>-><subscription>} as {gid, messageId, subscription}, or null. */
  static String[] parse(String id) {
    int arrow = id.lastIndexOf("->");
    if (arrow < 0) {
      return null;
    }
    String messageId = id.substring(0, arrow);
    String subscription = id.substring(arrow + 2);
    int hash = messageId.lastIndexOf('#');
    if (hash < 0
        || !Gid.isValid(messageId.substring(0, hash))
        || !messageId.substring(hash + 1).matches("[1-9][0-9]{0,5}")
        || !Query.SUBSCRIPTION_NAME.matcher(subscription).matches()) {
      return null;
    }
    return new String[] {messageId.substring(0, hash), messageId, subscription};
  }

  private static List<Dead> deadIn(Transaction tx, String subscription) {
    List<Dead> dead = new ArrayList<>();
    for (Message message : tx.messages()) {
      for (Delivery delivery : message.deliveries()) {
        if (delivery.progress().status() == OpStatus.DEAD
            && (subscription == null || delivery.subscription().equals(subscription))) {
          dead.add(new Dead(tx, message, delivery));
        }
      }
    }
    return dead;
  }

  private ObjectNode view(Dead dead) {
    ObjectNode node = json.createObjectNode();
    node.put("id", dead.id());
    node.put("gid", dead.tx().gid().value());
    node.put("messageId", dead.message().messageId());
    node.put("subscription", dead.delivery().subscription());
    node.put("topic", dead.message().topic());
    if (dead.message().key() != null) {
      node.put("key", dead.message().key());
    }
    node.put("attempts", dead.delivery().progress().attempts());
    if (dead.delivery().progress().lastError() != null) {
      node.put("lastError", dead.delivery().progress().lastError());
    }
    node.put("updatedAt", dead.tx().updatedAt().toString());
    return node;
  }

  private static String subscription(String text, String field, List<FieldError> errors) {
    if (text == null) {
      return null;
    }
    if (!Query.SUBSCRIPTION_NAME.matcher(text).matches()) {
      errors.add(new FieldError(field, "a subscription name, matching [A-Za-z0-9._:-]{1,128}"));
      return null;
    }
    return text;
  }

  private static int limit(String text, int max, List<FieldError> errors) {
    if (text == null) {
      return DEFAULT_LIMIT;
    }
    int limit;
    try {
      limit = Integer.parseInt(text);
    } catch (NumberFormatException e) {
      limit = -1;
    }
    if (limit < 1 || limit > max) {
      errors.add(new FieldError("limit", "must be a whole number in [1, " + max + "]"));
    }
    return limit;
  }
}
