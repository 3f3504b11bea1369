package org.vmoracle.checks.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.LongAdder;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * Experiment E2 (seed 000): the zero-fill fault rate of the implementation, for one thread and for
 * two threads faulting in one address space, next to the rate at which {@code Arrays.fill} zeroes 4
 * KiB pages of memory of the same size, measured in the same run.
 *
 * <p>Each thread loops like will-it-scale's {@code page_fault1}: map a private anonymous region of
 * {@code regionPages} pages, store one word in each page (each store is one zero-fill fault), unmap
 * it. The rate counts the whole loop, mapping and unmapping included. The fill baseline zeroes a
 * {@code long[]} of the same size page by page, so both are bound by the same memory bandwidth: the
 * seed's point is that zero-fill faults should run close to it.
 */
public final class ZeroFillBench {

  /** One measurement. */
  public record Figures(
      double fillPagesPerSecond, double oneThread, double twoThreads, long faults) {
    public double oneThreadOfFill() {
      return oneThread / fillPagesPerSecond;
    }

    public double scaling() {
      return twoThreads / oneThread;
    }

    @Override
    public String toString() {
      return String.format(
          "zfod: fill %,.0f pages/s; 1 thread %,.0f faults/s (%.2f of fill); 2 threads %,.0f"
              + " faults/s (%.2fx one thread)",
          fillPagesPerSecond, oneThread, oneThreadOfFill(), twoThreads, scaling());
    }
  }

  private ZeroFillBench() {}

  /**
   * Runs the experiment: each figure is the median of {@code rounds} timed rounds of {@code millis}
   * milliseconds, after one warm-up round of each.
   */
  public static Figures measure(Config config, int regionPages, int rounds, long millis)
      throws InterruptedException {
    double fill = median(rounds, () -> fillRate(regionPages, millis));
    faultRate(config, 1, regionPages, millis); // warm-up
    double one = median(rounds, () -> faultRate(config, 1, regionPages, millis));
    faultRate(config, 2, regionPages, millis);
    double two = median(rounds, () -> faultRate(config, 2, regionPages, millis));
    return new Figures(fill, one, two, 0);
  }

  /** Pages per second that {@code Arrays.fill} zeroes, over a region of {@code pages} pages. */
  static double fillRate(long pages, long millis) {
    long[] mem = new long[(int) (pages * Boot.WORDS_PER_PAGE)];
    long done = 0;
    long deadline = System.nanoTime() + millis * 1_000_000;
    long t0 = System.nanoTime();
    while (System.nanoTime() < deadline) {
      for (int p = 0; p < pages; p++) {
        Arrays.fill(mem, p * Boot.WORDS_PER_PAGE, (p + 1) * Boot.WORDS_PER_PAGE, 0L);
      }
      done += pages;
    }
    double s = (System.nanoTime() - t0) / 1e9;
    if (mem[mem.length - 1] != 0) {
      throw new AssertionError(); // keeps the fills alive
    }
    return done / s;
  }

  /** Zero-fill faults per second of {@code threads} threads in one address space. */
  static double faultRate(Config config, int threads, int regionPages, long millis) {
    ImplVm vm = new ImplVm(config);
    check(vm.apply(new Op.Spawn(1)));
    for (int t = 1; t < threads; t++) {
      check(vm.apply(new Op.Clone(1, t + 1))); // threads share the address space (PROC-4)
    }
    LongAdder faults = new LongAdder();
    AtomicBoolean stop = new AtomicBoolean();
    CyclicBarrier start = new CyclicBarrier(threads + 1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int pid = t + 1;
      Thread w =
          new Thread(
              () -> {
                await(start);
                while (!stop.get()) {
                  Result r =
                      vm.apply(
                          new Op.Mmap(
                              pid,
                              0,
                              regionPages,
                              Prot.RW,
                              Sharing.PRIVATE,
                              new Source.Anon(),
                              false));
                  long base = ((Result.Value) r).value();
                  for (int p = 0; p < regionPages; p++) {
                    check(vm.apply(new Op.Write(pid, base + p * Boot.PAGE_SIZE, p + 1)));
                  }
                  faults.add(regionPages);
                  check(vm.apply(new Op.Munmap(pid, base, regionPages)));
                }
              },
              "zfod-" + t);
      workers.add(w);
      w.start();
    }
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
    return faults.sum() / s;
  }

  private static void check(Result r) {
    if (!r.succeeded()) {
      throw new IllegalStateException("benchmark operation failed: " + r);
    }
  }

  private static void await(CyclicBarrier b) {
    try {
      b.await();
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  private interface Rate {
    double measure() throws InterruptedException;
  }

  private static double median(int rounds, Rate r) throws InterruptedException {
    double[] xs = new double[rounds];
    for (int i = 0; i < rounds; i++) {
      xs[i] = r.measure();
    }
    Arrays.sort(xs);
    return xs[rounds / 2];
  }

  public static void main(String[] args) throws InterruptedException {
    Config c = Config.defaults().withFrames(65_536);
    System.out.println(measure(c, 8192, 3, 2000));
  }
}
