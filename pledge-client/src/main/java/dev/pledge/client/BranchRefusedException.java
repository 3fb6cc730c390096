package dev.pledge.client;

/**
 * A tcc branch's {@code try} answered {@code 409}: a definitive business "no". The outcome is
 * known: the transaction cannot commit, and closing the {@link TccTransaction} aborts it (every
 * registered branch is cancelled; the refused one's cancel is a null compensation at its barrier).
 */
public final class BranchRefusedException extends PledgeException {
  private static final long serialVersionUID = 1L;

  private final String branchId;

  BranchRefusedException(String gid, String branchId, String reason) {
    super(gid, "try of branch " + branchId + " of " + gid + " refused: " + reason, null);
    this.branchId = branchId;
  }

  public String branchId() {
    return branchId;
  }

  @Override
  public boolean outcomeKnown() {
    return true;
  }
}
