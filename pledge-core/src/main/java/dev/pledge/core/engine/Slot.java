package dev.pledge.core.engine;

import dev.pledge.core.Op;

/**
 * Names one {@link dev.pledge.core.Progress} inside a transaction: a branch op, the check-back, or
 * a delivery.
 */
public sealed interface Slot {
  record BranchOp(String branchId, Op op) implements Slot {}

  record Check() implements Slot {}

  record MessageDelivery(String messageId, String subscription) implements Slot {}

  /** Whether a failed answer is a business "no" here, or a protocol violation to retry. */
  default boolean mayFail() {
    return switch (this) {
      case BranchOp branchOp -> branchOp.op().isForward();
      case Check check -> true;
      case MessageDelivery delivery -> false;
    };
  }

  /** A stable text naming the slot, used to spread retry jitter. */
  default String key() {
    return switch (this) {
      case BranchOp branchOp -> branchOp.branchId() + "/" + branchOp.op().label();
      case Check check -> "check";
      case MessageDelivery delivery -> delivery.messageId() + "->" + delivery.subscription();
    };
  }
}
