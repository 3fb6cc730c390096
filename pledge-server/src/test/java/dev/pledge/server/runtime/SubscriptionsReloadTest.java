package dev.pledge.server.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.core.spi.SubscriptionStore.Subscription;
import dev.pledge.testkit.InMemorySubscriptionStore;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A change written to the store by someone else is seen here after {@link Subscriptions#reload}.
 */
class SubscriptionsReloadTest {
  @Test
  void reload_seesWhatAnotherCoordinatorWrote() {
    InMemorySubscriptionStore store = new InMemorySubscriptionStore();
    Subscriptions here = new Subscriptions(store);
    Subscriptions other = new Subscriptions(store);
    other.put(new Subscription("shipping", "orders", "http://127.0.0.1:1/a"));
    assertThat(here.target("shipping")).as("not read yet").isNull();

    here.reload();
    assertThat(here.target("shipping")).isEqualTo("http://127.0.0.1:1/a");
    assertThat(here.byTopic(Set.of("orders"))).isEqualTo(Map.of("orders", List.of("shipping")));

    other.put(new Subscription("shipping", "orders", "http://127.0.0.1:1/b"));
    here.reload();
    assertThat(here.target("shipping")).isEqualTo("http://127.0.0.1:1/b");
    assertThat(here.size()).isEqualTo(1);
  }
}
