package dev.pledge.bench.load;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;
import java.util.stream.Collectors;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/**
 * The harness end to end on SQLite with tiny settings: a coordinator process, every workload with
 * its B0 baseline, R1 and the parked-heap probe. It checks that the harness works (every row is
 * there with positive numbers, the report and the chart are written), not how fast anything is.
 */
class BenchHarnessTest {

  @Test
  void tinyRunOnSqlite_reportsEveryWorkloadWithPositiveNumbers(@TempDir Path out)
      throws IOException {
    int exit =
        new CommandLine(new BenchCommand())
            .execute(
                "--db", "sqlite",
                "--seconds", "1",
                "--warmup-seconds", "0",
                "--concurrency", "2",
                "--peak-concurrency", "4",
                "--park", "200",
                "--server-jvm-opts",
                    "-Xmx256m -XX:TieredStopAtLevel=1 -Dsun.net.httpserver.nodelay=true",
                "--out", out.toString());

    assertThat(exit).isZero();
    List<String> lines = Files.readAllLines(out.resolve("results.csv"));
    String[] header = lines.get(0).split(",", -1);
    Map<String, Map<String, String>> rows =
        lines.stream()
            .skip(1)
            .map(line -> line.split(",", -1))
            .collect(
                Collectors.toMap(
                    cells -> cells[1] + "/" + cells[2],
                    cells ->
                        Arrays.stream(header)
                            .collect(
                                Collectors.toMap(
                                    Function.identity(),
                                    h -> cells[Arrays.asList(header).indexOf(h)]))));
    assertThat(rows)
        .containsKey("R1/R1")
        .containsKey("heap/pledge")
        .containsKey(BenchRun.peakLabel(4) + "/pledge");
    assertThat(Double.parseDouble(rows.get("R1/R1").get("per_second"))).isPositive();
    for (Workload w : Workload.values()) {
      for (String system : List.of(Row.PLEDGE, Row.B0)) {
        Map<String, String> row = rows.get(w.label + "/" + system);
        assertThat(row).as(w.label + " " + system).isNotNull();
        for (String column : List.of("per_second", "completed", "p50_ms", "p99_ms")) {
          assertThat(Double.parseDouble(row.get(column)))
              .as(w.label + " " + system + " " + column)
              .isPositive();
        }
        assertThat(row.get("errors")).as(w.label + " " + system + " errors").isEqualTo("0");
      }
      Map<String, String> pledge = rows.get(w.label + "/" + Row.PLEDGE);
      assertThat(Double.parseDouble(pledge.get("coordinator_cpu_us"))).isPositive();
      assertThat(Double.parseDouble(pledge.get("log_records_per_commit"))).isPositive();
    }
    String report = Files.readString(out.resolve("report.md"));
    for (Workload w : Workload.values()) {
      assertThat(report).contains("| " + w.label + " |");
    }
    assertThat(report)
        .contains("R1, single-row INSERT + COMMIT")
        .contains("per parked transaction");
    BufferedImage chart = ImageIO.read(out.resolve("chart.png").toFile());
    assertThat(chart).isNotNull();
    assertThat(chart.getWidth()).isPositive();
  }
}
