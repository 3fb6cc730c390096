package dev.pledge.server.api;

/** What the API answers: an HTTP status, a content type and a body. */
public record ApiResponse(int status, String contentType, String body) {
  static final String JSON = "application/json";

  static ApiResponse json(int status, String body) {
    return new ApiResponse(status, JSON, body);
  }
}
