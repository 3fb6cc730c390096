package dev.pledge.testkit;

import dev.pledge.core.spi.SubscriptionStore;
import dev.pledge.testkit.contract.SubscriptionStoreContract;

/** The reference store against the contract. */
class InMemorySubscriptionStoreTest extends SubscriptionStoreContract {
  @Override
  protected SubscriptionStore newStore() {
    return new InMemorySubscriptionStore();
  }
}
