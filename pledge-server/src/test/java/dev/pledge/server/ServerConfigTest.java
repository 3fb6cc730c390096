package dev.pledge.server;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServerConfigTest {
  @TempDir Path dir;

  @Test
  void withNothingGiven_theDefaultsHold() {
    ServerConfig config = ServerConfig.resolve(Map.of(), Map.of(), null);

    assertThat(config)
        .isEqualTo(
            new ServerConfig(
                "127.0.0.1",
                7878,
                Path.of("data"),
                null,
                null,
                List.of(),
                Duration.ofMillis(200),
                100_000,
                20_000,
                512,
                1024));
  }

  @Test
  void aFlagWinsOverTheEnvironment_whichWinsOverTheFile() throws IOException {
    Path file = dir.resolve("pledge.properties");
    Files.writeString(file, "port=1111\nmax-owned=5\npoll-millis=50\nallow=http://a.example/\n");
    Map<String, String> flags = new HashMap<>();
    flags.put("port", "3333");

    ServerConfig config =
        ServerConfig.resolve(flags, Map.of("PLEDGE_PORT", "2222", "PLEDGE_MAX_OWNED", "7"), file);

    assertThat(config.port()).isEqualTo(3333);
    assertThat(config.maxOwned()).isEqualTo(7);
    assertThat(config.pollInterval()).isEqualTo(Duration.ofMillis(50));
    assertThat(config.allow()).containsExactly("http://a.example/");
  }

  @Test
  void aBadValue_isRefusedNamingTheFieldTheValueAndWhereItCameFrom() throws IOException {
    assertThatThrownBy(() -> ServerConfig.resolve(Map.of("port", "70000"), Map.of(), null))
        .hasMessage("port must be in [0, 65535], got '70000' (from --port)");
    assertThatThrownBy(
            () -> ServerConfig.resolve(Map.of(), Map.of("PLEDGE_POLL_MILLIS", "soon"), null))
        .hasMessageContaining("poll-millis must be a whole number, got 'soon'")
        .hasMessageContaining("PLEDGE_POLL_MILLIS");
    Path file = dir.resolve("bad.properties");
    Files.writeString(file, "max-long-polls=4096\n");
    assertThatThrownBy(() -> ServerConfig.resolve(Map.of(), Map.of(), file))
        .hasMessageContaining("max-long-polls must be in [1, max-requests - 1 = 1023], got '4096'")
        .hasMessageContaining(file.toString());
    Files.writeString(file, "prot=1\n");
    assertThatThrownBy(() -> ServerConfig.resolve(Map.of(), Map.of(), file))
        .hasMessageContaining("unknown key 'prot'");
    assertThatThrownBy(() -> ServerConfig.resolve(Map.of("db", "postgres://x"), Map.of(), null))
        .hasMessageContaining("db must be a jdbc:postgresql:");
  }

  @Test
  void thePrintedLine_holdsNoQueryPartOfTheDatabaseUrl() {
    ServerConfig config =
        ServerConfig.resolve(
            Map.of("db", "jdbc:postgresql://127.0.0.1/pledge?password=secret"), Map.of(), null);

    assertThat(config.toString())
        .contains("jdbc:postgresql://127.0.0.1/pledge")
        .doesNotContain("secret");
  }
}
