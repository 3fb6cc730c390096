package dev.pledge.eventstore;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.Map;

/** Event metadata as a flat JSON object of strings. */
final class Metadata {
  private static final ObjectMapper JSON = new ObjectMapper();
  private static final TypeReference<Map<String, String>> MAP = new TypeReference<>() {};

  private Metadata() {}

  static String write(Map<String, String> metadata) {
    if (metadata.isEmpty()) {
      return "{}";
    }
    try {
      return JSON.writeValueAsString(metadata);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("metadata cannot be written as JSON: " + e, e);
    }
  }

  static Map<String, String> read(String json) {
    if (json == null || json.equals("{}")) {
      return Map.of();
    }
    try {
      return JSON.readValue(json, MAP);
    } catch (JsonProcessingException e) {
      throw new EventStoreException("stored metadata is not a JSON object of strings: " + e, e);
    }
  }
}
