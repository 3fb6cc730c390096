package dev.pledge.core.lra;

import static dev.pledge.core.Status.BEGUN;
import static dev.pledge.core.Status.PREPARED;
import static dev.pledge.core.engine.Trigger.BRANCH_LEFT;
import static dev.pledge.core.engine.Trigger.BRANCH_REGISTERED;

import dev.pledge.core.Branch;
import dev.pledge.core.BranchSpec;
import dev.pledge.core.FieldError;
import dev.pledge.core.Gid;
import dev.pledge.core.Limits;
import dev.pledge.core.Mode;
import dev.pledge.core.Op;
import dev.pledge.core.Transaction;
import dev.pledge.core.TransactionSpec;
import dev.pledge.core.engine.Decision;
import dev.pledge.core.engine.Draft;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Joining and leaving an LRA: a participant joins while the LRA is open (an after listener also
 * while it ends), once, with a valid id and URLs and within the limit of participants; it leaves
 * only while the LRA is open.
 */
final class LraMembers {
  private LraMembers() {}

  static Decision join(Draft draft, BranchSpec spec, Limits limits) {
    Transaction state = draft.state();
    boolean listener = spec.urls().keySet().equals(Set.of(Op.AFTER));
    boolean in = state.branch(spec.branchId()) != null;
    boolean ending = !state.status().isFinal();
    if (in && (state.status() == BEGUN || state.status() == PREPARED || (listener && ending))) {
      // The same participant again: already in. (A nested LRA closed provisionally may still be
      // cancelled by a method of a participant in it, which joins it again first.)
      return draft.finish();
    }
    if (state.status() != BEGUN && !(listener && ending)) {
      // Even a participant that is in already: once the LRA is ending its join must fail.
      return draft.reject("too late to join: the LRA is " + LraDecider.lraStatus(state));
    }
    List<FieldError> errors = new ArrayList<>();
    validateParticipant(spec, limits, errors);
    if (state.branches().size() >= limits.maxBranches()) {
      errors.add(
          new FieldError(
              "participant", "the LRA already has " + limits.maxBranches() + " participants"));
    }
    if (!errors.isEmpty()) {
      return draft.reject(errors.toString());
    }
    List<Branch> branches = new ArrayList<>(state.branches());
    branches.add(Branch.of(spec, Mode.LRA));
    draft.change(state.withBranches(branches));
    draft.fire(BRANCH_REGISTERED);
    LraPhases.advance(draft); // an after listener joining an ending LRA
    return draft.finish();
  }

  /** A participant's id and URLs: every URL optional, at least one given. */
  static void validateParticipant(BranchSpec spec, Limits limits, List<FieldError> errors) {
    if (spec.branchId().isEmpty()
        || !Gid.isValid(spec.branchId())
        || spec.branchId().length() > 64) {
      errors.add(new FieldError("participant.branchId", "must match [A-Za-z0-9._:-]{1,64}"));
    }
    if (spec.urls().isEmpty()) {
      errors.add(new FieldError("participant", "needs at least one URL"));
    }
    for (var entry : spec.urls().entrySet()) {
      if (!Mode.LRA.branchOps().contains(entry.getKey())) {
        errors.add(
            new FieldError(
                "participant." + entry.getKey().label(), "not an op of an lra participant"));
      } else {
        TransactionSpec.validateUrl(
            entry.getValue(), "participant." + entry.getKey().label(), limits, errors);
      }
    }
    if (spec.payload().length() > limits.maxPayloadBytes()) {
      errors.add(
          new FieldError("participant.data", "larger than " + limits.maxPayloadBytes() + " bytes"));
    }
  }

  static Decision leave(Draft draft, String branchId) {
    Transaction state = draft.state();
    if (state.branch(branchId) == null) {
      return draft.finish(); // not (or no longer) a participant
    }
    if (state.status() != BEGUN) {
      return draft.reject("too late to leave: the LRA is " + LraDecider.lraStatus(state));
    }
    List<Branch> branches = new ArrayList<>(state.branches().size());
    for (Branch branch : state.branches()) {
      if (!branch.branchId().equals(branchId)) {
        branches.add(branch);
      }
    }
    draft.change(state.withBranches(branches));
    draft.fire(BRANCH_LEFT);
    return draft.finish();
  }
}
