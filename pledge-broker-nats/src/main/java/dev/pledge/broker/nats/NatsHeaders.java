package dev.pledge.broker.nats;

import dev.pledge.core.TransactionalMessage;
import io.nats.client.impl.Headers;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * The wire form of a transactional message on NATS JetStream (DESIGN.md, Brokers; docs/brokers.md):
 * data the payload as UTF-8 JSON, header {@code Nats-Msg-Id} the id (JetStream drops a second
 * publish of it within the stream's duplicate window), headers {@code pledge-topic}, {@code
 * pledge-key} (when the message has a key), {@code pledge-gid} (when it has a gid), plus the
 * producer's own headers. Header names starting with {@code pledge-} or {@code Nats-} are reserved.
 *
 * <p>NATS headers carry printable ASCII only. A value with any other character (a key such as
 * {@code clé}), or one that starts with {@code =?}, is sent as an RFC 2047 encoded word: {@code
 * =?UTF-8?B?<base64 of its UTF-8>?=}. A header name must be printable ASCII without {@code :} or
 * spaces; a message with another name is rejected.
 */
final class NatsHeaders {
  static final String MSG_ID = "Nats-Msg-Id";
  static final String TOPIC = "pledge-topic";
  static final String KEY = "pledge-key";
  static final String GID = "pledge-gid";

  private NatsHeaders() {}

  static Headers headers(TransactionalMessage message) {
    Headers headers = new Headers();
    message
        .headers()
        .forEach((name, value) -> {
          if (!isReserved(name)) {
            if (!NAME.matcher(name).matches()) {
              throw new IllegalArgumentException(
                  "header name \"" + name + "\" is not printable ASCII without ':' or spaces");
            }
            headers.add(name, encode(value));
          }
        });
    headers.put(MSG_ID, message.id());
    headers.put(TOPIC, encode(message.topic()));
    if (message.key() != null) {
      headers.put(KEY, encode(message.key()));
    }
    if (message.gid() != null) {
      headers.put(GID, message.gid());
    }
    return headers;
  }

  /**
   * The message a consumer received.
   *
   * @throws IllegalArgumentException when it lacks {@code Nats-Msg-Id} or {@code pledge-topic}: it
   *     can never be handled
   */
  static TransactionalMessage decode(Headers raw, byte[] data) {
    if (raw == null) {
      throw new IllegalArgumentException("message has no headers");
    }
    String id = raw.getFirst(MSG_ID);
    String topic = decode(raw.getFirst(TOPIC));
    if (id == null || topic == null) {
      throw new IllegalArgumentException(
          "message has no " + (id == null ? MSG_ID : TOPIC) + " header");
    }
    Map<String, String> headers = new LinkedHashMap<>();
    for (Map.Entry<String, List<String>> header : raw.entrySet()) {
      if (!isReserved(header.getKey()) && !header.getValue().isEmpty()) {
        headers.put(header.getKey(), decode(header.getValue().getFirst()));
      }
    }
    return new TransactionalMessage(
        id,
        topic,
        decode(raw.getFirst(KEY)),
        data == null ? "" : new String(data, StandardCharsets.UTF_8),
        headers,
        raw.getFirst(GID));
  }

  private static final java.util.regex.Pattern NAME = java.util.regex.Pattern.compile("[!-9;-~]+");
  private static final String ENCODED_PREFIX = "=?UTF-8?B?";
  private static final String ENCODED_SUFFIX = "?=";

  /** The value as NATS can carry it: itself if printable ASCII, else an RFC 2047 encoded word. */
  static String encode(String value) {
    boolean plain = !value.startsWith("=?");
    for (int i = 0; plain && i < value.length(); i++) {
      char c = value.charAt(i);
      plain = c >= 0x20 && c <= 0x7e;
    }
    if (plain) {
      return value;
    }
    return ENCODED_PREFIX
        + java.util.Base64.getEncoder().encodeToString(value.getBytes(StandardCharsets.UTF_8))
        + ENCODED_SUFFIX;
  }

  static String decode(String value) {
    if (value != null && value.startsWith(ENCODED_PREFIX) && value.endsWith(ENCODED_SUFFIX)) {
      String base64 =
          value.substring(ENCODED_PREFIX.length(), value.length() - ENCODED_SUFFIX.length());
      return new String(java.util.Base64.getDecoder().decode(base64), StandardCharsets.UTF_8);
    }
    return value;
  }

  static boolean isReserved(String name) {
    String lower = name.toLowerCase(Locale.ROOT);
    return lower.startsWith("pledge-") || lower.startsWith("nats-");
  }
}
