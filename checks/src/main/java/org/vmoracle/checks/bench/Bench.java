package org.vmoracle.checks.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.concurrent.atomic.LongAdder;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * What the benchmarks share: the median they report, the check of their own operations, and the few
 * workload steps several experiments take.
 */
final class Bench {
  private Bench() {}

  /**
   * The median of {@code xs}, of rounds or of ratios taken within rounds (the upper one of an even
   * count); {@code xs} is left as it is.
   */
  static double median(double[] xs) {
    double[] sorted = xs.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }

  /** Fails the benchmark when one of its own operations failed: it would measure something else. */
  static void ok(Result r) {
    if (!r.succeeded()) {
      throw new IllegalStateException("benchmark operation failed: " + r);
    }
  }

  /**
   * A program's start-up after {@code exec P image}, as the benchmarks model it: one access to
   * every page of each of the image's file and anonymous segments but the stack (a read of each
   * text page, a write to each data and bss page), and a write to the stack's top page. For {@code
   * dynamic} that includes every page of libc's text and data, the dynamic linker's work; a real
   * program touches fewer text pages, but the same ones every time, so it is the count that is
   * generous, not the pattern. Answers the pages touched.
   */
  static int startUp(ImplVm vm, int pid, String image) {
    return startUpPages(vm, pid, image, true);
  }

  /**
   * Reads one word of each page {@link #startUp} of {@code image} touches, writing none: how a
   * child forked from a started process maps its parent's pages without copying any (what Linux's
   * fork does for it in copy_page_range). Answers the pages read.
   */
  static int readStartUpPages(ImplVm vm, int pid, String image) {
    return startUpPages(vm, pid, image, false);
  }

  private static int startUpPages(ImplVm vm, int pid, String image, boolean writes) {
    Boot.Image img = Boot.image(image).orElseThrow();
    long stack = Boot.STACK_TOP - Boot.STACK_PAGES * Boot.PAGE_SIZE;
    int n = 0;
    for (Boot.Segment s : img.segments()) {
      if (s.start() == stack) {
        long top = Boot.STACK_TOP - Boot.PAGE_SIZE;
        ok(vm.apply(writes ? new Op.Write(pid, top, 1) : new Op.Read(pid, top)));
        n++;
        continue;
      }
      for (long p = 0; p < s.pages(); p++) {
        long va = s.start() + p * Boot.PAGE_SIZE;
        boolean write = writes && s.prot().canWrite();
        ok(vm.apply(write ? new Op.Write(pid, va, p + 1) : new Op.Read(pid, va)));
        n++;
      }
    }
    return n;
  }

  /** Maps {@code pages} anonymous rw pages into {@code pid} and answers the address. */
  static long mapAnon(ImplVm vm, int pid, long pages, Sharing sharing) {
    Result r = vm.apply(new Op.Mmap(pid, 0, pages, Prot.RW, sharing, new Source.Anon(), false));
    ok(r);
    return ((Result.Value) r).value();
  }

  /**
   * Reads (or with {@code write}, writes) one word of each of {@code pages} pages from {@code va}.
   */
  static void touch(ImplVm vm, int pid, long va, long pages, boolean write) {
    for (long p = 0; p < pages; p++) {
      long a = va + p * Boot.PAGE_SIZE;
      ok(vm.apply(write ? new Op.Write(pid, a, p + 1) : new Op.Read(pid, a)));
    }
  }

  /** One step of a timed worker's loop. */
  @FunctionalInterface
  interface Step {
    /** Runs one step of thread {@code t} (0, 1, ...) and answers the units of work it did. */
    long run(int t);
  }

  /**
   * Units of work per second of {@code threads} threads, each running {@code step} over and over
   * for {@code millis} milliseconds, started together; see {@link #timed}. A step that throws stops
   * every thread, and the first exception is thrown here, wrapped: a rate of a loop that failed
   * would measure something else.
   */
  static double rate(int threads, long millis, Step step) {
    LongAdder done = new LongAdder();
    AtomicBoolean stop = new AtomicBoolean();
    AtomicReference<RuntimeException> failed = new AtomicReference<>();
    CyclicBarrier start = new CyclicBarrier(threads + 1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int me = t;
      Thread w =
          new Thread(
              () -> {
                await(start);
                try {
                  while (!stop.get()) {
                    done.add(step.run(me));
                  }
                } catch (RuntimeException e) {
                  failed.compareAndSet(null, e);
                  stop.set(true);
                }
              },
              "bench-" + t);
      workers.add(w);
      w.start();
    }
    double r = timed(start, stop, workers, done, millis);
    if (failed.get() != null) {
      throw new IllegalStateException("a benchmark thread failed", failed.get());
    }
    return r;
  }

  /**
   * Releases {@code workers} at {@code start}, stops them after {@code millis} and answers {@code
   * done} per second. Work a worker had begun when told to stop is counted when it ends, and the
   * time runs until then too.
   */
  static double timed(
      CyclicBarrier start, AtomicBoolean stop, List<Thread> workers, LongAdder done, long millis) {
    await(start);
    long t0 = System.nanoTime();
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    stop.set(true);
    for (Thread w : workers) {
      try {
        w.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    double s = (System.nanoTime() - t0) / 1e9;
    return done.sum() / s;
  }

  static void await(CyclicBarrier b) {
    try {
      b.await();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }
}
