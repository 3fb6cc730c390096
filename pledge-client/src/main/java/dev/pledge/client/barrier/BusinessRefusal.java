package dev.pledge.client.barrier;

/**
 * Thrown by a forward op's effect ({@code action}, {@code try}, {@code prepare}) to say a
 * definitive business "no" (out of stock, card declined). The barrier rolls back the local
 * transaction, its own row included, so a retry of the op checks again; a participant endpoint
 * answers {@code 409} with the message. Thrown from a compensation or a confirm it is a programmer
 * error: those ops must finish.
 */
public final class BusinessRefusal extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BusinessRefusal(String reason) {
    super(reason);
  }
}
