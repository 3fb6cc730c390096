package dev.pledge.core;

/**
 * One reason a request was rejected, naming the field (a JSON path such as {@code
 * branches[2].action}).
 */
public record FieldError(String field, String reason) {
  @Override
  public String toString() {
    return field + ": " + reason;
  }
}
