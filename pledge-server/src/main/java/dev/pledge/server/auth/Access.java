package dev.pledge.server.auth;

import java.util.regex.Pattern;

/**
 * Which role each request needs, by method and path: the one table of who may do what (DESIGN.md,
 * "Console, security, observability").
 *
 * <ul>
 *   <li>Open to anyone: {@code GET /health} (probes carry no token) and the console's static files
 *       ({@code /console/…}: they hold no data; the page asks for a token before it reads any).
 *   <li>{@link Role#CLIENT}: create a transaction, read one by its gid (and its history, and wait
 *       for its outcome), register a tcc branch, commit or abort: what a service that starts and
 *       drives transactions needs. A client cannot list transactions, so it reads only those whose
 *       gid it knows: its own (the coordinator's gids are 96 random bits).
 *   <li>{@link Role#OPERATOR}: everything else, including listing, counts, metrics, retry, force,
 *       dead letters and re-drive, the audit log and subscriptions; and any route not named here,
 *       so that a new route is closed until it is given a role.
 * </ul>
 */
public final class Access {
  private static final Pattern ONE = Pattern.compile("/api/v1/transactions/[^/]+");
  private static final Pattern ONE_HISTORY = Pattern.compile("/api/v1/transactions/[^/]+/history");
  private static final Pattern DRIVE =
      Pattern.compile("/api/v1/transactions/[^/]+/(branches|commit|abort)");

  private Access() {}

  /** What a request needs: nothing (null, open to anyone), a client's token or an operator's. */
  public static Role required(String method, String path) {
    if ((method.equals("GET") || method.equals("HEAD"))
        && (path.equals("/health") || path.equals("/console") || path.startsWith("/console/"))) {
      return null;
    }
    boolean read = method.equals("GET");
    if (path.equals("/api/v1/transactions") && method.equals("POST")) {
      return Role.CLIENT;
    }
    if (read && (ONE.matcher(path).matches() || ONE_HISTORY.matcher(path).matches())) {
      return Role.CLIENT;
    }
    if (method.equals("POST") && DRIVE.matcher(path).matches()) {
      return Role.CLIENT;
    }
    return Role.OPERATOR;
  }
}
