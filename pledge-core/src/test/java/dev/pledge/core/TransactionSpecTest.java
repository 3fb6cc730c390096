package dev.pledge.core;

import static dev.pledge.core.engine.Specs.gid;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.pledge.core.engine.Specs;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Spec validation: every broken rule at once, each naming its field (a JSON path). */
public class TransactionSpecTest {
  private static final Limits LIMITS = Limits.DEFAULT;

  private static List<String> errors(TransactionSpec spec) {
    return spec.validate(LIMITS).stream().map(FieldError::toString).toList();
  }

  @Test
  public void validSpecs_haveNoErrors() {
    assertThat(errors(Specs.saga(gid(), "s1", "s2"))).isEmpty();
    assertThat(errors(Specs.saga(gid(), Specs.step("a"), Specs.step("b", "a")))).isEmpty();
    assertThat(errors(Specs.twoPc(gid(), "b1"))).isEmpty();
    assertThat(errors(Specs.tcc(gid()))).isEmpty();
    assertThat(errors(Specs.msg(gid(), Specs.message("orders", null, "m")))).isEmpty();
    assertThat(errors(Specs.withTimeout(Specs.tcc(gid()), LIMITS.maxTimeout()))).isEmpty();
  }

  @Test
  public void specValidation_namesEveryBadField() {
    String big = "x".repeat(LIMITS.maxPayloadBytes() + 1);
    String longUrl = "http://localhost/" + "a".repeat(LIMITS.maxUrlLength());
    List<BranchSpec> branches =
        List.of(
            new BranchSpec(
                "s 1",
                Map.of(
                    Op.ACTION, "http://localhost/s1/action",
                    Op.COMPENSATE, "ftp://localhost/s1/compensate",
                    Op.PREPARE, "http://localhost/s1/prepare"),
                big,
                List.of("nope")),
            new BranchSpec("s2", Map.of(Op.ACTION, longUrl), null, List.of("s2")),
            Specs.step("s2"));
    TransactionSpec spec =
        new TransactionSpec(
            gid(),
            Mode.SAGA,
            Duration.ZERO,
            branches,
            List.of(Specs.message("orders", null, "m")),
            "http://localhost/check");
    assertThat(errors(spec))
        .containsExactly(
            "timeoutSeconds: must be between 1 and 86400",
            "branches[0].branchId: must match [A-Za-z0-9._:-]{1,64}",
            "branches[0].compensate: must be an http:// or https:// URL",
            "branches[0].prepare: not an op of a saga branch",
            "branches[0].payload: larger than 1048576 bytes",
            "branches[1].action: longer than 2048 characters",
            "branches[1].compensate: required for a saga branch",
            "branches[2].branchId: duplicate branch id 's2'",
            "branches[0].after: names unknown branch 'nope'",
            "branches[1].after: a step cannot run after itself",
            "messages: only msg transactions carry messages",
            "checkUrl: only msg transactions have a check URL");

    assertThatThrownBy(() ->
            new dev.pledge.core.engine.Engine(LIMITS, RetryPolicy.DEFAULT).start(spec, Specs.T0))
        .isInstanceOfSatisfying(
            InvalidSpecException.class,
            e -> {
              assertThat(e.errors()).hasSize(12);
              assertThat(e.getMessage())
                  .startsWith("[timeoutSeconds: must be between 1 and 86400, ");
            });
  }

  @Test
  public void msgValidation_namesEveryBadField() {
    Map<String, String> manyHeaders = new HashMap<>();
    for (int i = 0; i < LIMITS.maxHeaders() + 1; i++) {
      manyHeaders.put("h" + i, "v");
    }
    List<MessageSpec> messages =
        List.of(
            new MessageSpec(
                "orders/eu",
                "k".repeat(1025),
                "x".repeat(LIMITS.maxPayloadBytes() + 1),
                manyHeaders),
            new MessageSpec(
                "orders", null, null, Map.of("big", "v".repeat(LIMITS.maxHeaderBytes()))));
    TransactionSpec spec =
        new TransactionSpec(
            gid(),
            Mode.MSG,
            Duration.ofDays(2),
            List.of(Specs.step("s1")),
            messages,
            "localhost/check");
    assertThat(errors(spec))
        .containsExactly(
            "timeoutSeconds: must be between 1 and 86400",
            "branches: a msg transaction has messages, not branches",
            "messages[0].topic: must match [A-Za-z0-9._:-]{1,128}",
            "messages[0].key: longer than 1024 bytes",
            "messages[0].payload: larger than 1048576 bytes",
            "messages[0].headers: at most 32 headers",
            "messages[1].headers: larger than 4096 bytes",
            "checkUrl: must be an http:// or https:// URL");

    TransactionSpec empty = new TransactionSpec(gid(), Mode.MSG, null, null, null, null);
    assertThat(errors(empty))
        .containsExactly(
            "messages: a msg transaction needs at least one message", "checkUrl: required for msg");

    List<MessageSpec> tooMany = new ArrayList<>();
    for (int i = 0; i <= LIMITS.maxMessages(); i++) {
      tooMany.add(Specs.message("orders", null, "m" + i));
    }
    assertThat(errors(new TransactionSpec(gid(), Mode.MSG, null, null, tooMany, Specs.CHECK_URL)))
        .containsExactly("messages: at most 64 messages, got 65");
  }

