package dev.pledge.testkit.contract;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.spi.SubscriptionStore;
import dev.pledge.core.spi.SubscriptionStore.Subscription;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The contract of {@link SubscriptionStore}, checked against any implementation. A subclass says
 * how to make a fresh, empty store and, for a durable one, how to open it again.
 */
public abstract class SubscriptionStoreContract {
  protected SubscriptionStore store;

  /** A new, empty store. */
  protected abstract SubscriptionStore newStore();

  /** The same storage, closed and opened again; the default suits a store in memory. */
  protected SubscriptionStore reopen(SubscriptionStore store) {
    return store;
  }

  @BeforeEach
  final void freshStore() {
    store = newStore();
  }

  @Test
  void all_ofEmptyStore_isEmpty() {
    assertThat(store.all()).isEmpty();
  }

  @Test
  void put_thenAll_returnsEverySubscriptionByName() {
    Subscription shipping = new Subscription("shipping", "order-placed", "http://127.0.0.1:1/in");
    Subscription audit = new Subscription("audit", "order-placed", "http://127.0.0.1:2/audit");
    Subscription billing = new Subscription("billing", "invoice-due", "http://127.0.0.1:3/b");

    store.put(shipping);
    store.put(audit);
    store.put(billing);

    assertThat(store.all()).containsExactly(audit, billing, shipping);
  }

  @Test
  void put_ofExistingName_replacesTopicAndTarget() {
    store.put(new Subscription("shipping", "order-placed", "http://127.0.0.1:1/in"));
    Subscription moved = new Subscription("shipping", "order-shipped", "http://127.0.0.1:9/new");

    store.put(moved);

    assertThat(store.all()).containsExactly(moved);
  }

  @Test
  void put_keepsLongTargetsAndNonAsciiTopicsExactly() {
    String target = "http://127.0.0.1:8080/" + "p".repeat(1500) + "?q=%C3%A9";
    Subscription odd = new Subscription("a.b:c-d_e", "commande-passée", target);

    store.put(odd);

    assertThat(reopen(store).all()).containsExactly(odd);
  }

  @Test
  void everySubscription_isThereAfterReopening() {
    Subscription shipping = new Subscription("shipping", "order-placed", "http://127.0.0.1:1/in");
    store.put(shipping);

    store = reopen(store);

    assertThat(store.all()).containsExactly(shipping);
  }
}
