package dev.pledge.server.runtime;

import dev.pledge.core.runtime.Scheduler;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * The server's {@link Scheduler}: tasks run on virtual threads; delayed tasks wait on one platform
 * timer thread, then run on a virtual thread, so a slow task never delays the timer.
 */
final class ThreadScheduler implements Scheduler, AutoCloseable {
  private final ExecutorService workers = Executors.newVirtualThreadPerTaskExecutor();
  private final ScheduledExecutorService timer;

  ThreadScheduler() {
    java.util.concurrent.ScheduledThreadPoolExecutor pool =
        new java.util.concurrent.ScheduledThreadPoolExecutor(
            1, Thread.ofPlatform().daemon().name("pledge-timer").factory());
    pool.setRemoveOnCancelPolicy(true);
    this.timer = pool;
  }

  @Override
  public void execute(Runnable task) {
    try {
      workers.execute(task);
    } catch (RejectedExecutionException e) {
      // Shut down: recovery on the next start finds the work again.
    }
  }

  @Override
  public void schedule(Duration delay, Runnable task) {
    try {
      var unused = timer.schedule(() -> execute(task), delay.toNanos(), TimeUnit.NANOSECONDS);
    } catch (RejectedExecutionException e) {
      // Shut down, as above.
    }
  }

  @Override
  public void close() {
    timer.shutdownNow();
    workers.shutdown();
    try {
      if (!workers.awaitTermination(5, TimeUnit.SECONDS)) {
        workers.shutdownNow();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      workers.shutdownNow();
    }
  }
}
