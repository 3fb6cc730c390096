package dev.pledge.core.runtime;

import java.time.Duration;

/**
 * Where the runtime's work runs: at once on another thread of control, or after a delay. The server
 * runs tasks on virtual threads and a timer thread; the simulator queues them as events of its
 * simulated world, so one seed replays exactly.
 *
 * <p>Contract: neither method runs {@code task} inside the call (the runtime may hold a lock); a
 * task runs at most once; a delayed task never runs early by the scheduler's own time, and may run
 * late. A scheduler that is shut down drops tasks silently: recovery finds their work again in the
 * log. Neither method throws for an operating reason.
 */
public interface Scheduler {
  /** Runs {@code task} soon. */
  void execute(Runnable task);

  /** Runs {@code task} once {@code delay} has passed. */
  void schedule(Duration delay, Runnable task);
}
