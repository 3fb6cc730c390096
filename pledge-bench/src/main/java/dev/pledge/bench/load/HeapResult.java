package dev.pledge.bench.load;

/**
 * Heap held by parked transactions: live bytes after a full collection with {@code warmup}
 * transactions parked, and again with {@code parked} more.
 */
record HeapResult(
    DbKind db,
    int warmup,
    int parked,
    long liveBytesBefore,
    long liveBytesAfter,
    double parkSeconds) {
  double bytesPerTransaction() {
    return (liveBytesAfter - liveBytesBefore) / (double) parked;
  }
}
