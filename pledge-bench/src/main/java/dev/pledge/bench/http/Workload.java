package dev.pledge.bench.http;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;

/**
 * What every candidate HTTP server does for a request, and the limits each one is configured with,
 * so that the servers differ only in how they carry bytes and threads.
 *
 * <p>The workload mimics the coordinator: {@code GET /health} answers {@code {"status":"ok"}};
 * {@code POST /api/v1/transactions} parses a JSON body of about 1 KiB with Jackson and answers 201
 * with a small JSON. Either may carry {@code ?blockMicros=N}, which parks the handling virtual
 * thread for N microseconds, as the coordinator's handler waits for its log write (group commit)
 * before it answers: with it, many requests are blocked at once and the server must not need a
 * platform thread for each.
 *
 * <p>Like the coordinator's {@code Api}, the dispatch is server-independent: each server's adapter
 * maps its request to {@link #handle} and writes the {@link Reply} back, which is how the real
 * coordinator will sit on whichever server is chosen.
 */
final class Workload {
  /** The coordinator's default payload bound (DESIGN.md, "Limits and safety"). */
  static final int MAX_BODY_BYTES = 1 << 20;

  /** The bound on the request line plus all headers. */
  static final int MAX_HEADER_BYTES = 16 * 1024;

  /** The bound on the number of request headers. */
  static final int MAX_HEADER_COUNT = 100;

  /**
   * How long a connection may sit without the client sending anything, whether between requests or
   * in the middle of one (a slow or stalled client). Short so that a probe of the limits finishes
   * quickly; the coordinator would use tens of seconds.
   */
  static final Duration IDLE_TIMEOUT = Duration.ofSeconds(5);

  /** The most a single request may ask to be parked, so a typo cannot hang the benchmark. */
  static final long MAX_BLOCK_MICROS = 1_000_000;

  static final String JSON = "application/json";

  private static final ObjectMapper MAPPER = new ObjectMapper();
  private static final byte[] HEALTH = "{\"status\":\"ok\"}".getBytes(StandardCharsets.UTF_8);

  private Workload() {}

  /**
   * A response: status and JSON body, and whether it was made on a virtual thread, which every
   * adapter sends back in the {@value #THREAD_HEADER} header so a run can check the candidate
   * really serves on virtual threads.
   */
  record Reply(int status, byte[] body, boolean virtual) {
    Reply(int status, byte[] body) {
      this(status, body, Thread.currentThread().isVirtual());
    }

    String thread() {
      return virtual ? "virtual" : "platform";
    }
  }

  static final String THREAD_HEADER = "Bench-Thread";

  /** Reads the request body; throws {@link TooLarge} past {@link #MAX_BODY_BYTES}. */
  @FunctionalInterface
  interface Body {
    byte[] read() throws IOException;
  }

  /** The body was longer than {@link #MAX_BODY_BYTES}: answered with 413. */
  static final class TooLarge extends IOException {
    private static final long serialVersionUID = 1L;

    TooLarge(long bytes) {
      super("request body of at least " + bytes + " bytes exceeds " + MAX_BODY_BYTES);
    }
  }

  /** Dispatches one request. Never throws: every failure becomes a 4xx reply. */
  static Reply handle(String method, String path, String rawQuery, Body body) {
    long blockMicros;
    try {
      blockMicros = blockMicros(rawQuery);
    } catch (IllegalArgumentException e) {
      return error(400, "bad_request", e.getMessage());
    }
    switch (path) {
      case "/health" -> {
        if (!method.equals("GET")) {
          return error(405, "method_not_allowed", method + " " + path);
        }
        park(blockMicros);
        return new Reply(200, HEALTH);
      }
      case "/api/v1/transactions" -> {
        if (!method.equals("POST")) {
          return error(405, "method_not_allowed", method + " " + path);
        }
        byte[] bytes;
        try {
          bytes = body.read();
        } catch (TooLarge e) {
          return error(413, "payload_too_large", e.getMessage());
        } catch (IOException e) {
          return error(400, "bad_request", "could not read the body: " + e.getMessage());
        }
        Reply reply = create(bytes);
        park(blockMicros);
        return reply;
      }
      default -> {
        return error(404, "not_found", path);
      }
    }
  }

