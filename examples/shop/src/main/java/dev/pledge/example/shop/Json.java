package dev.pledge.example.shop;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;

/** JSON in and out, with Jackson's tree model only: no bound types, no polymorphic type hints. */
final class Json {
  static final ObjectMapper MAPPER = new ObjectMapper();

  private Json() {}

  static ObjectNode object() {
    return MAPPER.createObjectNode();
  }

  static String write(JsonNode node) {
    try {
      return MAPPER.writeValueAsString(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a JSON tree could not be written", e);
    }
  }

  static JsonNode read(String text) {
    try {
      return MAPPER.readTree(text);
    } catch (JsonProcessingException e) {
      throw new ServiceHttp.BadRequest("not JSON: " + e.getOriginalMessage());
    }
  }

  static String error(String code, String message) {
    ObjectNode out = object();
    out.put("error", code);
    out.put("message", message == null ? "" : message);
    return write(out);
  }

  /** The text of a required field, or 400. */
  static String text(JsonNode node, String field) {
    JsonNode value = node.get(field);
    if (value == null || !value.isTextual()) {
      throw new ServiceHttp.BadRequest("field '" + field + "' must be a string");
    }
    return value.asText();
  }

  /** A required whole number in [1, max], or 400. */
  static long positive(JsonNode node, String field, long max) {
    JsonNode value = node.get(field);
    if (value == null || !value.canConvertToLong() || value.asLong() < 1 || value.asLong() > max) {
      throw new ServiceHttp.BadRequest(
          "field '" + field + "' must be a whole number in [1, " + max + "]");
    }
    return value.asLong();
  }
}
