package dev.pledge.client;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pledge.client.barrier.Barrier;
import dev.pledge.client.barrier.LocalTransactions;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Map;
import java.util.Objects;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A two-phase message: the messages are prepared at the coordinator (stored, invisible), the
 * producer's local transaction runs with the barrier, and the messages are delivered only if it
 * committed. {@link #commitWith} does the three steps:
 *
 * <ol>
 *   <li>create the {@code msg} transaction, {@code prepared};
 *   <li>run the local work in one local transaction that also writes the barrier's row for the gid;
 *       if it throws, roll back, abort, rethrow;
 *   <li>after the local commit, commit at the coordinator.
 * </ol>
 *
 * <p>If the producer dies (or the commit call fails) after its local commit, the coordinator asks
 * the check URL after the timeout, and the producer's check-back handler answers from the barrier:
 * {@code committed}. If it dies before, the check-back answers {@code rolled_back}, and the barrier
 * stops that local transaction from ever committing later.
 */
public final class MessageBuilder {
  private static final Logger LOG = LoggerFactory.getLogger(MessageBuilder.class);

  private final PledgeClient client;
  private final String gid;
  private final ArrayNode messages = Http.JSON.createArrayNode();
  private Duration timeout;
  private String checkUrl;

  MessageBuilder(PledgeClient client, String gid) {
    this.client = client;
    this.gid = gid;
  }

  /** When check-back starts if the producer has not decided (whole seconds, 1 s to 24 h). */
  public MessageBuilder timeout(Duration timeout) {
    PledgeClient.timeoutSeconds(timeout);
    this.timeout = timeout;
    return this;
  }

  /** The producer's check-back endpoint (required); see {@code CheckBackHandler}. */
  public MessageBuilder checkUrl(String url) {
    this.checkUrl = Objects.requireNonNull(url, "checkUrl");
    return this;
  }

  /** Adds a message; the payload as for {@link SagaBuilder#step}; key and headers may be null. */
  public MessageBuilder message(
      String topic, String key, Object payload, Map<String, String> headers) {
    ObjectNode message = messages.addObject().put("topic", Objects.requireNonNull(topic, "topic"));
    if (key != null) {
      message.put("key", key);
    }
    message.set(
        "payload", Payloads.toJson("messages[" + (messages.size() - 1) + "].payload", payload));
    if (headers != null && !headers.isEmpty()) {
      ObjectNode h = message.putObject("headers");
      headers.forEach(h::put);
    }
    return this;
  }

  /**
   * Adds a message with the producer's own id ({@code messages[].id}, {@code
   * [A-Za-z0-9._:#-]{1,200}}), delivered as {@code Pledge-Message-Id} instead of {@code <gid>#<n>}.
   */
  public MessageBuilder namedMessage(
      String id, String topic, String key, Object payload, Map<String, String> headers) {
    message(topic, key, payload, headers);
    ((ObjectNode) messages.get(messages.size() - 1)).put("id", Objects.requireNonNull(id, "id"));
    return this;
  }

  public MessageBuilder message(String topic, String key, Object payload) {
    return message(topic, key, payload, null);
  }

  /** Creates the transaction, {@code prepared}, and nothing else. Idempotent by gid and body. */
  public Submitted prepare() {
    if (checkUrl == null) {
      throw new IllegalStateException("a msg transaction needs checkUrl(...)");
    }
    if (messages.isEmpty()) {
      throw new IllegalStateException("a msg transaction needs at least one message(...)");
    }
    ObjectNode body =
        Http.JSON.createObjectNode().put("gid", gid).put("mode", "msg").put("checkUrl", checkUrl);
    if (timeout != null) {
      body.put("timeoutSeconds", timeout.toSeconds());
    }
    body.set("messages", messages.deepCopy());
    return client.create(body);
  }

  /**
   * Prepares the messages, runs {@code work} in a local transaction on {@code dataSource} guarded
   * by {@code barrier}, and commits.
   *
   * @return the coordinator's status after the commit ({@code committing} or {@code committed}), or
   *     {@code prepared} when the local transaction committed but the commit call got no answer:
   *     the check-back then decides {@code committed}, so the messages are still delivered
   * @throws SQLException or the work's own exception when the local transaction failed; the
   *     transaction was aborted (or, if the abort got no answer, the check-back answers {@code
   *     rolled_back})
   * @throws dev.pledge.client.barrier.MessageRolledBackException when the local transaction came
   *     too late: a check-back had already answered {@code rolled_back}
   */
  public Submitted commitWith(DataSource dataSource, Barrier barrier, Barrier.Effect work)
      throws SQLException {
    Objects.requireNonNull(dataSource, "dataSource");
    return commitWith(LocalTransactions.of(dataSource), barrier, work);
  }

  /**
   * As {@link #commitWith(DataSource, Barrier, Barrier.Effect)}, with the local transaction run by
   * the caller's own means (a Spring {@code TransactionTemplate}, a service's single connection).
   */
  public Submitted commitWith(LocalTransactions local, Barrier barrier, Barrier.Effect work)
      throws SQLException {
    Objects.requireNonNull(local, "local");
    Objects.requireNonNull(barrier, "barrier");
    Objects.requireNonNull(work, "work");
    prepare();
    try {
      local.inTransaction(connection -> {
        barrier.prepareMessage(connection, gid);
        work.run(connection);
      });
    } catch (SQLException | RuntimeException | Error e) {
      abortQuietly(e);
      throw e;
    }
    try {
      return client.commit(gid);
    } catch (PledgeUnavailableException e) {
      LOG.warn(
          "msg gid={} committed locally, the commit call got no answer ({}); check-back decides",
          gid,
          e.getMessage());
      return new Submitted(gid, "prepared");
    }
  }

  private void abortQuietly(Throwable cause) {
    try {
      client.abort(gid);
    } catch (PledgeException e) {
      cause.addSuppressed(e);
    }
  }
}
