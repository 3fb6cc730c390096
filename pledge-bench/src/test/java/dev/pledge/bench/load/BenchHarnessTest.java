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
 * its B0 baseline, R1, the parked-heap probe and the recovery probe (a few transactions held in
 * flight, the coordinator killed with -9 and restarted). It checks that the harness works (every
 * row is there with positive numbers, every held transaction ends committed after the restart, the
 * report and the chart are written), not how fast anything is.
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
                "--recovery", "20",
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
    Map<String, String> recovered = rows.get("recovery-all-final-s/pledge");
    assertThat(recovered).as("the recovery row").isNotNull();
    assertThat(recovered.get("completed")).isEqualTo("20");
    assertThat(recovered.get("errors")).as("held transactions not seen committed").isEqualTo("0");
    assertThat(Double.parseDouble(rows.get("recovery-first-accepted-s/pledge").get("per_second")))
        .as("seconds to the first accepted transaction after the restart")
        .isPositive();
    String report = Files.readString(out.resolve("report.md"));
    for (Workload w : Workload.values()) {
      assertThat(report).contains("| " + w.label + " |");
    }
    assertThat(report)
        .contains("R1, single-row INSERT + COMMIT")
        .contains("per parked transaction")
        .contains("killed with -9");
    BufferedImage chart = ImageIO.read(out.resolve("chart.png").toFile());
    assertThat(chart).isNotNull();
    assertThat(chart.getWidth()).isPositive();
  }
}
