package dev.pledge.core;

import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;

/**
 * One participant's share of a global transaction: the URL of each op, the payload sent with every
 * op, the branches it runs after (saga DAG), and the progress of each op.
 */
public record Branch(
    String branchId,
    Map<Op, String> urls,
    String payload,
    List<String> after,
    Map<Op, Progress> ops) {

  public Branch {
    Objects.requireNonNull(branchId, "branchId");
    urls = Map.copyOf(urls);
    Objects.requireNonNull(payload, "payload");
    after = List.copyOf(after);
    ops = Map.copyOf(ops);
  }

  /** A new branch whose ops have not started. */
  public static Branch of(BranchSpec spec, Mode mode) {
    Map<Op, Progress> ops = new EnumMap<>(Op.class);
    for (Op op : mode.branchOps()) {
      ops.put(op, Progress.IDLE);
    }
    return new Branch(spec.branchId(), spec.urls(), spec.payload(), spec.after(), ops);
  }

  public Progress op(Op op) {
    Progress progress = ops.get(op);
    if (progress == null) {
      throw new IllegalStateException("branch " + branchId + " has no op " + op.label());
    }
    return progress;
  }

  public String url(Op op) {
    return urls.get(op);
  }

  public Branch with(Op op, Progress progress) {
    Map<Op, Progress> next = new EnumMap<>(Op.class);
    next.putAll(ops);
    next.put(op, progress);
    return new Branch(branchId, urls, payload, after, next);
  }
}
