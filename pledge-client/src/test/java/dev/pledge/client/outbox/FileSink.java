package dev.pledge.client.outbox;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.pledge.core.TransactionalMessage;
import dev.pledge.core.spi.MessageSink;
import dev.pledge.core.spi.SinkUnavailableException;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A sink for the relay's crash test: appends each message as a JSON line to a file and forces it to
 * disk before acknowledging (its durable acknowledgement), after a delay, so a relay killed with
 * {@code -9} is caught with acknowledged messages it has not marked yet.
 */
final class FileSink implements MessageSink {
  private static final ObjectMapper JSON = new ObjectMapper();

  private final FileChannel channel;
  private final ScheduledExecutorService delay = Executors.newSingleThreadScheduledExecutor();
  private final Duration ackDelay;

  FileSink(Path file, Duration ackDelay) throws IOException {
    this.channel =
        FileChannel.open(
            file, StandardOpenOption.CREATE, StandardOpenOption.WRITE, StandardOpenOption.APPEND);
    this.ackDelay = ackDelay;
  }

  @Override
  public CompletableFuture<Void> publish(TransactionalMessage message) {
    CompletableFuture<Void> ack = new CompletableFuture<>();
    delay.schedule(
        () -> {
          try {
            ObjectNode line =
                JSON.createObjectNode()
                    .put("id", message.id())
                    .put("topic", message.topic())
                    .put("key", message.key())
                    .put("payload", message.payload());
            synchronized (channel) {
              channel.write(
                  ByteBuffer.wrap(
                      (JSON.writeValueAsString(line) + "\n").getBytes(StandardCharsets.UTF_8)));
              channel.force(false);
            }
            ack.complete(null);
          } catch (IOException e) {
            ack.completeExceptionally(new SinkUnavailableException("write failed: " + e, e));
          }
        },
        ackDelay.toMillis(),
        TimeUnit.MILLISECONDS);
    return ack;
  }

  /** Every message the file holds, in order, duplicates kept. */
  static List<TransactionalMessage> read(Path file) throws IOException {
    List<TransactionalMessage> out = new ArrayList<>();
    if (!Files.exists(file)) {
      return out;
    }
    for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      var node = JSON.readTree(line);
      out.add(
          new TransactionalMessage(
              node.path("id").asText(),
              node.path("topic").asText(),
              node.path("key").isNull() ? null : node.path("key").asText(),
              node.path("payload").asText(),
              Map.of(),
              null));
    }
    return out;
  }

  @Override
  public void close() {
    delay.shutdownNow();
    try {
      channel.close();
    } catch (IOException e) {
      // closing after the test: nothing to do
    }
  }
}