  @Test
  public void tccAnd2pcValidation_namesEveryBadField() {
    TransactionSpec tcc =
        new TransactionSpec(
            gid(), Mode.TCC, Duration.ofSeconds(-1), List.of(Specs.tccBranch("b1")), null, null);
    assertThat(errors(tcc))
        .containsExactly(
            "timeoutSeconds: must be between 1 and 86400",
            "branches: tcc branches are registered one by one after begin");

    assertThat(errors(new TransactionSpec(gid(), Mode.TWO_PC, null, null, null, null)))
        .containsExactly("branches: a 2pc transaction needs at least one branch");

    List<BranchSpec> many = new ArrayList<>();
    for (int i = 0; i <= LIMITS.maxBranches(); i++) {
      many.add(Specs.branch(Mode.TWO_PC, "b" + i));
    }
    assertThat(errors(new TransactionSpec(gid(), Mode.TWO_PC, null, many, null, null)))
        .containsExactly("branches: at most 64 branches, got 65");

    BranchSpec withAfter = Specs.branch(Mode.TWO_PC, "b2", "b1");
    assertThat(
            errors(
                new TransactionSpec(
                    gid(),
                    Mode.TWO_PC,
                    null,
                    List.of(Specs.branch(Mode.TWO_PC, "b1"), withAfter),
                    null,
                    null)))
        .containsExactly("branches[1].after: only saga steps have after");
  }

  @Test
  public void sagaCycle_isRejected() {
    TransactionSpec spec =
        Specs.saga(
            gid(),
            Specs.step("a", "c"),
            Specs.step("b", "a"),
            Specs.step("c", "b"),
            Specs.step("d"));
    assertThat(errors(spec)).containsExactly("branches: the steps' after lists form a cycle");
  }

  @Test
  public void specValidation_namesACycleAlongsideOtherErrors() {
    TransactionSpec spec =
        Specs.withTimeout(
            Specs.saga(gid(), Specs.step("a", "b"), Specs.step("b", "a")), Duration.ZERO);
    assertThat(errors(spec))
        .containsExactly(
            "timeoutSeconds: must be between 1 and 86400",
            "branches: the steps' after lists form a cycle");
  }

  @Test
  public void gid_acceptsItsAlphabetUpTo128Characters() {
    assertThat(Gid.isValid("order_42-retry.1:x")).isTrue();
    assertThat(Gid.isValid("order/42")).isFalse();
    assertThat(Gid.isValid("a".repeat(128))).isTrue();
    assertThat(Gid.isValid("a".repeat(129))).isFalse();
    assertThat(Gid.isValid("")).isFalse();
    assertThat(Gid.isValid(null)).isFalse();
    assertThatThrownBy(() -> Gid.of("a b"))
        .isInstanceOf(IllegalArgumentException.class)
        .hasMessage("gid must match [A-Za-z0-9._:-]{1,128}, got 'a b'");
    assertThat(gid().value()).isEqualTo("gid_acceptsItsAlphabetUpTo128Characters");
  }

  @Test
  public void limitsValidation_namesTheFieldAndValue() {
    assertThatThrownBy(
            () -> new Limits(0, 1, 1, 1, 1, 1, Duration.ofSeconds(1), Duration.ofSeconds(1)))
        .hasMessage("limits maxBranches must be > 0, got 0");
    assertThatThrownBy(
            () -> new Limits(1, 1, 1, 1, 1, 1, Duration.ofSeconds(2), Duration.ofSeconds(1)))
        .hasMessage("limits maxTimeout must be >= defaultTimeout PT2S, got PT1S");
  }
}
