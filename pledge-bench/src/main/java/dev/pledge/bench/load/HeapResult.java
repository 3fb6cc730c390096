package dev.pledge.bench.load;

/**
 * Heap held by parked transactions: live bytes after a full collection with {@code warmup}
 * transactions parked, and again with {@code parked} more; beside them, the transactions the
 * coordinator said it held in memory at both points (its {@code pledge_owned_transactions} gauge,
 * -1 when it has none), so that the figure says how many of the parked were owned in memory.
 */
record HeapResult(
    DbKind db,
    int warmup,
    int parked,
    long liveBytesBefore,
    long liveBytesAfter,
    double parkSeconds,
    long ownedBefore,
    long ownedAfter) {
  double bytesPerTransaction() {
    return (liveBytesAfter - liveBytesBefore) / (double) parked;
  }

  /** Transactions the parking added to the coordinator's memory, or -1 when it does not say. */
  long ownedAdded() {
    return ownedBefore < 0 || ownedAfter < 0 ? -1 : ownedAfter - ownedBefore;
  }
}
