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
 * {@code long[]} of the same size page by page, so both are bound by the same memory: the seed's
 * point is that zero-fill faults should run close to it. It is measured with one thread and, for
 * context, with two threads each filling a region of its own (how far the memory itself scales).
 *
 * <p>The default region is will-it-scale's: 128 MiB (32,768 pages), larger than the last-level
 * cache, so that fill and faults both stream from memory. With a region near the cache's size the
 * fill runs from cache while the faults, whose page tables and page maps come on top, do not, and
 * the ratio measures the cache's size rather than the fault path; {@code vmoracle bench
 * --zfod-pages N} shows any size.
 */
public final class ZeroFillBench {

  /** One measurement. */
  public record Figures(
      int regionPages,
      double fillPagesPerSecond,
      double fillTwoThreads,
      double oneThread,
      double twoThreads,
      double oneThreadOfFill,
      double scaling,
      double fillScaling) {

    /** Adds every figure to {@code r}. */
    public void addTo(Results r) {
      r.add("E2", "all", "region_pages", regionPages);
      r.add("E2", "fill/1t", "pages_per_s", fillPagesPerSecond);
      r.add("E2", "fill/2t", "pages_per_s", fillTwoThreads);
      r.add("E2", "fill", "two_threads_over_one", fillScaling);
      r.add("E2", "zfod/1t", "faults_per_s", oneThread);
      r.add("E2", "zfod/2t", "faults_per_s", twoThreads);
      r.add("E2", "zfod/1t", "of_fill", oneThreadOfFill);
      r.add("E2", "zfod", "two_threads_over_one", scaling);
    }

    @Override
    public String toString() {
      return String.format(
          "zfod (%,d-page region): fill %,.0f pages/s (2 threads %.2fx); 1 thread %,.0f faults/s"
              + " (%.2f of fill); 2 threads %,.0f faults/s (%.2fx one thread)",
          regionPages,
          fillPagesPerSecond,
          fillScaling,
          oneThread,
          oneThreadOfFill,
          twoThreads,
          scaling);
    }
  }

  private ZeroFillBench() {}

  /** will-it-scale's page_fault1 region: 128 MiB. */
  public static final int DEFAULT_REGION_PAGES = 32_768;

  /** Frames enough for two threads' regions and their page tables, beyond {@code config}'s. */
  public static Config sized(Config config, int regionPages) {
    int need = 2 * regionPages + regionPages / 8 + 1024;
    return config.frames() >= need ? config : config.withFrames(need);
  }

  /**
   * Runs the experiment in {@code rounds} rounds after one warm-up round. A round measures, back to
   * back for {@code millis} milliseconds each, the fill with one thread and with two, and the
   * faults with one thread and with two; each ratio is taken within a round, and every figure
   * reported is the median over the rounds. So a slow drift of the machine's memory speed, which
   * shared cloud hosts show from second to second, moves numerator and denominator together. {@code
   * config} gets frames enough (see {@link #sized}).
   */
  public static Figures measure(Config config, int regionPages, int rounds, long millis)
      throws InterruptedException {
    Config c = sized(config, regionPages);
    long[][] regions = {
      new long[regionPages * Boot.WORDS_PER_PAGE], new long[regionPages * Boot.WORDS_PER_PAGE]
    };
    ImplVm one = boot(c, 1);
    ImplVm two = boot(c, 2);
    double[] fill = new double[rounds];
    double[] fillTwo = new double[rounds];
    double[] faults = new double[rounds];
    double[] faultsTwo = new double[rounds];
    double[] ofFill = new double[rounds];
    double[] scaling = new double[rounds];
    double[] fillScaling = new double[rounds];
    for (int r = -1; r < rounds; r++) { // round -1 warms up
      double f1 = fillRate(regions, 1, millis);
      double f2 = fillRate(regions, 2, millis);
      double z1 = faultRate(one, 1, regionPages, millis);
      double z2 = faultRate(two, 2, regionPages, millis);
      if (r >= 0) {
        fill[r] = f1;
        fillTwo[r] = f2;
        faults[r] = z1;
        faultsTwo[r] = z2;
        ofFill[r] = z1 / f1;
        scaling[r] = z2 / z1;
        fillScaling[r] = f2 / f1;
      }
    }
    return new Figures(
        regionPages,
        Bench.median(fill),
        Bench.median(fillTwo),
        Bench.median(faults),
        Bench.median(faultsTwo),
        Bench.median(ofFill),
        Bench.median(scaling),
        Bench.median(fillScaling));
  }

  /**
   * Pages per second that {@code Arrays.fill} zeroes, {@code threads} threads each over a region of
   * its own ({@code regions[t]}).
   */
  static double fillRate(long[][] regions, int threads, long millis) {
    LongAdder done = new LongAdder();
    CyclicBarrier start = new CyclicBarrier(threads + 1);
    AtomicBoolean stop = new AtomicBoolean();
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      long[] mem = regions[t];
      int pages = mem.length / Boot.WORDS_PER_PAGE;
      Thread w =
          new Thread(
              () -> {
                Bench.await(start);
                while (!stop.get()) {
                  for (int p = 0; p < pages; p++) {
                    Arrays.fill(mem, p * Boot.WORDS_PER_PAGE, (p + 1) * Boot.WORDS_PER_PAGE, 0L);
                  }
                  done.add(pages);
                }
                if (mem[mem.length - 1] != 0) {
                  throw new AssertionError(); // keeps the fills alive
                }
              },
              "fill-" + t);
      workers.add(w);
      w.start();
    }
    return Bench.timed(start, stop, workers, done, millis);
  }

  /** A system with {@code threads} processes, pids 1.., sharing one address space (PROC-4). */
  private static ImplVm boot(Config config, int threads) {
    ImplVm vm = new ImplVm(config);
    Bench.ok(vm.apply(new Op.Spawn(1)));
    for (int t = 1; t < threads; t++) {
      Bench.ok(vm.apply(new Op.Clone(1, t + 1)));
    }
    return vm;
  }

  /**
   * Zero-fill faults per second of {@code threads} threads, pids 1 to {@code threads} of {@code
   * vm}, which share one address space. Every thread unmaps what it mapped before it ends.
   */
  static double faultRate(ImplVm vm, int threads, int regionPages, long millis) {
    LongAdder faults = new LongAdder();
    AtomicBoolean stop = new AtomicBoolean();
    CyclicBarrier start = new CyclicBarrier(threads + 1);
    List<Thread> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      int pid = t + 1;
      Thread w =
          new Thread(
              () -> {
                Bench.await(start);
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
                    Bench.ok(vm.apply(new Op.Write(pid, base + p * Boot.PAGE_SIZE, p + 1)));
                  }
                  faults.add(regionPages);
                  Bench.ok(vm.apply(new Op.Munmap(pid, base, regionPages)));
                }
              },
              "zfod-" + t);
      workers.add(w);
      w.start();
    }
    return Bench.timed(start, stop, workers, faults, millis);
  }

  public static void main(String[] args) throws InterruptedException {
    int pages = args.length > 0 ? Integer.parseInt(args[0]) : DEFAULT_REGION_PAGES;
    System.out.println(measure(Config.defaults(), pages, 5, 1000));
  }
}
