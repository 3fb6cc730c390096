package dev.pledge.client.participant;

/**
 * What a participant endpoint answers: a status and a JSON body. {@code 2xx} succeeded, {@code 409}
 * refused (forward ops only), anything else is unknown to the coordinator and retried.
 */
public record Answer(int status, String body) {
  static Answer json(int status, String body) {
    return new Answer(status, body);
  }

  static Answer error(int status, String error, String message) {
    return new Answer(
        status, "{\"error\":" + Json.quote(error) + ",\"message\":" + Json.quote(message) + "}");
  }
}
