package dev.pledge.server.api;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.pledge.core.BranchSpec;
import dev.pledge.core.FieldError;
import dev.pledge.core.Gid;
import dev.pledge.core.MessageSpec;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Reads the API's JSON requests into the engine's records, collecting every problem with the field
 * it concerns, so one 400 answer lists them all. Unknown fields are refused: a typo must not
 * silently drop an op.
 */
final class RequestReader {
  private static final Set<String> TRANSACTION_FIELDS =
      Set.of("gid", "mode", "timeoutSeconds", "branches", "messages", "checkUrl");
  private static final Set<String> MESSAGE_FIELDS =
      Set.of("id", "topic", "key", "payload", "headers");

  private final ObjectMapper json;
  private final List<FieldError> errors = new ArrayList<>();

  RequestReader(ObjectMapper json) {
    this.json = json;
  }

  List<FieldError> errors() {
    return errors;
  }

  JsonNode parse(String body) {
    try {
      JsonNode node = json.readTree(body);
      if (node == null || !node.isObject()) {
        throw ApiException.badRequest("body", "must be a JSON object");
      }
      return node;
    } catch (JsonProcessingException e) {
      throw ApiException.badRequest("body", "is not valid JSON: " + e.getOriginalMessage());
    }
  }

  /** The parts of a create request; null fields were absent. */
  record Create(
      String gid,
      Mode mode,
      Duration timeout,
      List<BranchSpec> branches,
      List<MessageSpec> messages,
      String checkUrl) {}

  Create create(JsonNode root) {
    unknownFields(root, TRANSACTION_FIELDS, "");
    String gid = optionalText(root, "gid", "");
    if (gid != null && !Gid.isValid(gid)) {
      errors.add(new FieldError("gid", "must match [A-Za-z0-9._:-]{1,128}"));
    }
    Mode mode = null;
    String modeText = optionalText(root, "mode", "");
    if (modeText == null) {
      errors.add(new FieldError("mode", "required: one of " + Mode.codes()));
    } else {
      try {
        mode = Mode.fromCode(modeText);
        if (mode == Mode.LRA) {
          mode = null;
          errors.add(
              new FieldError(
                  "mode", "an lra is started with POST /lra-coordinator/start (docs/lra.md)"));
        }
      } catch (IllegalArgumentException e) {
        errors.add(
            new FieldError(
                "mode", "must be one of " + Mode.codes() + ", got '" + abbreviate(modeText) + "'"));
      }
    }
    Duration timeout = null;
    JsonNode seconds = root.get("timeoutSeconds");
    if (seconds != null && !seconds.isNull()) {
      if (!seconds.canConvertToLong() || !seconds.isIntegralNumber() || seconds.asLong() < 1) {
        errors.add(new FieldError("timeoutSeconds", "must be a whole number of seconds >= 1"));
      } else {
        timeout = Duration.ofSeconds(seconds.asLong());
      }
    }
    List<BranchSpec> branches = new ArrayList<>();
    JsonNode branchNodes = root.get("branches");
    if (branchNodes != null && !branchNodes.isNull()) {
      if (!branchNodes.isArray()) {
        errors.add(new FieldError("branches", "must be an array"));
      } else if (mode != null) {
        for (int i = 0; i < branchNodes.size(); i++) {
          BranchSpec branch =
              branch(branchNodes.get(i), mode, "branches[" + i + "]", Integer.toString(i + 1));
          if (branch != null) {
            branches.add(branch);
          }
        }
      }
    }
    List<MessageSpec> messages = new ArrayList<>();
    JsonNode messageNodes = root.get("messages");
    if (messageNodes != null && !messageNodes.isNull()) {
      if (!messageNodes.isArray()) {
        errors.add(new FieldError("messages", "must be an array"));
      } else {
        for (int i = 0; i < messageNodes.size(); i++) {
          MessageSpec message = message(messageNodes.get(i), "messages[" + i + "]");
          if (message != null) {
            messages.add(message);
          }
        }
      }
    }
    return new Create(gid, mode, timeout, branches, messages, optionalText(root, "checkUrl", ""));
  }

