package dev.pledge.store.jdbc;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pledge.core.Branch;
import dev.pledge.core.Delivery;
import dev.pledge.core.Gid;
import dev.pledge.core.Message;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.OpStatus;
import dev.pledge.core.Progress;
import dev.pledge.core.Status;
import dev.pledge.core.Transaction;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A transaction's whole state as JSON, the way the log stores it. The mapping is written out field
 * by field: no annotations, no type hints, no Java serialization, so the stored form is stable and
 * readable by an operator. Enums are stored by their stable labels and codes, never by ordinal;
 * instants as ISO-8601 text, which keeps their full precision.
 *
 * <p>Decoding a document this codec did not write throws {@link IllegalArgumentException} naming
 * the field.
 */
public final class TransactionCodec {
  /** The layout version written into every document, for future migrations of the state itself. */
  public static final int FORMAT = 1;

  private final ObjectMapper mapper = new ObjectMapper();

  public String encode(Transaction tx) {
    ObjectNode root = mapper.createObjectNode();
    root.put("format", FORMAT);
    root.put("gid", tx.gid().value());
    root.put("mode", tx.mode().code());
    root.put("status", tx.status().label());
    root.put("version", tx.version());
    root.put("createdAt", tx.createdAt().toString());
    root.put("updatedAt", tx.updatedAt().toString());
    root.put("deadline", tx.deadline().toString());
    if (tx.checkUrl() != null) {
      root.put("checkUrl", tx.checkUrl());
    }
    root.set("check", progress(tx.check()));
    ArrayNode branches = root.putArray("branches");
    for (Branch branch : tx.branches()) {
      ObjectNode b = branches.addObject();
      b.put("branchId", branch.branchId());
      ObjectNode urls = b.putObject("urls");
      ObjectNode ops = b.putObject("ops");
      for (Op op : Op.values()) {
        if (branch.urls().containsKey(op)) {
          urls.put(op.label(), branch.urls().get(op));
        }
        if (branch.ops().containsKey(op)) {
          ops.set(op.label(), progress(branch.ops().get(op)));
        }
      }
      b.put("payload", branch.payload());
      ArrayNode after = b.putArray("after");
      branch.after().forEach(after::add);
    }
    ArrayNode messages = root.putArray("messages");
    for (Message message : tx.messages()) {
      ObjectNode m = messages.addObject();
      m.put("messageId", message.messageId());
      m.put("topic", message.topic());
      if (message.key() != null) {
        m.put("key", message.key());
      }
      m.put("payload", message.payload());
      ObjectNode headers = m.putObject("headers");
      new java.util.TreeMap<>(message.headers()).forEach(headers::put);
      ArrayNode deliveries = m.putArray("deliveries");
      for (Delivery delivery : message.deliveries()) {
        ObjectNode d = deliveries.addObject();
        d.put("subscription", delivery.subscription());
        d.set("progress", progress(delivery.progress()));
      }
    }
    if (tx.flag() != null) {
      root.put("flag", tx.flag());
    }
    try {
      return mapper.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a transaction could not be written as JSON: " + tx.gid(), e);
    }
  }

  private ObjectNode progress(Progress progress) {
    ObjectNode p = mapper.createObjectNode();
    p.put("status", progress.status().code());
    p.put("attempts", progress.attempts());
    if (progress.dueAt() != null) {
      p.put("dueAt", progress.dueAt().toString());
    }
    if (progress.lastError() != null) {
      p.put("lastError", progress.lastError());
    }
    return p;
  }

  public Transaction decode(String json) {
    JsonNode root;
    try {
      root = mapper.readTree(json);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException(
          "stored transaction is not JSON: " + e.getOriginalMessage(), e);
    }
    int format = integer(root, "format");
    if (format != FORMAT) {
      throw new IllegalArgumentException(
          "stored transaction has format " + format + ", this build reads " + FORMAT);
    }
    Mode mode = Mode.fromCode(text(root, "mode"));
    List<Branch> branches = new ArrayList<>();
    for (JsonNode b : array(root, "branches")) {
      Map<Op, String> urls = new EnumMap<>(Op.class);
      for (Iterator<Map.Entry<String, JsonNode>> it = object(b, "urls").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> url = it.next();
        urls.put(Op.fromLabel(url.getKey()), url.getValue().asText());
      }
      Map<Op, Progress> ops = new EnumMap<>(Op.class);
      for (Iterator<Map.Entry<String, JsonNode>> it = object(b, "ops").fields(); it.hasNext(); ) {
        Map.Entry<String, JsonNode> op = it.next();
        ops.put(Op.fromLabel(op.getKey()), progress(op.getValue()));
      }
      List<String> after = new ArrayList<>();
      array(b, "after").forEach(a -> after.add(a.asText()));
      branches.add(new Branch(text(b, "branchId"), urls, text(b, "payload"), after, ops));
    }
    List<Message> messages = new ArrayList<>();
    for (JsonNode m : array(root, "messages")) {
      Map<String, String> headers = new LinkedHashMap<>();
      for (Iterator<Map.Entry<String, JsonNode>> it = object(m, "headers").fields();
          it.hasNext(); ) {
        Map.Entry<String, JsonNode> header = it.next();
        headers.put(header.getKey(), header.getValue().asText());
      }
      List<Delivery> deliveries = new ArrayList<>();
      for (JsonNode d : array(m, "deliveries")) {
        deliveries.add(new Delivery(text(d, "subscription"), progress(d.get("progress"))));
      }
      messages.add(
          new Message(
              text(m, "messageId"),
              text(m, "topic"),
              optionalText(m, "key"),
              text(m, "payload"),
              headers,
              deliveries));
    }
    return new Transaction(
        Gid.of(text(root, "gid")),
        mode,
        Status.fromLabel(text(root, "status")),
        root.path("version").asLong(),
        instant(root, "createdAt"),
        instant(root, "updatedAt"),
        instant(root, "deadline"),
        optionalText(root, "checkUrl"),
        progress(root.get("check")),
        branches,
        messages,
        optionalText(root, "flag"));
  }

  private static Progress progress(JsonNode p) {
    if (p == null || !p.isObject()) {
      throw new IllegalArgumentException("stored transaction has a malformed progress: " + p);
    }
    String dueAt = optionalText(p, "dueAt");
    return new Progress(
        OpStatus.fromCode((byte) integer(p, "status")),
        integer(p, "attempts"),
        dueAt == null ? null : Instant.parse(dueAt),
        optionalText(p, "lastError"));
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual()) {
      throw new IllegalArgumentException("stored transaction lacks text field '" + field + "'");
    }
    return value.asText();
  }

  private static String optionalText(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value.asText();
  }

  private static int integer(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || !value.canConvertToInt()) {
      throw new IllegalArgumentException("stored transaction lacks integer field '" + field + "'");
    }
    return value.asInt();
  }

  private static Instant instant(JsonNode node, String field) {
    return Instant.parse(text(node, field));
  }

  private static JsonNode array(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || !value.isArray()) {
      throw new IllegalArgumentException("stored transaction lacks array field '" + field + "'");
    }
    return value;
  }

  private static JsonNode object(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || !value.isObject()) {
      throw new IllegalArgumentException("stored transaction lacks object field '" + field + "'");
    }
    return value;
  }
}
