package dev.pledge.example.shop;

/** An operating error in a shop service: a database or the coordinator could not be used. */
public final class ShopException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public ShopException(String message) {
    super(message);
  }

  public ShopException(String message, Throwable cause) {
    super(message, cause);
  }
}