  /**
   * Parses a create request as the coordinator would and answers 201 {@code {gid, status}}, with
   * the number of branches and messages seen so that the parse cannot be skipped.
   */
  static Reply create(byte[] body) {
    JsonNode request;
    try {
      request = MAPPER.readTree(body);
    } catch (JsonProcessingException e) {
      return error(400, "bad_json", e.getOriginalMessage());
    } catch (IOException e) {
      return error(400, "bad_request", "could not parse the body: " + e.getMessage());
    }
    if (request == null || !request.isObject() || !request.path("mode").isTextual()) {
      return error(400, "bad_request", "a JSON object with a mode is required");
    }
    ObjectNode answer = MAPPER.createObjectNode();
    answer.put("gid", request.path("gid").asText("generated"));
    answer.put("status", "submitted");
    answer.put("branches", request.path("branches").size());
    answer.put("messages", request.path("messages").size());
    return new Reply(201, write(answer));
  }

  /**
   * Reads at most {@link #MAX_BODY_BYTES} from a stream: one byte past the bound means {@link
   * TooLarge}.
   */
  static byte[] readBounded(InputStream in) throws IOException {
    byte[] bytes = in.readNBytes(MAX_BODY_BYTES + 1);
    if (bytes.length > MAX_BODY_BYTES) {
      throw new TooLarge(bytes.length);
    }
    return bytes;
  }

  /**
   * Checks a declared Content-Length before reading anything, so an oversized body is refused
   * without being read; {@code null} means none was declared (a chunked body, bounded while read).
   */
  static void checkDeclaredLength(String contentLength) throws IOException {
    if (contentLength == null) {
      return;
    }
    long length;
    try {
      length = Long.parseLong(contentLength.trim());
    } catch (NumberFormatException e) {
      throw new IOException("bad Content-Length: " + contentLength, e);
    }
    if (length > MAX_BODY_BYTES) {
      throw new TooLarge(length);
    }
  }

  static Reply error(int status, String code, String message) {
    ObjectNode answer = MAPPER.createObjectNode();
    answer.put("error", code);
    answer.put("message", message);
    return new Reply(status, write(answer));
  }

  private static byte[] write(JsonNode node) {
    try {
      return MAPPER.writeValueAsBytes(node);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a tree of strings and numbers must serialize", e);
    }
  }

  /** The {@code blockMicros} query parameter, 0 when absent. */
  static long blockMicros(String rawQuery) {
    if (rawQuery == null || rawQuery.isEmpty()) {
      return 0;
    }
    for (String pair : rawQuery.split("&", 16)) {
      if (pair.startsWith("blockMicros=")) {
        long micros;
        try {
          micros = Long.parseLong(pair.substring("blockMicros=".length()));
        } catch (NumberFormatException e) {
          throw new IllegalArgumentException("blockMicros must be a number: " + pair, e);
        }
        if (micros < 0 || micros > MAX_BLOCK_MICROS) {
          throw new IllegalArgumentException(
              "blockMicros must be in [0, " + MAX_BLOCK_MICROS + "]: " + micros);
        }
        return micros;
      }
    }
    return 0;
  }

  /**
   * Parks the current (virtual) thread for the given time, as the coordinator's handler waits for
   * the log. Parking may return early, hence the loop to the deadline.
   */
  static void park(long micros) {
    if (micros == 0) {
      return;
    }
    long deadline = System.nanoTime() + TimeUnit.MICROSECONDS.toNanos(micros);
    for (long left = deadline - System.nanoTime(); left > 0; left = deadline - System.nanoTime()) {
      LockSupport.parkNanos(left);
    }
  }

  /** The port from the first argument, 8080 when none is given. */
  static int port(String[] args) {
    return args.length > 0 ? Integer.parseInt(args[0]) : 8080;
  }

  /** Prints the line the benchmark driver waits for. */
  static void ready(String server, int port) {
    System.out.println(server + " listening on 127.0.0.1:" + port);
    System.out.flush();
  }
}
