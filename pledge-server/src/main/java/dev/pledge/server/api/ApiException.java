package dev.pledge.server.api;

import dev.pledge.core.FieldError;
import java.util.List;

/**
 * A request the API refuses: the status, a stable error code, a message, and the fields at fault.
 */
final class ApiException extends RuntimeException {
  private static final long serialVersionUID = 1L;
  final int status;
  final String code;
  final transient List<FieldError> fields;

  ApiException(int status, String code, String message, List<FieldError> fields) {
    super(message);
    this.status = status;
    this.code = code;
    this.fields = List.copyOf(fields);
  }

  static ApiException badRequest(List<FieldError> fields) {
    return new ApiException(
        400, "invalid_request", fields.size() + " invalid field(s): " + fields, fields);
  }

  static ApiException badRequest(String field, String reason) {
    return badRequest(List.of(new FieldError(field, reason)));
  }

  static ApiException notFound(String what) {
    return new ApiException(404, "not_found", what, List.of());
  }

  static ApiException conflict(String message) {
    return new ApiException(409, "conflict", message, List.of());
  }
}
