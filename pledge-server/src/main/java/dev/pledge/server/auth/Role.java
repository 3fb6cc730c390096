package dev.pledge.server.auth;

import java.util.Locale;

/**
 * What a token may do. {@link #CLIENT}: create and drive transactions and read one by its gid;
 * {@link #OPERATOR}: everything, including listing, counts, metrics, retry, force, re-drive and
 * subscriptions.
 */
public enum Role {
  CLIENT,
  OPERATOR;

  /** Whether this role may do what {@code required} allows. */
  public boolean covers(Role required) {
    return this == OPERATOR || required == CLIENT;
  }

  public String label() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The role named {@code label} ({@code client}, {@code operator}), or null. */
  static Role fromLabel(String label) {
    for (Role role : values()) {
      if (role.label().equals(label)) {
        return role;
      }
    }
    return null;
  }
}