  /** A branch of {@code mode}: the op URLs of the mode, a payload, a saga step's after and id. */
  BranchSpec branch(JsonNode node, Mode mode, String path, String defaultId) {
    if (node == null || !node.isObject()) {
      errors.add(new FieldError(path, "must be an object"));
      return null;
    }
    java.util.Set<String> allowed = new java.util.HashSet<>(Set.of("branchId", "payload"));
    mode.branchOps().forEach(op -> allowed.add(op.label()));
    if (mode == Mode.SAGA) {
      allowed.add("after");
    }
    unknownFields(node, allowed, path + ".");
    Map<Op, String> urls = new EnumMap<>(Op.class);
    for (Op op : mode.branchOps()) {
      String url = optionalText(node, op.label(), path + ".");
      if (url != null) {
        urls.put(op, url);
      }
    }
    String branchId = optionalText(node, "branchId", path + ".");
    List<String> after = new ArrayList<>();
    JsonNode afterNode = node.get("after");
    if (afterNode != null && !afterNode.isNull()) {
      if (!afterNode.isArray()) {
        errors.add(new FieldError(path + ".after", "must be an array of branch ids"));
      } else {
        afterNode.forEach(a -> after.add(a.asText()));
      }
    }
    return new BranchSpec(
        branchId == null ? defaultId : branchId, urls, payload(node.get("payload")), after);
  }

  private MessageSpec message(JsonNode node, String path) {
    if (node == null || !node.isObject()) {
      errors.add(new FieldError(path, "must be an object"));
      return null;
    }
    unknownFields(node, MESSAGE_FIELDS, path + ".");
    String topic = optionalText(node, "topic", path + ".");
    if (topic == null) {
      errors.add(new FieldError(path + ".topic", "required"));
      return null;
    }
    Map<String, String> headers = new LinkedHashMap<>();
    JsonNode headerNode = node.get("headers");
    if (headerNode != null && !headerNode.isNull()) {
      if (!headerNode.isObject()) {
        errors.add(new FieldError(path + ".headers", "must be an object of strings"));
      } else {
        for (Iterator<Map.Entry<String, JsonNode>> it = headerNode.fields(); it.hasNext(); ) {
          Map.Entry<String, JsonNode> header = it.next();
          if (!header.getValue().isTextual() || !header.getKey().matches("[A-Za-z0-9-]{1,64}")) {
            errors.add(
                new FieldError(
                    path + ".headers." + abbreviate(header.getKey()),
                    "must be a token of [A-Za-z0-9-] with a string value"));
          } else if (isReserved(header.getKey())) {
            errors.add(
                new FieldError(
                    path + ".headers." + header.getKey(),
                    "reserved: the coordinator sets it (Pledge-*, Content-Type) or HTTP does"
                        + " (Host, Connection, Content-Length, Expect, Upgrade, Transfer-Encoding)"));
          } else {
            headers.put(header.getKey(), header.getValue().asText());
          }
        }
      }
    }
    return new MessageSpec(
        topic,
        optionalText(node, "key", path + "."),
        payload(node.get("payload")),
        headers,
        optionalText(node, "id", path + "."));
  }

  /** The payload as JSON text: any JSON value; absent means an empty object. */
  private String payload(JsonNode node) {
    if (node == null || node.isMissingNode()) {
      return "{}";
    }
    try {
      return json.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a parsed JSON value could not be written back", e);
    }
  }

  private String optionalText(JsonNode node, String field, String prefix) {
    JsonNode value = node.get(field);
    if (value == null || value.isNull()) {
      return null;
    }
    if (!value.isTextual()) {
      errors.add(new FieldError(prefix + field, "must be a string"));
      return null;
    }
    return value.asText();
  }

  private void unknownFields(JsonNode node, Set<String> allowed, String prefix) {
    for (Iterator<String> names = node.fieldNames(); names.hasNext(); ) {
      String name = names.next();
      if (!allowed.contains(name)) {
        errors.add(new FieldError(prefix + abbreviate(name), "unknown field"));
      }
    }
  }

  /** Header names a message may not carry: HTTP's own and the coordinator's. */
  private static final java.util.Set<String> RESERVED_HEADERS =
      java.util.Set.of(
          "host",
          "connection",
          "content-length",
          "content-type",
          "expect",
          "upgrade",
          "transfer-encoding",
          "keep-alive",
          "te",
          "trailer");

  static boolean isReserved(String header) {
    String name = header.toLowerCase(java.util.Locale.ROOT);
    return name.startsWith("pledge-") || RESERVED_HEADERS.contains(name);
  }

  static String abbreviate(String text) {
    return text.length() <= 40 ? text : text.substring(0, 40) + "…";
  }
}
