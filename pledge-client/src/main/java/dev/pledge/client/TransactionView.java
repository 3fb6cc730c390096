package dev.pledge.client;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/**
 * A global transaction as the coordinator's log has it ({@code GET /api/v1/transactions/{gid}}).
 *
 * @param status {@code begun}, {@code prepared}, {@code committing}, {@code aborting} (not final),
 *     {@code committed}, {@code aborted} (final)
 * @param flag why an operator is needed, or null
 */
public record TransactionView(
    String gid,
    String mode,
    String status,
    boolean isFinal,
    long version,
    String flag,
    List<Branch> branches,
    List<Message> messages) {

  public TransactionView {
    branches = List.copyOf(branches);
    messages = List.copyOf(messages);
  }

  /** One op of a branch: {@code status} is {@code idle}, {@code in-flight}, ... */
  public record OpView(String op, String status, int attempts, String lastError) {}

  public record Branch(String branchId, List<OpView> ops) {
    public Branch {
      ops = List.copyOf(ops);
    }
  }

  public record Delivery(String subscription, String status, int attempts, String lastError) {}

  public record Message(String messageId, String topic, String key, List<Delivery> deliveries) {
    public Message {
      deliveries = List.copyOf(deliveries);
    }
  }

  public boolean committed() {
    return "committed".equals(status);
  }

  public boolean aborted() {
    return "aborted".equals(status);
  }

  static TransactionView from(JsonNode node) {
    List<Branch> branches = new ArrayList<>();
    for (JsonNode b : node.path("branches")) {
      List<OpView> ops = new ArrayList<>();
      for (JsonNode o : b.path("ops")) {
        ops.add(
            new OpView(
                o.path("op").asText(),
                o.path("status").asText(),
                o.path("attempts").asInt(),
                text(o, "lastError")));
      }
      branches.add(new Branch(b.path("branchId").asText(), ops));
    }
    List<Message> messages = new ArrayList<>();
    for (JsonNode m : node.path("messages")) {
      List<Delivery> deliveries = new ArrayList<>();
      for (JsonNode d : m.path("deliveries")) {
        deliveries.add(
            new Delivery(
                d.path("subscription").asText(),
                d.path("status").asText(),
                d.path("attempts").asInt(),
                text(d, "lastError")));
      }
      messages.add(
          new Message(
              m.path("messageId").asText(), m.path("topic").asText(), text(m, "key"), deliveries));
    }
    return new TransactionView(
        node.path("gid").asText(),
        node.path("mode").asText(),
        node.path("status").asText(),
        node.path("final").asBoolean(),
        node.path("version").asLong(),
        text(node, "flag"),
        branches,
        messages);
  }

  private static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    return value == null || value.isNull() ? null : value.asText();
  }
}
