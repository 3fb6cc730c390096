package dev.pledge.client.xa;

/**
 * A commit or rollback found the branch already ended the other way (a heuristic outcome). The
 * incident is recorded before this is thrown; the participant answers {@code 500} with its detail,
 * so the coordinator keeps retrying and, after its bound, flags the transaction for an operator.
 */
public final class XaHeuristicException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final transient XaIncident incident;

  XaHeuristicException(XaIncident incident) {
    super(
        incident.kind().code()
            + " of "
            + incident.gid()
            + "/"
            + incident.branch()
            + ": "
            + incident.detail());
    this.incident = incident;
  }

  public XaIncident incident() {
    return incident;
  }
}
