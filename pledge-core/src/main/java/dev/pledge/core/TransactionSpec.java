package dev.pledge.core;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * A request to start a global transaction. {@link #validate(Limits)} lists every broken rule at
 * once, each naming its field, so a caller can fix them all in one go.
 *
 * @param timeout the undecided phase: for saga, tcc, 2pc and xa its end means abort; for 3pc it
 *     means abort before the pre-commit decision and commit after it; for msg it is when check-back
 *     starts. Null means the default of {@link Limits}.
 */
public record TransactionSpec(
    Gid gid,
    Mode mode,
    Duration timeout,
    List<BranchSpec> branches,
    List<MessageSpec> messages,
    String checkUrl) {

  public TransactionSpec {
    Objects.requireNonNull(gid, "gid");
    Objects.requireNonNull(mode, "mode");
    branches = branches == null ? List.of() : List.copyOf(branches);
    messages = messages == null ? List.of() : List.copyOf(messages);
  }

  /** An LRA started without a time limit runs until it is closed or cancelled. */
  public static final Duration NO_TIME_LIMIT = Duration.ofDays(365L * 100);

  public Duration timeoutOr(Limits limits) {
    if (timeout == null) {
      return mode == Mode.LRA ? NO_TIME_LIMIT : limits.defaultTimeout();
    }
    return timeout;
  }

  /** Every rule this spec breaks; empty when it is acceptable. */
  public List<FieldError> validate(Limits limits) {
    List<FieldError> errors = new ArrayList<>();
    if (timeout != null
        && (timeout.isNegative()
            || timeout.isZero()
            || timeout.compareTo(limits.maxTimeout()) > 0)) {
      errors.add(
          new FieldError(
              "timeoutSeconds", "must be between 1 and " + limits.maxTimeout().toSeconds()));
    }
    switch (mode) {
      case SAGA, TWO_PC, XA, THREE_PC -> {
        if (branches.isEmpty()) {
          errors.add(
              new FieldError(
                  "branches", "a " + mode.code() + " transaction needs at least one branch"));
        }
        validateBranches(branches, mode, limits, errors);
        noMessages(errors);
      }
      case LRA -> {
        if (!branches.isEmpty()) {
          errors.add(new FieldError("branches", "lra participants join one by one after start"));
        }
        noMessages(errors);
      }
      case TCC -> {
        if (!branches.isEmpty()) {
          errors.add(
              new FieldError("branches", "tcc branches are registered one by one after begin"));
        }
        noMessages(errors);
      }
      case MSG -> {
        if (!branches.isEmpty()) {
          errors.add(new FieldError("branches", "a msg transaction has messages, not branches"));
        }
        if (messages.isEmpty()) {
          errors.add(new FieldError("messages", "a msg transaction needs at least one message"));
        }
        if (messages.size() > limits.maxMessages()) {
          errors.add(
              new FieldError(
                  "messages",
                  "at most " + limits.maxMessages() + " messages, got " + messages.size()));
        }
        Map<String, Integer> ids = new HashMap<>();
        for (int i = 0; i < messages.size(); i++) {
          validateMessage(messages.get(i), "messages[" + i + "]", limits, errors);
          String id = messages.get(i).id();
          if (id != null) {
            Integer first = ids.putIfAbsent(id, i);
            if (first != null) {
              errors.add(
                  new FieldError(
                      "messages[" + i + "].id", "the same as messages[" + first + "].id"));
            }
          }
        }
        if (checkUrl == null || checkUrl.isBlank()) {
          errors.add(new FieldError("checkUrl", "required for msg"));
        } else {
          validateUrl(checkUrl, "checkUrl", limits, errors);
        }
      }
    }
    if (mode != Mode.MSG && checkUrl != null) {
      errors.add(new FieldError("checkUrl", "only msg transactions have a check URL"));
    }
    return errors;
  }

  private void noMessages(List<FieldError> errors) {
    if (!messages.isEmpty()) {
      errors.add(new FieldError("messages", "only msg transactions carry messages"));
    }
  }

  /**
   * Checks a list of branches of {@code mode}: ids unique, URLs present, DAG acyclic, sizes
   * bounded.
   */
  public static void validateBranches(
      List<BranchSpec> branches, Mode mode, Limits limits, List<FieldError> errors) {
    if (branches.size() > limits.maxBranches()) {
      errors.add(
          new FieldError(
              "branches", "at most " + limits.maxBranches() + " branches, got " + branches.size()));
    }
    Set<String> ids = new HashSet<>();
    for (int i = 0; i < branches.size(); i++) {
      BranchSpec branch = branches.get(i);
      String path = "branches[" + i + "]";
      validateBranch(branch, mode, path, limits, errors);
      if (!ids.add(branch.branchId())) {
        errors.add(
            new FieldError(path + ".branchId", "duplicate branch id '" + branch.branchId() + "'"));
      }
    }
    if (mode == Mode.SAGA) {
      for (int i = 0; i < branches.size(); i++) {
        for (String dep : branches.get(i).after()) {
          if (!ids.contains(dep)) {
            errors.add(
                new FieldError(
                    "branches[" + i + "].after",
                    "names unknown branch '" + Gid.abbreviate(dep) + "'"));
          } else if (dep.equals(branches.get(i).branchId())) {
            errors.add(
                new FieldError("branches[" + i + "].after", "a step cannot run after itself"));
          }
        }
      }
      if (hasCycle(branches)) {
        errors.add(new FieldError("branches", "the steps' after lists form a cycle"));
      }
    }
  }

  /** Checks one branch of {@code mode}, reporting errors under {@code path}. */
  public static void validateBranch(
      BranchSpec branch, Mode mode, String path, Limits limits, List<FieldError> errors) {
    if (branch.branchId().isEmpty()
        || !Gid.isValid(branch.branchId())
        || branch.branchId().length() > 64) {
      errors.add(new FieldError(path + ".branchId", "must match [A-Za-z0-9._:-]{1,64}"));
    }
    for (Op op : mode.branchOps()) {
      String url = branch.urls().get(op);
      if (url == null || url.isBlank()) {
        errors.add(
            new FieldError(path + "." + op.label(), "required for a " + mode.code() + " branch"));
      } else {
        validateUrl(url, path + "." + op.label(), limits, errors);
      }
    }
    for (Op op : branch.urls().keySet()) {
      if (!mode.branchOps().contains(op)) {
        errors.add(
            new FieldError(path + "." + op.label(), "not an op of a " + mode.code() + " branch"));
      }
    }
    if (mode != Mode.SAGA && !branch.after().isEmpty()) {
      errors.add(new FieldError(path + ".after", "only saga steps have after"));
    }
    if (utf8Length(branch.payload()) > limits.maxPayloadBytes()) {
      errors.add(
          new FieldError(path + ".payload", "larger than " + limits.maxPayloadBytes() + " bytes"));
    }
  }

  private static void validateMessage(
      MessageSpec message, String path, Limits limits, List<FieldError> errors) {
    if (message.id() != null && !MessageSpec.ID.matcher(message.id()).matches()) {
      errors.add(new FieldError(path + ".id", "must match [A-Za-z0-9._:#-]{1,200}"));
    }
    if (message.topic().isEmpty()
        || message.topic().length() > 255
        || !Gid.isValid(message.topic())) {
      errors.add(new FieldError(path + ".topic", "must match [A-Za-z0-9._:-]{1,128}"));
    }
    if (message.key() != null && utf8Length(message.key()) > 1024) {
      errors.add(new FieldError(path + ".key", "longer than 1024 bytes"));
    }
    if (utf8Length(message.payload()) > limits.maxPayloadBytes()) {
      errors.add(
          new FieldError(path + ".payload", "larger than " + limits.maxPayloadBytes() + " bytes"));
    }
    if (message.headers().size() > limits.maxHeaders()) {
      errors.add(new FieldError(path + ".headers", "at most " + limits.maxHeaders() + " headers"));
    }
    int headerBytes = 0;
    for (Map.Entry<String, String> header : message.headers().entrySet()) {
      headerBytes += utf8Length(header.getKey()) + utf8Length(header.getValue());
    }
    if (headerBytes > limits.maxHeaderBytes()) {
      errors.add(
          new FieldError(path + ".headers", "larger than " + limits.maxHeaderBytes() + " bytes"));
    }
  }

  public static void validateUrl(String url, String field, Limits limits, List<FieldError> errors) {
    if (url.length() > limits.maxUrlLength()) {
      errors.add(new FieldError(field, "longer than " + limits.maxUrlLength() + " characters"));
    } else if (!url.startsWith("http://") && !url.startsWith("https://")) {
      errors.add(new FieldError(field, "must be an http:// or https:// URL"));
    }
  }

  private static int utf8Length(String text) {
    return text.getBytes(StandardCharsets.UTF_8).length;
  }

  private static boolean hasCycle(List<BranchSpec> branches) {
    Map<String, List<String>> deps = new HashMap<>();
    for (BranchSpec branch : branches) {
      deps.put(branch.branchId(), branch.after());
    }
    Map<String, Integer> state = new HashMap<>();
    for (BranchSpec branch : branches) {
      if (visit(branch.branchId(), deps, state)) {
        return true;
      }
    }
    return false;
  }

  private static boolean visit(
      String id, Map<String, List<String>> deps, Map<String, Integer> state) {
    Integer seen = state.get(id);
    if (seen != null) {
      return seen == 1;
    }
    state.put(id, 1);
    for (String dep : deps.get(id)) {
      // An unknown name is reported on its own; it cannot be part of a cycle.
      if (deps.containsKey(dep) && visit(dep, deps, state)) {
        return true;
      }
    }
    state.put(id, 2);
    return false;
  }
}
