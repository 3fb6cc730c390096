package dev.pledge.client.inbox;

/** What the inbox did with one delivery; either way the delivery may be acknowledged. */
public enum InboxOutcome {
  /** First delivery of this id: the effect ran and committed with the id. */
  HANDLED,
  /** The id was handled before, with the same content: the effect did not run again. */
  DUPLICATE
}
