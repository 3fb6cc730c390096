package dev.pledge.bench.load;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.stream.Stream;

/**
 * CPU time of a process and of its threads from Linux's {@code /proc}: user plus system time, in
 * clock ticks converted to nanoseconds. Threads are grouped by what their names say they do, so a
 * report can show the garbage collector and the JIT compiler apart from the coordinator's work.
 */
final class ProcCpu {
  /** The kernel's USER_HZ: 100 on every Linux this runs on (asked of getconf when possible). */
  static final long TICK_NANOS = 1_000_000_000L / clockTicksPerSecond();

  private ProcCpu() {}

  /** Thread groups, by the thread names HotSpot and the coordinator use. */
  enum Group {
    GC,
    JIT,
    LOG_WRITER,
    OTHER
  }

  /** CPU nanoseconds of the whole process (every thread, living or dead). */
  static long processNanos(long pid) {
    return ticks(Path.of("/proc", Long.toString(pid), "stat")) * TICK_NANOS;
  }

  /** CPU nanoseconds by thread group, over the threads alive now. */
  static Map<Group, Long> byGroup(long pid) {
    Map<Group, Long> out = new HashMap<>();
    for (Group group : Group.values()) {
      out.put(group, 0L);
    }
    Path tasks = Path.of("/proc", Long.toString(pid), "task");
    try (Stream<Path> list = Files.list(tasks)) {
      for (Path task : (Iterable<Path>) list::iterator) {
        try {
          String name = Files.readString(task.resolve("comm")).strip();
          long nanos = ticks(task.resolve("stat")) * TICK_NANOS;
          out.merge(group(name), nanos, Long::sum);
        } catch (BenchException e) {
          // the thread ended while we looked: its time is still in the process total
        }
      }
    } catch (IOException e) {
      throw new BenchException("cannot list " + tasks + ": " + e.getMessage(), e);
    }
    return out;
  }

  static Group group(String threadName) {
    if (threadName.startsWith("GC Thread")
        || threadName.startsWith("G1 ")
        || threadName.startsWith("VM Thread")
        || threadName.contains("GC")) {
      return Group.GC;
    }
    if (threadName.contains("CompilerThre")) {
      return Group.JIT;
    }
    String lower = threadName.toLowerCase(java.util.Locale.ROOT);
    if (lower.contains("writer") || lower.contains("group-commit") || lower.contains("log-")) {
      return Group.LOG_WRITER;
    }
    return Group.OTHER;
  }

  private static long ticks(Path stat) {
    String text;
    try {
      text = Files.readString(stat);
    } catch (IOException e) {
      throw new BenchException("cannot read " + stat + ": " + e.getMessage(), e);
    }
    // The command name is in parentheses and may hold spaces: count fields after the last ')'.
    String[] fields = text.substring(text.lastIndexOf(')') + 2).split(" ");
    // fields[0] is field 3 (state); utime is field 14 and stime field 15.
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  private static long clockTicksPerSecond() {
    try {
      Process getconf = new ProcessBuilder("getconf", "CLK_TCK").redirectErrorStream(true).start();
      String out = new String(getconf.getInputStream().readAllBytes()).strip();
      if (getconf.waitFor() == 0) {
        return Long.parseLong(out);
      }
    } catch (IOException | NumberFormatException e) {
      // fall through to the Linux default
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    return 100;
  }
}
