package dev.pledge.client;

import java.util.List;

/**
 * The coordinator refused the request ({@code 400}, {@code 404}, {@code 405}, {@code 409}, {@code
 * 413}): nothing was recorded by it, so the outcome is known: this request changed nothing. Sending
 * it again unchanged gets the same answer.
 */
public final class PledgeRejectedException extends PledgeException {
  private static final long serialVersionUID = 1L;

  /** One field the coordinator named in a {@code 400}, with why. */
  public record FieldError(String field, String reason) {}

  private final int status;
  private final String error;
  private final transient List<FieldError> fields;

  PledgeRejectedException(
      String gid, int status, String error, String message, List<FieldError> fields) {
    super(gid, "refused with " + status + " " + error + ": " + message + describe(fields), null);
    this.status = status;
    this.error = error;
    this.fields = List.copyOf(fields);
  }

  private static String describe(List<FieldError> fields) {
    return fields.isEmpty() ? "" : " " + fields;
  }

  public int status() {
    return status;
  }

  /** The coordinator's error code: {@code invalid_request}, {@code conflict}, {@code not_found}. */
  public String error() {
    return error;
  }

  public List<FieldError> fields() {
    return fields;
  }

  @Override
  public boolean outcomeKnown() {
    return true;
  }
}
