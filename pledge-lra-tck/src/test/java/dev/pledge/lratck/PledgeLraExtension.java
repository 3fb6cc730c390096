package dev.pledge.lratck;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.jboss.arquillian.container.test.spi.client.deployment.ApplicationArchiveProcessor;
import org.jboss.arquillian.core.spi.LoadableExtension;

/**
 * Arquillian's entry point for the harness: starts one real {@code pledge server} process (its own
 * SQLite log in a temporary folder, a free port) for this test JVM, points Narayana's LRA client at
 * its {@code /lra-coordinator} through the system properties Quarkus reads, and registers {@link
 * PledgeArchiveProcessor}. The process is killed when the JVM exits.
 */
public final class PledgeLraExtension implements LoadableExtension {
  private static Process server;

  @Override
  public void register(ExtensionBuilder builder) {
    startServer();
    builder.service(ApplicationArchiveProcessor.class, PledgeArchiveProcessor.class);
  }

  private static synchronized void startServer() {
    if (server != null) {
      return;
    }
    String jar = System.getProperty("pledge.server.jar");
    if (jar == null || !Files.isRegularFile(Path.of(jar))) {
      throw new IllegalStateException(
          "pledge.server.jar must name pledge-server/target/pledge-server.jar (build pledge-server"
              + " first), got "
              + jar);
    }
    try {
      Path data = Files.createTempDirectory("pledge-lra-tck");
      Path log = data.resolve("server.log");
      String java = ProcessHandle.current().info().command().orElse("java");
      server =
          new ProcessBuilder(
                  List.of(
                      java,
                      "--enable-native-access=ALL-UNNAMED",
                      "-jar",
                      jar,
                      "server",
                      "--port",
                      "0",
                      "--data-dir",
                      data.toString(),
                      "--poll-millis",
                      "100"))
              .redirectError(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      Process started = server;
      Runtime.getRuntime().addShutdownHook(new Thread(started::destroyForcibly));
      BufferedReader out =
          new BufferedReader(
              new InputStreamReader(started.getInputStream(), StandardCharsets.UTF_8));
      String line;
      try (ExecutorService reader = Executors.newSingleThreadExecutor()) {
        Future<String> ready =
            reader.submit(() -> {
              String next;
              while ((next = out.readLine()) != null) {
                if (next.contains("listening on")) {
                  return next;
                }
              }
              return null;
            });
        line = ready.get(120, TimeUnit.SECONDS);
      }
      if (line == null) {
        throw new IllegalStateException("pledge server did not start: " + Files.readString(log));
      }
      String coordinator = line.substring(line.indexOf("http://")).strip() + "/lra-coordinator";
      System.setProperty("lra.coordinator.url", coordinator);
      System.setProperty("quarkus.lra.coordinator-url", coordinator);
      System.err.println("pledge-lra-tck: coordinator " + coordinator + ", server log " + log);
    } catch (IOException
        | java.util.concurrent.ExecutionException
        | java.util.concurrent.TimeoutException e) {
      throw new IllegalStateException("could not start pledge server", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while starting pledge server", e);
    }
  }
}
