package dev.pledge.server.console;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;

/**
 * The operator's console: static files (HTML, CSS, JavaScript) built into the jar and served under
 * {@value #PREFIX}. The page talks to the coordinator only through the public API, so this class
 * knows nothing of transactions.
 *
 * <p>Safe by construction rather than by cleaning paths: a request names a file only through {@link
 * #NAME}, segments of {@code [A-Za-z0-9._-]} that never start with a dot, so {@code ..}, hidden
 * files, absolute paths, backslashes and encoded tricks (the server has decoded {@code %2e} before
 * this sees it) all answer 404 without touching the class path; only a known extension is served,
 * only from {@value #ROOT}, and no file over {@link #MAX_FILE_BYTES} is loaded. Files are read once
 * and kept (they cannot change inside a jar), each with a strong ETag so that a browser revalidates
 * ({@code Cache-Control: no-cache}) and gets {@code 304} without a body.
 */
public final class ConsoleFiles {
  /** Where the console lives on the coordinator's HTTP server. */
  public static final String PREFIX = "/console/";

  /** The largest file served; the console's files are a few tens of KiB. */
  static final int MAX_FILE_BYTES = 1 << 20;

  private static final String ROOT = "/dev/pledge/server/console/static/";

  private static final Pattern NAME =
      Pattern.compile(
          "(?:[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}/){0,3}[A-Za-z0-9_-][A-Za-z0-9._-]{0,63}");

  private static final Map<String, String> TYPES =
      Map.of(
          "html", "text/html; charset=utf-8",
          "css", "text/css; charset=utf-8",
          "js", "text/javascript; charset=utf-8",
          "svg", "image/svg+xml",
          "png", "image/png",
          "ico", "image/x-icon",
          "txt", "text/plain; charset=utf-8");

  /** The page may load only its own files and talk only to its own origin; nothing may frame it. */
  static final String CONTENT_SECURITY_POLICY =
      "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:;"
          + " connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

  private record File(byte[] bytes, String type, String etag) {}

  private final Map<String, File> loaded = new ConcurrentHashMap<>();

  /** What the console answers: a status, headers and a body (empty for HEAD, 304 and errors). */
  public record Response(int status, Map<String, String> headers, byte[] body) {}

  /**
   * Answers {@code method path}, where {@code path} is the request's decoded path and starts with
   * {@code /console}; {@code ifNoneMatch} is the request's {@code If-None-Match} header, or null.
   */
  public Response serve(String method, String path, String ifNoneMatch) {
    Map<String, String> headers = new LinkedHashMap<>();
    headers.put("X-Content-Type-Options", "nosniff");
    headers.put("Referrer-Policy", "no-referrer");
    headers.put("Content-Security-Policy", CONTENT_SECURITY_POLICY);
    if (!method.equals("GET") && !method.equals("HEAD")) {
      headers.put("Allow", "GET, HEAD");
      return text(405, headers, "method not allowed: the console is read with GET\n");
    }
    if (path.equals("/console")) {
      headers.put("Location", PREFIX);
      return new Response(308, headers, new byte[0]);
    }
    if (!path.startsWith(PREFIX)) {
      return text(404, headers, "not found\n");
    }
    String name = path.substring(PREFIX.length());
    if (name.isEmpty()) {
      name = "index.html";
    }
    File file = find(name);
    if (file == null) {
      return text(404, headers, "not found\n");
    }
    headers.put("Content-Type", file.type());
    headers.put("Cache-Control", "no-cache");
    headers.put("ETag", file.etag());
    if (ifNoneMatch != null && matches(ifNoneMatch, file.etag())) {
      return new Response(304, headers, new byte[0]);
    }
    headers.put("Content-Length", Integer.toString(file.bytes().length));
    return new Response(200, headers, method.equals("HEAD") ? new byte[0] : file.bytes());
  }

  private File find(String name) {
    if (!NAME.matcher(name).matches()) {
      return null;
    }
    int dot = name.lastIndexOf('.');
    String type = dot < 0 ? null : TYPES.get(name.substring(dot + 1).toLowerCase(Locale.ROOT));
    if (type == null) {
      return null;
    }
    File known = loaded.get(name);
    if (known != null) {
      return known;
    }
    File file = load(name, type);
    if (file != null) {
      loaded.putIfAbsent(name, file);
    }
    return file;
  }

  private static File load(String name, String type) {
    try (InputStream in = ConsoleFiles.class.getResourceAsStream(ROOT + name)) {
      if (in == null) {
        return null;
      }
      byte[] bytes = in.readNBytes(MAX_FILE_BYTES + 1);
      if (bytes.length > MAX_FILE_BYTES) {
        throw new IllegalStateException(
            "console file " + name + " is larger than " + MAX_FILE_BYTES + " bytes");
      }
      return new File(bytes, type, "\"" + sha256(bytes) + "\"");
    } catch (IOException e) {
      throw new UncheckedIOException("reading console file " + name + " failed", e);
    }
  }

  private static boolean matches(String ifNoneMatch, String etag) {
    for (String candidate : ifNoneMatch.split(",", 32)) {
      String tag = candidate.strip();
      if (tag.startsWith("W/")) {
        tag = tag.substring(2);
      }
      if (tag.equals(etag) || tag.equals("*")) {
        return true;
      }
    }
    return false;
  }

  private static String sha256(byte[] bytes) {
    try {
      byte[] digest = MessageDigest.getInstance("SHA-256").digest(bytes);
      return HexFormat.of().formatHex(digest, 0, 16);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JDK has SHA-256", e);
    }
  }

  private static Response text(int status, Map<String, String> headers, String body) {
    headers.put("Content-Type", "text/plain; charset=utf-8");
    return new Response(status, headers, body.getBytes(StandardCharsets.UTF_8));
  }
}
