package dev.pledge.client.xa;

import dev.pledge.client.barrier.BranchCall;
import dev.pledge.core.Op;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Base64;
import java.util.regex.Pattern;

/**
 * The identity of one xa branch in its database: a global transaction id ({@code gtrid}) and a
 * branch qualifier ({@code bqual}), as the X/Open XA standard and MariaDB's {@code XA START} have
 * them, each at most 64 bytes.
 *
 * <p>The encoding, chosen so that a prepared transaction found after a crash can be matched to the
 * coordinator's log without any table (docs/protocols/xa.md, "The xid"):
 *
 * <ul>
 *   <li>{@code bqual} is the branch id (at most 64 characters of {@code [A-Za-z0-9._:-]}).
 *   <li>{@code gtrid} is the gid when it has at most 64 characters. A longer gid (up to 128) does
 *       not fit: its {@code gtrid} is {@code ~} followed by the unpadded base64url SHA-256 of the
 *       gid (44 characters). {@code ~} is not a gid character, so the two forms never collide. For
 *       such a gid the participant commits the row {@code (gtrid, gid)} to table {@code
 *       pledge_xa_gid} before the branch begins, and recovery reads the gid back from it.
 *   <li>On MariaDB the xid is {@code gtrid, bqual, formatID} with {@code formatID} {@value
 *       #FORMAT_ID} ("PLDG"), by which recovery tells Pledge's branches from others'.
 *   <li>On PostgreSQL, whose transaction identifier is one string of at most 199 bytes, it is
 *       {@code pledge/<gtrid>/<bqual>} (at most 136 characters); {@code /} is in neither part.
 * </ul>
 */
public record XaXid(String gtrid, String bqual) {
  /** MariaDB's {@code formatID} for Pledge's branches: the bytes of "PLDG". */
  public static final int FORMAT_ID = 0x504C4447;

  static final String POSTGRES_PREFIX = "pledge/";
  static final int MAX_PART = 64;
  private static final Pattern GTRID = Pattern.compile("[A-Za-z0-9._:-]{1,64}|~[A-Za-z0-9_-]{43}");
  private static final Pattern BQUAL = Pattern.compile("[A-Za-z0-9._:-]{1,64}");

  public XaXid {
    if (gtrid == null || !GTRID.matcher(gtrid).matches()) {
      throw new IllegalArgumentException(
          "gtrid must be a gid of at most 64 characters or ~ and a base64url SHA-256, was "
              + gtrid);
    }
    if (bqual == null || !BQUAL.matcher(bqual).matches()) {
      throw new IllegalArgumentException("bqual must match [A-Za-z0-9._:-]{1,64}, was " + bqual);
    }
  }

  /**
   * The xid of branch {@code branch} of global transaction {@code gid}.
   *
   * @throws IllegalArgumentException when the gid or branch id is not one Pledge accepts
   */
  public static XaXid of(String gid, String branch) {
    new BranchCall(gid, branch, Op.PREPARE); // checks both
    return new XaXid(gid.length() <= MAX_PART ? gid : "~" + sha256(gid), branch);
  }

  /** Whether the gid was too long to be the gtrid, so the gtrid is its hash. */
  public boolean hashed() {
    return gtrid.charAt(0) == '~';
  }

  /** PostgreSQL's transaction identifier for this branch. */
  public String postgresName() {
    return POSTGRES_PREFIX + gtrid + "/" + bqual;
  }

  /** The xid of a PostgreSQL transaction identifier, or null when it is not one of Pledge's. */
  public static XaXid fromPostgresName(String name) {
    if (name == null || !name.startsWith(POSTGRES_PREFIX)) {
      return null;
    }
    String rest = name.substring(POSTGRES_PREFIX.length());
    int slash = rest.indexOf('/');
    if (slash < 0) {
      return null;
    }
    try {
      return new XaXid(rest.substring(0, slash), rest.substring(slash + 1));
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  /** The xid of MariaDB's {@code XA RECOVER} parts, or null when it is not one of Pledge's. */
  public static XaXid fromParts(int formatId, String gtrid, String bqual) {
    if (formatId != FORMAT_ID) {
      return null;
    }
    try {
      return new XaXid(gtrid, bqual);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  static String sha256(String gid) {
    try {
      byte[] hash =
          MessageDigest.getInstance("SHA-256").digest(gid.getBytes(StandardCharsets.US_ASCII));
      return Base64.getUrlEncoder().withoutPadding().encodeToString(hash);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  @Override
  public String toString() {
    return postgresName();
  }
}
