package dev.pledge.server.api;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pledge.core.FieldError;
import dev.pledge.core.Gid;
import dev.pledge.core.Op;
import dev.pledge.core.Transaction;
import dev.pledge.core.engine.Event;
import dev.pledge.core.history.History;
import dev.pledge.core.runtime.Coordinator;
import dev.pledge.core.spi.AuditLog;
import dev.pledge.core.spi.AuditLog.AuditEntry;
import dev.pledge.server.operator.Force;
import java.time.InstantSource;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The operator's side of the API: force (with its dry run) and the audit log, and the audit entry
 * of every operator action the API takes (retry, force, subscriptions). Who acted is the name the
 * HTTP layer gives (the token's role and line, never the token).
 */
final class Operations {
  /** The longest reason accepted from an operator. */
  static final int MAX_REASON = 500;

  private static final Set<String> FORCE_FIELDS =
      Set.of("action", "reason", "dryRun", "branchId", "op");

  private final Coordinator coordinator;
  private final AuditLog audit;
  private final ObjectMapper json;
  private final InstantSource clock;

  Operations(Coordinator coordinator, AuditLog audit, ObjectMapper json, InstantSource clock) {
    this.coordinator = coordinator;
    this.audit = audit;
    this.json = json;
    this.clock = clock;
  }

  /** {@code POST /api/v1/transactions/{gid}/force}: the plan, and with dryRun false, its effect. */
  ObjectNode force(Gid gid, JsonNode body, String actor) {
    List<FieldError> errors = new ArrayList<>();
    JsonNode actionNode = body.get("action");
    Force.Action action =
        actionNode != null && actionNode.isTextual()
            ? Force.Action.fromLabel(actionNode.asText())
            : null;
    if (action == null) {
      errors.add(new FieldError("action", "required: one of abort, skip-op, mark-committed"));
    }
    JsonNode reasonNode = body.get("reason");
    String reason = reasonNode != null && reasonNode.isTextual() ? reasonNode.asText().strip() : "";
    if (reason.isEmpty() || reason.length() > MAX_REASON) {
      errors.add(
          new FieldError(
              "reason",
              "required: why, 1 to " + MAX_REASON + " characters, kept in the audit log"));
    }
    JsonNode dryRunNode = body.get("dryRun");
    if (dryRunNode == null || !dryRunNode.isBoolean()) {
      errors.add(
          new FieldError("dryRun", "required: true to see what would change, false to do it"));
    }
    String branchId = null;
    Op op = null;
    if (action == Force.Action.SKIP_OP) {
      JsonNode branchNode = body.get("branchId");
      JsonNode opNode = body.get("op");
      if (branchNode == null || !branchNode.isTextual() || branchNode.asText().isEmpty()) {
        errors.add(new FieldError("branchId", "required for skip-op: the branch whose op to skip"));
      } else {
        branchId = branchNode.asText();
      }
      try {
        op = opNode != null && opNode.isTextual() ? Op.fromLabel(opNode.asText()) : null;
      } catch (IllegalArgumentException e) {
        op = null;
      }
      if (op == null) {
        errors.add(new FieldError("op", "required for skip-op: the op to skip, as compensate"));
      }
    } else {
      for (String only : List.of("branchId", "op")) {
        if (body.has(only)) {
          errors.add(new FieldError(only, "only for skip-op"));
        }
      }
    }
    body.fieldNames()
        .forEachRemaining(field -> {
          if (!FORCE_FIELDS.contains(field)) {
            errors.add(new FieldError(RequestReader.abbreviate(field), "unknown field"));
          }
        });
    if (!errors.isEmpty()) {
      throw ApiException.badRequest(errors);
    }
    boolean dryRun = dryRunNode.asBoolean();
    Transaction tx = coordinator.load(gid);
    if (tx == null) {
      throw ApiException.notFound("no transaction " + gid);
    }
    Force.Request request = new Force.Request(action, branchId, op, reason);
    Force.Plan plan = Force.plan(tx, request);
    String what = "force " + action.label() + (op == null ? "" : " " + branchId + "/" + op.label());
    ObjectNode out = json.createObjectNode();
    out.put("gid", gid.value());
    out.put("action", action.label());
    out.put("dryRun", dryRun);
    out.put("rule", plan.rule());
    switch (plan) {
      case Force.Refused refused -> {
        if (!dryRun) {
          record(actor, what, gid, reason, "refused (" + refused.rule() + "): " + refused.why());
          throw new ApiException(409, "force_refused", refused.why(), List.of());
        }
        out.put("allowed", false);
        out.put("why", refused.why());
      }
      case Force.Allowed allowed -> {
        out.put("allowed", true);
        ArrayNode changes = out.putArray("changes");
        allowed.changes().forEach(changes::add);
        if (!dryRun) {
          Transaction now = tx;
          for (Event event : allowed.events()) {
            switch (coordinator.request(gid, History.Noted.forced(event, action.label(), reason))) {
              case Coordinator.Answer.Accepted accepted -> now = accepted.state();
              case Coordinator.Answer.Rejected rejected -> {
                record(actor, what, gid, reason, "refused by the engine: " + rejected.reason());
                throw ApiException.conflict(rejected.reason());
              }
              case Coordinator.Answer.NotFound notFound ->
                  throw ApiException.notFound("no transaction " + gid);
            }
          }
          out.put("status", now.status().label());
          AuditEntry entry =
              record(
                  actor,
                  what,
                  gid,
                  reason,
                  String.join("; ", allowed.changes()) + "; status now " + now.status().label());
          out.set("audit", view(entry));
        }
      }
    }
    return out;
  }

  /** {@code GET /api/v1/audit?gid=&limit=}: newest first. */
  ObjectNode recent(Map<String, String> query) {
    List<FieldError> errors = new ArrayList<>();
    Gid gid = null;
    if (query.containsKey("gid")) {
      if (Gid.isValid(query.get("gid"))) {
        gid = Gid.of(query.get("gid"));
      } else {
        errors.add(new FieldError("gid", "must match [A-Za-z0-9._:-]{1,128}"));
      }
    }
    int limit = 50;
    if (query.containsKey("limit")) {
      try {
        limit = Integer.parseInt(query.get("limit"));
      } catch (NumberFormatException e) {
        limit = -1;
      }
      if (limit < 1 || limit > AuditLog.MAX_LIMIT) {
        errors.add(
            new FieldError("limit", "must be a whole number in [1, " + AuditLog.MAX_LIMIT + "]"));
      }
    }
    if (!errors.isEmpty()) {
      throw ApiException.badRequest(errors);
    }
    ObjectNode out = json.createObjectNode();
    ArrayNode items = out.putArray("items");
    for (AuditEntry entry : audit.recent(gid, limit)) {
      items.add(view(entry));
    }
    return out;
  }

  /**
   * Appends an operator action to the audit log, bounding each field to what the log keeps: the
   * time to the millisecond (what the database log stores), so that the entry an answer reports
   * ({@code audit.at}, {@code audited[].at}) is the one {@code GET /api/v1/audit} lists, to the
   * digit.
   */
  AuditEntry record(String actor, String action, Gid gid, String reason, String result) {
    AuditEntry entry =
        new AuditEntry(
            clock.instant().truncatedTo(ChronoUnit.MILLIS),
            bound(actor, AuditEntry.MAX_ACTOR),
            bound(action, AuditEntry.MAX_ACTION),
            gid,
            bound(reason, AuditEntry.MAX_REASON),
            bound(result, AuditEntry.MAX_RESULT));
    audit.append(entry);
    return entry;
  }

  private ObjectNode view(AuditEntry entry) {
    ObjectNode node = json.createObjectNode();
    node.put("at", entry.at().toString());
    node.put("actor", entry.actor());
    node.put("action", entry.action());
    if (entry.gid() != null) {
      node.put("gid", entry.gid().value());
    }
    node.put("reason", entry.reason());
    node.put("result", entry.result());
    return node;
  }

  private static String bound(String text, int max) {
    return text.length() <= max ? text : text.substring(0, max - 1) + "…";
  }
}
