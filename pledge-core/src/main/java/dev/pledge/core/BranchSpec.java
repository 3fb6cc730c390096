package dev.pledge.core;

import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * A branch as the caller describes it: a saga step ({@code action}, {@code compensate}, optional
 * {@code after}), a tcc branch ({@code try}, {@code confirm}, {@code cancel}) or a 2pc branch
 * ({@code prepare}, {@code commit}, {@code rollback}). {@code payload} is JSON text sent as the
 * body of every op.
 */
public record BranchSpec(
    String branchId, Map<Op, String> urls, String payload, List<String> after) {
  public BranchSpec {
    Objects.requireNonNull(branchId, "branchId");
    urls = Map.copyOf(urls);
    payload = payload == null ? "{}" : payload;
    after = after == null ? List.of() : List.copyOf(after);
  }
}
