package dev.pledge.server.lra;

import dev.pledge.core.lra.LraDecider;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.Objects;

/**
 * The URLs of LRAs and their participants' recovery records, as Narayana's client expects them: an
 * LRA's id is {@code {base}/lra-coordinator/{gid}}; a nested LRA's id also carries {@code
 * ?ParentLRA={its parent's id, encoded}}. The client finds the coordinator and the LRA's uid from
 * the id's path, so every id names the coordinator that serves it. The base is set once the port is
 * known.
 */
public final class LraIds {
  public static final String PATH = "/lra-coordinator";

  private volatile String base;

  public LraIds(String base) {
    this.base = base;
  }

  /** The server's own base URL, {@code http://host:port}, once it listens. */
  public void setBase(String base) {
    this.base = Objects.requireNonNull(base, "base");
  }

  public String base() {
    return base;
  }

  public String coordinator() {
    return base + PATH;
  }

  /** The id of the LRA of {@code gid}. */
  public String id(String gid) {
    String parent = LraDecider.parentOf(gid);
    String id = coordinator() + "/" + gid;
    return parent == null ? id : id + "?ParentLRA=" + encode(id(parent));
  }

  /** The id of the parent of the LRA of {@code gid}, or null for a top-level one. */
  public String parentId(String gid) {
    String parent = LraDecider.parentOf(gid);
    return parent == null ? null : id(parent);
  }

  public String recovery(String gid, String branchId) {
    return coordinator() + "/recovery/" + gid + "/" + branchId;
  }

  /** The coordinator's own participant URL for a nested LRA: {@code op} is complete, compensate… */
  public String nested(String gid, String op) {
    return coordinator() + "/nested/" + gid + "/" + op;
  }

  static String encode(String text) {
    return URLEncoder.encode(text, StandardCharsets.UTF_8);
  }
}
