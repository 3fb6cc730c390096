package dev.pledge.core.engine;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * Keeps {@code docs/protocols/<mode>.md} in step with the transition tables. Each page is the
 * hand-written template {@code src/test/resources/protocols/<mode>.md} with its {@code
 * {{generated}}} line replaced by the Mermaid diagram and the table of every row, between {@code
 * <!-- generated: begin -->} and {@code <!-- generated: end -->}. The test fails when a committed
 * page differs from what it would write; run with {@code -Dpledge.updateDocs=true} and it writes
 * the pages instead.
 */
public class ProtocolDocsTest {
  static final String BEGIN = "<!-- generated: begin -->";
  static final String END = "<!-- generated: end -->";
  static final String PLACEHOLDER = "{{generated}}";
  static final String REGENERATE =
      "mvn -B -q test -pl pledge-core -Dtest=ProtocolDocsTest -Dpledge.updateDocs=true";

  @Test
  public void protocolPages_matchTheTransitionTables() throws IOException {
    Path root = repositoryRoot();
    boolean update = Boolean.getBoolean("pledge.updateDocs");
    List<String> stale = new ArrayList<>();
    for (TransitionTable table : Engine.tables()) {
      String code = table.mode().code();
      Path page = root.resolve("docs/protocols/" + code + ".md");
      String expected = render(table, template(code));
      if (update) {
        Files.createDirectories(page.getParent());
        Files.writeString(page, expected, StandardCharsets.UTF_8);
      } else if (!Files.exists(page)) {
        stale.add(root.relativize(page) + " is missing");
      } else if (!Files.readString(page, StandardCharsets.UTF_8).equals(expected)) {
        stale.add(root.relativize(page) + " differs from what its table and template give");
      }
    }
    assertThat(stale)
        .as(
            "protocol pages out of date. Edit the prose in pledge-core/src/test/resources/protocols/,"
                + " never the page itself, then regenerate from the repository root with: "
                + REGENERATE)
        .isEmpty();
  }

  @Test
  public void everyTemplate_hasATitleGuaranteesAFailureTableAndOnePlaceholder() {
    for (TransitionTable table : Engine.tables()) {
      String code = table.mode().code();
      String template = template(code);
      assertThat(template).as(code).startsWith("# " + code + ": ");
      assertThat(template).as(code).contains("\n## Guarantees\n", "\n## Failure table\n");
      assertThat(template).as(code).contains("\n| fault | what happens |\n|---|---|\n");
      assertThat(template.split("\\{\\{generated}}", -1)).as(code).hasSize(2);
      assertThat(template).as(code).doesNotContain(BEGIN, END);
    }
  }

  @Test
  public void generatedSection_listsEveryRowAndTheDiagram() {
    for (TransitionTable table : Engine.tables()) {
      String section = generated(table);
      assertThat(section).startsWith(BEGIN + "\n```mermaid\n" + table.toMermaid() + "```\n");
      assertThat(section).endsWith(END + "\n");
      for (Transition row : table.rows()) {
        assertThat(section).contains(tableRow(row));
      }
    }
  }

  /**
   * The page of {@code table}: the template with its placeholder replaced by the generated section.
   */
  static String render(TransitionTable table, String template) {
    String code = table.mode().code();
    return "<!-- Written by ProtocolDocsTest from pledge-core/src/test/resources/protocols/"
        + code
        + ".md and the "
        + code
        + " transition table. Edit those, not this page, then run: "
        + REGENERATE
        + " -->\n\n"
        + template.replace(PLACEHOLDER + "\n", generated(table));
  }

  /** The diagram and the table of rows, between the markers. */
  static String generated(TransitionTable table) {
    StringBuilder out = new StringBuilder();
    out.append(BEGIN).append('\n');
    out.append("```mermaid\n").append(table.toMermaid()).append("```\n\n");
    out.append("| from | trigger | to | action |\n");
    out.append("|---|---|---|---|\n");
    for (Transition row : table.rows()) {
      out.append(tableRow(row)).append('\n');
    }
    out.append(END).append('\n');
    return out.toString();
  }

  private static String tableRow(Transition row) {
    String from = row.from() == null ? "[start]" : row.from().label();
    return "| `"
        + from
        + "` | `"
        + row.trigger().label()
        + "` | `"
        + row.to().label()
        + "` | "
        + row.action().replace("|", "\\|")
        + " |";
  }

  private static String template(String code) {
    String name = "/protocols/" + code + ".md";
    try (InputStream in = ProtocolDocsTest.class.getResourceAsStream(name)) {
      if (in == null) {
        throw new AssertionError("no template " + name + " on the test class path");
      }
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The repository root: the nearest directory, from the working directory up, that holds {@code
   * pledge-core/pom.xml}. Surefire runs in {@code pledge-core/}, so that is usually its parent.
   */
  static Path repositoryRoot() {
    Path dir = Path.of("").toAbsolutePath();
    while (dir != null) {
      if (Files.exists(dir.resolve("pledge-core/pom.xml"))) {
        return dir;
      }
      dir = dir.getParent();
    }
    throw new AssertionError(
        "no repository root (a folder holding pledge-core/pom.xml) above "
            + Path.of("").toAbsolutePath());
  }
}
