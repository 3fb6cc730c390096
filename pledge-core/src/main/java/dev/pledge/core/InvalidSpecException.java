package dev.pledge.core;

import java.util.List;

/** A transaction, branch or message description broke a rule; nothing was accepted. */
public final class InvalidSpecException extends IllegalArgumentException {
  private static final long serialVersionUID = 1L;
  private final transient List<FieldError> errors;

  public InvalidSpecException(List<FieldError> errors) {
    super(errors.toString());
    this.errors = List.copyOf(errors);
  }

  public List<FieldError> errors() {
    return errors;
  }
}
