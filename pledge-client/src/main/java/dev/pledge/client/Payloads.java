package dev.pledge.client;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;

/**
 * How the client turns a caller's payload into JSON: a {@link JsonNode} as it is, a {@link String}
 * as JSON text (so {@code "{\"sku\":\"A-1\"}"} is an object, and a JSON string must be quoted),
 * null as {@code {}}, anything else through Jackson (records, maps, lists).
 */
final class Payloads {
  private Payloads() {}

  static JsonNode toJson(String field, Object payload) {
    if (payload == null) {
      return Http.JSON.createObjectNode();
    }
    if (payload instanceof JsonNode node) {
      return node;
    }
    if (payload instanceof String text) {
      try {
        return Http.JSON.readTree(text);
      } catch (JsonProcessingException e) {
        throw new IllegalArgumentException(
            field + " must be JSON text when given as a String: " + e.getOriginalMessage(), e);
      }
    }
    return Http.JSON.valueToTree(payload);
  }
}
