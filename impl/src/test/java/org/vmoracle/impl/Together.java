package org.vmoracle.impl;

import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicReference;

/** Runs the same work on several threads released at once, for the concurrency tests. */
public final class Together {
  private Together() {}

  /** One thread's work; it calls {@code start.await()} when it is ready to race the others. */
  @FunctionalInterface
  public interface Body {
    void run(int id, CyclicBarrier start) throws Exception;
  }

  /**
   * Runs {@code body} on {@code threads} new threads, ids 0 to {@code threads - 1}, waits for all
   * of them, and fails with the first thing any of them threw. A body that fails before it reaches
   * the barrier leaves the others waiting there: callers bound the whole run with a timeout.
   */
  public static void run(int threads, Body body) throws InterruptedException {
    CyclicBarrier start = new CyclicBarrier(threads);
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread[] workers = new Thread[threads];
    for (int t = 0; t < threads; t++) {
      int id = t;
      workers[t] =
          new Thread(
              () -> {
                try {
                  body.run(id, start);
                } catch (Throwable e) {
                  failure.compareAndSet(null, e);
                }
              });
      workers[t].start();
    }
    for (Thread w : workers) {
      w.join();
    }
    if (failure.get() != null) {
      throw new AssertionError("a worker failed", failure.get());
    }
  }
}
