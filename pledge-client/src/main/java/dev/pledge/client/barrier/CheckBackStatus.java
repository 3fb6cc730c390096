package dev.pledge.client.barrier;

/** A producer's definitive answer to a {@code msg} check-back, decided by its barrier. */
public enum CheckBackStatus {
  /** The local transaction committed: the coordinator delivers the messages. */
  COMMITTED("committed"),
  /** It rolled back or never ran, and now never can commit: the messages are dropped. */
  ROLLED_BACK("rolled_back");

  private final String label;

  CheckBackStatus(String label) {
    this.label = label;
  }

  /** As the check-back answer's {@code status} field spells it. */
  public String label() {
    return label;
  }
}
