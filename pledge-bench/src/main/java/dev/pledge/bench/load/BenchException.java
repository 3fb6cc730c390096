package dev.pledge.bench.load;

/** Something the benchmark needs failed: a database, the server process, an HTTP call. */
final class BenchException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  BenchException(String message) {
    super(message);
  }

  BenchException(String message, Throwable cause) {
    super(message, cause);
  }
}
