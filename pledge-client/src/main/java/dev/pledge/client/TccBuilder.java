package dev.pledge.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Duration;

/** A tcc transaction about to begin. */
public final class TccBuilder {
  private final PledgeClient client;
  private final String gid;
  private Duration timeout;

  TccBuilder(PledgeClient client, String gid) {
    this.client = client;
    this.gid = gid;
  }

  /**
   * If the initiator has not committed within this time (it died, say), the coordinator aborts and
   * cancels every registered branch (whole seconds, 1 s to 24 h).
   */
  public TccBuilder timeout(Duration timeout) {
    PledgeClient.timeoutSeconds(timeout);
    this.timeout = timeout;
    return this;
  }

  /**
   * Creates the transaction ({@code begun}) and answers a handle to register, try and decide its
   * branches. Use it in try-with-resources: closing it undecided aborts it.
   */
  public TccTransaction begin() {
    ObjectNode body = Http.JSON.createObjectNode().put("gid", gid).put("mode", "tcc");
    if (timeout != null) {
      body.put("timeoutSeconds", timeout.toSeconds());
    }
    client.create(body);
    return new TccTransaction(client, gid);
  }
}
