package dev.pledge.server.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class TokensTest {
  private static final String OPERATOR = "op-7f3a9c2e5b1d4f60";
  private static final String CLIENT = "cl-0a1b2c3d4e5f6a7b";

  private final Tokens tokens =
      Tokens.parse(
          List.of(
              "# who may talk to the coordinator",
              "",
              "operator " + OPERATOR,
              "  client\t" + CLIENT + "  "),
          "tokens");

  @Test
  void aValidBearerToken_namesItsRoleAndLine_neverTheToken() {
    assertThat(tokens.authenticate("Bearer " + OPERATOR))
        .isEqualTo(new Tokens.Principal(Role.OPERATOR, "operator@3"));
    assertThat(tokens.authenticate("bearer " + CLIENT))
        .isEqualTo(new Tokens.Principal(Role.CLIENT, "client@4"));
  }

  @ParameterizedTest
  @ValueSource(
      strings = {
        "",
        "Bearer",
        "Bearer ",
        "Basic b3AtN2YzYTljMmU1YjFkNGY2MA==",
        OPERATOR,
        "Bearer op-7f3a9c2e5b1d4f6",
        "Bearer op-7f3a9c2e5b1d4f600",
        "Bearer OP-7F3A9C2E5B1D4F60",
        "Token op-7f3a9c2e5b1d4f60"
      })
  void anythingElse_namesNobody(String header) {
    assertThat(tokens.authenticate(header)).isNull();
  }

  @Test
  void noHeader_andAnOverlongOne_nameNobody() {
    assertThat(tokens.authenticate(null)).isNull();
    assertThat(tokens.authenticate("Bearer " + "x".repeat(100_000))).isNull();
  }

  @Test
  void toString_countsTokensByRole_withoutShowingAny() {
    assertThat(tokens).hasToString("Tokens[1 operator, 1 client]");
    assertThat(tokens.size()).isEqualTo(2);
  }

  @Test
  void read_readsAFile(@TempDir Path dir) throws IOException {
    Path file = dir.resolve("tokens");
    Files.writeString(file, "operator " + OPERATOR + "\n");

    assertThat(Tokens.read(file).authenticate("Bearer " + OPERATOR).role())
        .isEqualTo(Role.OPERATOR);
  }

  @Test
  void errors_nameTheLine_neverTheToken() {
    String secret = "s3cret-token-that-must-not-leak";
    assertError(List.of("admin " + secret), "line 1: the role must be client or operator", secret);
    assertError(List.of("operator"), "line 1: expected 'ROLE TOKEN'", secret);
    assertError(List.of("# c", "operator " + secret + " extra"), "line 2: expected", secret);
    assertError(List.of("client short"), "line 1: a token must be 16 to 512 characters", secret);
    assertError(
        List.of("operator " + secret, "client " + secret),
        "line 2: the same token appears on an earlier line",
        secret);
    assertError(List.of("# nothing", ""), "no token", secret);
    assertError(List.of("operator " + secret + "é"), "printable ASCII", secret);
  }

  private static void assertError(List<String> lines, String message, String secret) {
    assertThatThrownBy(() -> Tokens.parse(lines, "tokens.txt"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("tokens.txt")
        .hasMessageContaining(message)
        .message()
        .doesNotContain(secret);
  }
}
