package dev.pledge.server.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * The bearer tokens a coordinator accepts, each with its role, read from a tokens file: one {@code
 * ROLE TOKEN} per line ({@code operator 9f2c…}), blank lines and lines starting with {@code #}
 * ignored.
 *
 * <p>Tokens are kept only as SHA-256 digests, and a presented token is checked against every known
 * digest with {@link MessageDigest#isEqual} (constant time) without stopping at a match, so the
 * time an answer takes says nothing about how much of a token was right or which line matched. No
 * method returns or prints a token: {@link #toString} counts them, and an error in the file names
 * the line number, never its text.
 */
public final class Tokens {
  /** The shortest token accepted: 16 characters, so that none can be guessed in any useful time. */
  public static final int MIN_TOKEN_LENGTH = 16;

  /** The longest token accepted, and the longest {@code Authorization} value looked at. */
  public static final int MAX_TOKEN_LENGTH = 512;

  /** The most tokens in one file. */
  public static final int MAX_TOKENS = 1024;

  /** Who a valid token says the caller is: its role and a name for the audit log. */
  public record Principal(Role role, String name) {
    public Principal {
      Objects.requireNonNull(role, "role");
      Objects.requireNonNull(name, "name");
    }
  }

  private record Entry(byte[] digest, Principal principal) {}

  private final List<Entry> entries;

  private Tokens(List<Entry> entries) {
    this.entries = List.copyOf(entries);
  }

  /** Reads a tokens file; throws {@link IllegalArgumentException} naming the line of any error. */
  public static Tokens read(Path file) throws IOException {
    return parse(Files.readAllLines(file, StandardCharsets.UTF_8), file.toString());
  }

  /**
   * Parses the lines of a tokens file; {@code source} names it in errors. Each token's audit name
   * is its role and line, as {@code operator@3}: who acted, without the secret.
   */
  public static Tokens parse(List<String> lines, String source) {
    List<Entry> entries = new ArrayList<>();
    List<byte[]> seen = new ArrayList<>();
    for (int i = 0; i < lines.size(); i++) {
      String line = lines.get(i).strip();
      int number = i + 1;
      if (line.isEmpty() || line.startsWith("#")) {
        continue;
      }
      String[] parts = line.split("\\s+", -1);
      if (parts.length != 2) {
        throw new IllegalArgumentException(
            source
                + " line "
                + number
                + ": expected 'ROLE TOKEN' (two words), got "
                + parts.length
                + " words");
      }
      Role role = Role.fromLabel(parts[0]);
      if (role == null) {
        throw new IllegalArgumentException(
            source + " line " + number + ": the role must be client or operator");
      }
      String token = parts[1];
      if (token.length() < MIN_TOKEN_LENGTH || token.length() > MAX_TOKEN_LENGTH) {
        throw new IllegalArgumentException(
            source
                + " line "
                + number
                + ": a token must be "
                + MIN_TOKEN_LENGTH
                + " to "
                + MAX_TOKEN_LENGTH
                + " characters, this one has "
                + token.length());
      }
      if (!token.chars().allMatch(c -> c > 0x20 && c < 0x7f)) {
        throw new IllegalArgumentException(
            source + " line " + number + ": a token must be printable ASCII without spaces");
      }
      byte[] digest = sha256(token);
      for (byte[] other : seen) {
        if (MessageDigest.isEqual(other, digest)) {
          throw new IllegalArgumentException(
              source + " line " + number + ": the same token appears on an earlier line");
        }
      }
      seen.add(digest);
      entries.add(new Entry(digest, new Principal(role, role.label() + "@" + number)));
      if (entries.size() > MAX_TOKENS) {
        throw new IllegalArgumentException(
            source + ": more than " + MAX_TOKENS + " tokens; the most allowed");
      }
    }
    if (entries.isEmpty()) {
      throw new IllegalArgumentException(
          source + ": no token; a tokens file holds one 'ROLE TOKEN' per line");
    }
    return new Tokens(entries);
  }

  /**
   * Who an {@code Authorization} header value ({@code Bearer <token>}) names, or null when it is
   * missing, malformed or names no known token.
   */
  public Principal authenticate(String authorization) {
    if (authorization == null
        || authorization.length() > MAX_TOKEN_LENGTH + 7
        || !authorization.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return null;
    }
    byte[] presented = sha256(authorization.substring(7).strip());
    Principal found = null;
    for (Entry entry : entries) {
      // No early exit: every entry is compared, so the time does not depend on which matched.
      if (MessageDigest.isEqual(entry.digest(), presented)) {
        found = entry.principal();
      }
    }
    return found;
  }

  public int size() {
    return entries.size();
  }

  /** How many tokens of each role: what the server logs at start. Never a token. */
  @Override
  public String toString() {
    long operators = entries.stream().filter(e -> e.principal().role() == Role.OPERATOR).count();
    return "Tokens[" + operators + " operator, " + (entries.size() - operators) + " client]";
  }

  private static byte[] sha256(String token) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(token.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }
}
