package dev.pledge.bench.load;

import java.util.List;

/**
 * A kind of global transaction the benchmark drives, with the number of branches (participants) it
 * spans. Every branch op is one local transaction of a participant; the msg workload's producer
 * writes locally and its one message is delivered to one HTTP subscription.
 */
enum Workload {
  SAGA_2("saga-2", "saga", 2),
  SAGA_5("saga-5", "saga", 5),
  TCC_2("tcc-2", "tcc", 2),
  TCC_5("tcc-5", "tcc", 5),
  TWO_PC_2("2pc-2", "2pc", 2),
  TWO_PC_5("2pc-5", "2pc", 5),
  THREE_PC_2("3pc-2", "3pc", 2),
  MSG("msg", "msg", 1);

  final String label;
  final String mode;
  final int branches;

  Workload(String label, String mode, int branches) {
    this.label = label;
    this.mode = mode;
    this.branches = branches;
  }

  static Workload fromLabel(String label) {
    for (Workload w : values()) {
      if (w.label.equals(label)) {
        return w;
      }
    }
    throw new IllegalArgumentException(
        "workload must be one of "
            + List.of(values()).stream().map(w -> w.label).toList()
            + ", got '"
            + label
            + "'");
  }

  /**
   * The local transactions one global transaction makes in all (participants' ops, the msg
   * producer's local write and the delivery's inbox write), the same with and without Pledge.
   */
  int localTransactions() {
    return switch (this) {
      case SAGA_2, SAGA_5 -> branches;
      case TCC_2, TCC_5, TWO_PC_2, TWO_PC_5 -> 2 * branches;
      case THREE_PC_2 -> 3 * branches;
      case MSG -> 2;
    };
  }
}
