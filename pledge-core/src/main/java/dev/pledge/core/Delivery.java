package dev.pledge.core;

import java.util.Objects;

/** One committed message on its way to one subscription. */
public record Delivery(String subscription, Progress progress) {
  public Delivery {
    Objects.requireNonNull(subscription, "subscription");
    Objects.requireNonNull(progress, "progress");
  }
}
