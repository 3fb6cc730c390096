package dev.pledge.bench.load;

import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import javax.imageio.ImageIO;

/**
 * The throughput chart, drawn with Java2D and written by ImageIO (headless, no chart library): one
 * panel per database, a pair of bars per workload (Pledge, and B0 the same work without Pledge),
 * each labelled with its gtx/s and Pledge's with its p99; R1 is in the panel's title, since its
 * unit (single-row commits) is not a global transaction's.
 */
final class Chart {
  private static final int WIDTH = 1200;
  private static final int PANEL = 400;
  private static final int HEADER = 50;
  private static final Color PLEDGE = new Color(0x2f6db5);
  private static final Color B0 = new Color(0xa0a0a0);
  private static final Color GRID = new Color(0xe4e4e4);

  private Chart() {}

  static void write(Path file, String title, List<BenchRun> runs) throws IOException {
    List<BenchRun> panels = new ArrayList<>();
    for (BenchRun run : runs) {
      if (!run.rows.isEmpty()) {
        panels.add(run);
      }
    }
    int height = HEADER + PANEL * Math.max(1, panels.size());
    BufferedImage image = new BufferedImage(WIDTH, height, BufferedImage.TYPE_INT_RGB);
    Graphics2D g = image.createGraphics();
    try {
      g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
      g.setRenderingHint(
          RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
      g.setColor(Color.WHITE);
      g.fillRect(0, 0, WIDTH, height);
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
      g.drawString(title, 20, 30);
      legend(g);
      int top = HEADER;
      for (BenchRun run : panels) {
        panel(g, run, top);
        top += PANEL;
      }
    } finally {
      g.dispose();
    }
    if (!ImageIO.write(image, "png", file.toFile())) {
      throw new IOException("no PNG writer in this JDK");
    }
  }

  private static void legend(Graphics2D g) {
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    int x = WIDTH - 360;
    g.setColor(PLEDGE);
    g.fillRect(x, 18, 14, 14);
    g.setColor(Color.BLACK);
    g.drawString("through Pledge (label: gtx/s, p99)", x + 20, 30);
    g.setColor(B0);
    g.fillRect(x, 36, 14, 14);
    g.setColor(Color.BLACK);
    g.drawString("B0: same work without Pledge", x + 20, 48);
  }

  private static void panel(Graphics2D g, BenchRun run, int top) {
    DbKind db = run.rows.get(0).db();
    Row r1 = Report.find(run.rows, db, Row.R1, Row.R1).orElse(null);
    List<Row> pledge = run.rows.stream().filter(r -> r.system().equals(Row.PLEDGE)).toList();
    int left = 80;
    int right = WIDTH - 30;
    int plotTop = top + 40;
    int plotBottom = top + PANEL - 50;
    double max = 1;
    for (Row r : run.rows) {
      if (!r.system().equals(Row.R1)) {
        max = Math.max(max, r.perSecond());
      }
    }
    max = niceCeiling(max * 1.15);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 15));
    g.drawString(
        db.label
            + (r1 == null
                ? ""
                : String.format(
                    Locale.ROOT, "   (R1: %,.0f single-row commits/s)", r1.perSecond())),
        left,
        top + 25);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    FontMetrics fm = g.getFontMetrics();
    for (int i = 0; i <= 5; i++) {
      double value = max * i / 5;
      int y = plotBottom - (int) Math.round((plotBottom - plotTop) * i / 5.0);
      g.setColor(GRID);
      g.drawLine(left, y, right, y);
      g.setColor(Color.DARK_GRAY);
      String label = String.format(Locale.ROOT, "%,.0f", value);
      g.drawString(label, left - 8 - fm.stringWidth(label), y + 4);
    }
    g.setColor(Color.BLACK);
    g.setStroke(new BasicStroke(1));
    g.drawLine(left, plotBottom, right, plotBottom);
    g.drawLine(left, plotTop, left, plotBottom);
    AffineLabel.vertical(g, "global transactions / s", 20, (plotTop + plotBottom) / 2);
    int groups = Math.max(1, pledge.size());
    double slot = (right - left) / (double) groups;
    double bar = Math.min(60, slot * 0.32);
    for (int i = 0; i < pledge.size(); i++) {
      Row p = pledge.get(i);
      Row b0 = Report.find(run.rows, db, p.workload(), Row.B0).orElse(null);
      double center = left + slot * (i + 0.5);
      bar(
          g,
          center - bar - 2,
          bar,
          p.perSecond(),
          max,
          plotTop,
          plotBottom,
          PLEDGE,
          String.format(Locale.ROOT, "%,.0f", p.perSecond()),
          String.format(Locale.ROOT, "p99 %.0f ms", p.p99Millis()));
      if (b0 != null) {
        bar(
            g,
            center + 2,
            bar,
            b0.perSecond(),
            max,
            plotTop,
            plotBottom,
            B0,
            String.format(Locale.ROOT, "%,.0f", b0.perSecond()),
            null);
      }
      g.setColor(Color.BLACK);
      g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 13));
      FontMetrics bold = g.getFontMetrics();
      g.drawString(
          p.workload(), (int) (center - bold.stringWidth(p.workload()) / 2.0), plotBottom + 20);
      if (b0 != null) {
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
        String ratio = String.format(Locale.ROOT, "%.2f × B0", p.perSecond() / b0.perSecond());
        g.drawString(
            ratio, (int) (center - g.getFontMetrics().stringWidth(ratio) / 2.0), plotBottom + 36);
      }
    }
  }

  private static void bar(
      Graphics2D g,
      double x,
      double width,
      double value,
      double max,
      int plotTop,
      int plotBottom,
      Color color,
      String label,
      String second) {
    int h = (int) Math.round((plotBottom - plotTop) * Math.min(1, value / max));
    g.setColor(color);
    g.fillRect((int) x, plotBottom - h, (int) width, h);
    g.setColor(Color.BLACK);
    g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 11));
    FontMetrics fm = g.getFontMetrics();
    int cx = (int) (x + width / 2);
    g.drawString(label, cx - fm.stringWidth(label) / 2, plotBottom - h - 4);
    if (second != null) {
      g.drawString(second, cx - fm.stringWidth(second) / 2, plotBottom - h - 17);
    }
  }

  /**
   * A round number (1, 1.5, 2, 2.5, 3, 4, 5, 6 or 8 times a power of ten) at least {@code value}.
   */
  static double niceCeiling(double value) {
    double power = Math.pow(10, Math.floor(Math.log10(value)));
    for (double step : new double[] {1, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10}) {
      if (step * power >= value) {
        return step * power;
      }
    }
    return 10 * power;
  }

  /** Text turned a quarter to the left, for the y axis. */
  private static final class AffineLabel {
    static void vertical(Graphics2D g, String text, int x, int centerY) {
      var saved = g.getTransform();
      g.setColor(Color.DARK_GRAY);
      g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
      g.rotate(-Math.PI / 2, x, centerY);
      g.drawString(text, x - g.getFontMetrics().stringWidth(text) / 2, centerY + 4);
      g.setTransform(saved);
    }
  }
}
