package dev.pledge.store.jdbc;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
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
import java.io.IOException;
import java.io.StringWriter;
import java.time.Instant;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

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

  /**
   * Writes {@code tx} with Jackson's streaming generator, field by field in the stored layout's
   * order (no tree is built: one pass, a few small buffers).
   */
  public String encode(Transaction tx) {
    StringWriter out = new StringWriter(512 + 384 * tx.branches().size());
    try (JsonGenerator g = mapper.getFactory().createGenerator(out)) {
      g.writeStartObject();
      g.writeNumberField("format", FORMAT);
      g.writeStringField("gid", tx.gid().value());
      g.writeStringField("mode", tx.mode().code());
      g.writeStringField("status", tx.status().label());
      g.writeNumberField("version", tx.version());
      g.writeStringField("createdAt", tx.createdAt().toString());
      g.writeStringField("updatedAt", tx.updatedAt().toString());
      g.writeStringField("deadline", tx.deadline().toString());
      if (tx.checkUrl() != null) {
        g.writeStringField("checkUrl", tx.checkUrl());
      }
      g.writeFieldName("check");
      progress(g, tx.check());
      g.writeArrayFieldStart("branches");
      for (Branch branch : tx.branches()) {
        g.writeStartObject();
        g.writeStringField("branchId", branch.branchId());
        g.writeObjectFieldStart("urls");
        for (Op op : Op.values()) {
          String url = branch.urls().get(op);
          if (url != null) {
            g.writeStringField(op.label(), url);
          }
        }
        g.writeEndObject();
        g.writeObjectFieldStart("ops");
        for (Op op : Op.values()) {
          Progress progress = branch.ops().get(op);
          if (progress != null) {
            g.writeFieldName(op.label());
            progress(g, progress);
          }
        }
        g.writeEndObject();
        g.writeStringField("payload", branch.payload());
        g.writeArrayFieldStart("after");
        for (String after : branch.after()) {
          g.writeString(after);
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      g.writeEndArray();
      g.writeArrayFieldStart("messages");
      for (Message message : tx.messages()) {
        g.writeStartObject();
        g.writeStringField("messageId", message.messageId());
        g.writeStringField("topic", message.topic());
        if (message.key() != null) {
          g.writeStringField("key", message.key());
        }
        g.writeStringField("payload", message.payload());
        g.writeObjectFieldStart("headers");
        for (Map.Entry<String, String> header : new TreeMap<>(message.headers()).entrySet()) {
          g.writeStringField(header.getKey(), header.getValue());
        }
        g.writeEndObject();
        g.writeArrayFieldStart("deliveries");
        for (Delivery delivery : message.deliveries()) {
          g.writeStartObject();
          g.writeStringField("subscription", delivery.subscription());
          g.writeFieldName("progress");
          progress(g, delivery.progress());
          g.writeEndObject();
        }
        g.writeEndArray();
        g.writeEndObject();
      }
      g.writeEndArray();
      if (tx.flag() != null) {
        g.writeStringField("flag", tx.flag());
      }
      g.writeEndObject();
    } catch (IOException e) {
      throw new IllegalStateException("a transaction could not be written as JSON: " + tx.gid(), e);
    }
    return out.toString();
  }

  private static void progress(JsonGenerator g, Progress progress) throws IOException {
    g.writeStartObject();
    g.writeNumberField("status", progress.status().code());
    g.writeNumberField("attempts", progress.attempts());
    if (progress.dueAt() != null) {
      g.writeStringField("dueAt", progress.dueAt().toString());
    }
    if (progress.lastError() != null) {
      g.writeStringField("lastError", progress.lastError());
    }
    g.writeEndObject();
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
