package dev.pledge.core.engine;

import dev.pledge.core.BranchSpec;
import dev.pledge.core.Gid;
import dev.pledge.core.MessageSpec;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.TransactionSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;

/**
 * Transaction specs for the decider tests, with one convention for URLs and payloads so that a test
 * can state the exact effect it expects: {@code http://localhost:9000/<branch>/<op>} and {@code
 * {"branch":"<branch>"}}.
 */
public final class Specs {
  /** When every scenario starts: a fixed instant, so runs are reproducible. */
  public static final Instant T0 = Instant.parse("2030-01-01T00:00:00Z");

  public static final String CHECK_URL = "http://localhost:9000/check";

  private Specs() {}

  /** The calling test's own name as a gid, DTM style: a test's transactions are easy to find. */
  public static Gid gid() {
    return Gid.of(
        StackWalker.getInstance()
            .walk(frames -> frames.skip(1).findFirst().orElseThrow().getMethodName()));
  }

  public static String url(String branchId, Op op) {
    return "http://localhost:9000/" + branchId + "/" + op.label();
  }

  public static String payload(String branchId) {
    return "{\"branch\":\"" + branchId + "\"}";
  }

  /** A branch of {@code mode} following the URL and payload convention. */
  public static BranchSpec branch(Mode mode, String branchId, String... after) {
    Map<Op, String> urls = new EnumMap<>(Op.class);
    for (Op op : mode.branchOps()) {
      urls.put(op, url(branchId, op));
    }
    return new BranchSpec(branchId, urls, payload(branchId), List.of(after));
  }

  /**
   * A saga step that runs after the steps named in {@code after} (a DAG when any step names one).
   */
  public static BranchSpec step(String branchId, String... after) {
    return branch(Mode.SAGA, branchId, after);
  }

  /** A saga whose steps run one after another, in the order given. */
  public static TransactionSpec saga(Gid gid, String... steps) {
    List<BranchSpec> branches = new ArrayList<>();
    for (String step : steps) {
      branches.add(step(step));
    }
    return new TransactionSpec(gid, Mode.SAGA, null, branches, null, null);
  }

  /** A saga of explicit steps (a DAG when any step has {@code after}). */
  public static TransactionSpec saga(Gid gid, BranchSpec... steps) {
    return new TransactionSpec(gid, Mode.SAGA, null, Arrays.asList(steps), null, null);
  }

  public static TransactionSpec twoPc(Gid gid, String... branchIds) {
    List<BranchSpec> branches = new ArrayList<>();
    for (String branchId : branchIds) {
      branches.add(branch(Mode.TWO_PC, branchId));
    }
    return new TransactionSpec(gid, Mode.TWO_PC, null, branches, null, null);
  }

  public static TransactionSpec threePc(Gid gid, String... branchIds) {
    List<BranchSpec> branches = new ArrayList<>();
    for (String branchId : branchIds) {
      branches.add(branch(Mode.THREE_PC, branchId));
    }
    return new TransactionSpec(gid, Mode.THREE_PC, null, branches, null, null);
  }

  public static TransactionSpec tcc(Gid gid) {
    return new TransactionSpec(gid, Mode.TCC, null, null, null, null);
  }

  public static BranchSpec tccBranch(String branchId) {
    return branch(Mode.TCC, branchId);
  }

  /** An LRA with no participant yet and the given time limit (null: none). */
  public static TransactionSpec lra(Gid gid, Duration timeLimit) {
    return new TransactionSpec(gid, Mode.LRA, timeLimit, null, null, null);
  }

  /** An LRA participant with every URL (complete, compensate, status, forget, after). */
  public static BranchSpec participant(String branchId) {
    return branch(Mode.LRA, branchId);
  }

  /** An LRA participant with only the URLs of {@code ops}. */
  public static BranchSpec participant(String branchId, Op... ops) {
    Map<Op, String> urls = new EnumMap<>(Op.class);
    for (Op op : ops) {
      urls.put(op, url(branchId, op));
    }
    return new BranchSpec(branchId, urls, payload(branchId), List.of());
  }

  public static TransactionSpec msg(Gid gid, MessageSpec... messages) {
    return new TransactionSpec(gid, Mode.MSG, null, null, Arrays.asList(messages), CHECK_URL);
  }

  /** {@code spec} with another timeout (the undecided phase). */
  public static TransactionSpec withTimeout(TransactionSpec spec, Duration timeout) {
    return new TransactionSpec(
        spec.gid(), spec.mode(), timeout, spec.branches(), spec.messages(), spec.checkUrl());
  }

  /**
   * A message with an ordering key (or null) and a payload naming it, so deliveries are told apart.
   */
  public static MessageSpec message(String topic, String key, String name) {
    return new MessageSpec(topic, key, "{\"message\":\"" + name + "\"}", Map.of());
  }
}
