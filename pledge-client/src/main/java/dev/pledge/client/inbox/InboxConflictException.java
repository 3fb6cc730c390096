package dev.pledge.client.inbox;

/**
 * A message arrived with the id of one handled before but with other content (topic, key or
 * payload). Two different messages share an id: a producer bug, or two producers writing one id
 * space. Nothing was run and nothing is acknowledged: the delivery fails loudly, so the broker
 * dead-letters it after its bound of deliveries and an operator looks, instead of the second
 * message being dropped as a duplicate without a trace.
 */
public final class InboxConflictException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  private final String messageId;

  public InboxConflictException(String messageId, String storedFingerprint, String fingerprint) {
    super(
        "message "
            + messageId
            + " was handled before with other content (fingerprint "
            + storedFingerprint
            + ", this one "
            + fingerprint
            + "): refused, not run, not acknowledged");
    this.messageId = messageId;
  }

  public String messageId() {
    return messageId;
  }
}
