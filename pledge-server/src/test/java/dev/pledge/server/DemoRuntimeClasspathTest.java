package dev.pledge.server;

import static org.assertj.core.api.Assertions.assertThat;

import dev.pledge.testkit.process.ChildProcess;
import java.io.File;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * {@code pledge demo --broker X} on the classpath {@code bin/pledge} gives it: this module's
 * classes and its runtime dependencies only (what {@code target/lib/} holds, written by the build
 * to {@code target/runtime-classpath.txt}), not the test classpath. A broker client declared at
 * test scope here would win over the shop's compile-scope one and be missing at run time: the demo
 * then dies with {@code NoClassDefFoundError} and this test fails. Each run must end CONSISTENT,
 * with the coordinator killed with -9 on the way.
 */
class DemoRuntimeClasspathTest {
  @TempDir Path dataDir;

  @ParameterizedTest
  @ValueSource(strings = {"rabbitmq", "nats", "kafka"})
  void demoWithABroker_onTheRuntimeClasspath_endsConsistent(String broker) throws Exception {
    String classpath = runtimeClasspath();
    for (String client : List.of("amqp-client", "jnats", "kafka-clients")) {
      assertThat(classpath).as("the runtime classpath names %s", client).contains(client);
    }
    try (ChildProcess demo =
        ChildProcess.startJava(
            "demo-" + broker,
            classpath,
            List.of("--enable-native-access=ALL-UNNAMED"),
            Main.class.getName(),
            List.of(
                "demo",
                "--broker",
                broker,
                "--orders",
                "30",
                "--clients",
                "4",
                "--seed",
                "5",
                "--data-dir",
                dataDir.resolve("run").toString()),
            dataDir.resolve("demo.log"))) {
      int exit = demo.waitFor(Duration.ofMinutes(6));
      String out = String.join("\n", demo.lines());
      assertThat(demo.logTail()).doesNotContain("NoClassDefFoundError");
      assertThat(exit).as("exit code; log:%n%s", demo.logTail()).isZero();
      assertThat(out)
          .contains("order-placed over " + broker)
          .contains("CONSISTENT: every order committed or aborted everywhere")
          .containsPattern("coordinator pid \\d+ killed with SIGKILL")
          .doesNotContain("INCONSISTENT");
    }
  }

  /** This module's classes, then every runtime dependency, as the packaged jar's lib/ has them. */
  private static String runtimeClasspath() throws URISyntaxException, java.io.IOException {
    Path classes = Path.of(Main.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    Path file = classes.getParent().resolve("runtime-classpath.txt");
    assertThat(file).as("written by the build (dependency:build-classpath)").exists();
    String dependencies = Files.readString(file, StandardCharsets.UTF_8).strip();
    return classes + File.pathSeparator + dependencies;
  }
}
