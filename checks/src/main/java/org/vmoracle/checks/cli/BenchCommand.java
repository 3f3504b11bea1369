package org.vmoracle.checks.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import org.vmoracle.checks.bench.ExecBench;
import org.vmoracle.checks.bench.ExitBench;
import org.vmoracle.checks.bench.ModelBench;
import org.vmoracle.checks.bench.Results;
import org.vmoracle.checks.bench.RmapBench;
import org.vmoracle.checks.bench.RmapMemoryBench;
import org.vmoracle.checks.bench.ShareBench;
import org.vmoracle.checks.bench.WireBench;
import org.vmoracle.checks.bench.ZeroFillBench;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code vmoracle bench [--quick] [--only LIST] [--ops N] [--seed S] [--zfod-pages N]}: the
 * benchmarks, each reported as figures taken in one run, printed as lines, then as a table of every
 * figure, which also goes to {@code target/vmoracle/bench/results.csv} ({@link Results}). The
 * experiments, by the names {@code --only} takes:
 *
 * <ul>
 *   <li>{@code model}: the model's throughput on a mixed random workload (target: 300,000
 *       operations per second);
 *   <li>{@code E1}: rmap lock operations and bytes of the three reverse maps on 64 processes
 *       sharing a mapping and on a fork/exec build ({@link RmapBench}; target: pv at least 100
 *       times the backing scan's lock operations on the sharing case);
 *   <li>{@code E2}: the implementation's zero-fill fault rate for one and two threads next to the
 *       rate of {@code Arrays.fill} of 4 KiB pages (targets: one thread at least 0.5 of the fill
 *       rate, two threads at least 1.8 times one);
 *   <li>{@code E3}: the exec rate of {@code dynamic} against {@code static}, one and two threads,
 *       each reverse map ({@link ExecBench}; measured);
 *   <li>{@code E4}: 64 late clients of a 128 MiB shm segment, page-table sharing (seed 001) on and
 *       off ({@link ShareBench}; targets: at most 1 fault per late client per 2 MiB segment, PT
 *       pages at least 30 times fewer);
 *   <li>{@code E5}: a fork/touch/exit loop with pmap_remove's early return on and off (target
 *       1.05x);
 *   <li>{@code E6}: mlock of 1 GiB by the 2 MiB fast path (seed 003) and by the per-page path, next
 *       to {@code Arrays.fill} of the same bytes ({@link WireBench}; target: the fast path at 0.8
 *       of the fill);
 *   <li>{@code E7}: the reverse maps' memory next to the page tables', and pte chains' conversions
 *       in a shell's fork+exec loop with collapse-to-direct on and off ({@link RmapMemoryBench};
 *       measured, and seed 004's case of chains at twice the page tables).
 * </ul>
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Runs the benchmarks, prints their figures, then a table of every figure, which it also"
          + " writes to target/vmoracle/bench/results.csv (experiment,config,metric,value; under"
          + " the working directory), then a summary. Counts are exact; rates are medians of"
          + " timed rounds after a warm-up, and ratios of rates are taken within each round.",
      "model: operations per second of the reference model on a mixed random workload"
          + " (generation not counted).",
      "E1: the reverse maps (backing, pv, ptechain) on 64 processes sharing a 256-page mapping"
          + " and on a make-like build of fork+exec jobs, 8 at once: lock operations over the"
          + " whole workload and bytes at the peak, and each over the backing scan's (target: pv"
          + " 100x the backing scan's lock operations on the sharing case).",
      "E2: zero-fill faults per second of the implementation, one thread and two threads in"
          + " one address space (map a region, store once in each page, unmap; the whole loop"
          + " counted), next to Arrays.fill of as many 4 KiB pages by one thread and by two, in"
          + " the same run.",
      "E3: execs per second of a loop of fork, exec of static or dynamic, the child's start-up"
          + " and exit, one and two threads (a shell each), on each reverse map; dynamic over"
          + " static, each over the backing scan, two threads over one.",
      "E4: one client touches a 128 MiB shm segment, then 64 late clients attach it and read"
          + " every page, segment page-table sharing on and off: faults per late client per 2 MiB"
          + " segment, and PT pages off over on (16 MiB and 8 clients with --quick).",
      "E5: a loop of fork, the child's read of the shared page and its exit, with"
          + " pmap_remove's early return on and off.",
      "E6: mlock of 1 GiB of private anonymous memory by the 2 MiB fast path and by the"
          + " per-page path, next to Arrays.fill of the same bytes: the fast path over the fill"
          + " (target 0.8), its speedup, and the share of the per-page path's time that is"
          + " zeroing (64 MiB with --quick).",
      "E7: each reverse map's bytes next to the page tables' on E1's sharing case and on a"
          + " region whose every page two PTEs map (seed 004's pte chains at twice the page"
          + " tables); pte chains' conversions a loop of a shell's fork+exec pattern with"
          + " collapse-to-direct on and off."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:the benchmarks ran",
      "2:bad usage (or the results file could not be written)"
    })
final class BenchCommand implements Callable<Integer> {

  /** The experiments {@code --only} names, in the order they run. */
  static final List<String> EXPERIMENTS =
      List.of("model", "E1", "E2", "E3", "E4", "E5", "E6", "E7");

  /**
   * The model's throughput target, in operations per second: a fast enough oracle to replay a real
   * program's million-operation trace in seconds.
   */
  static final double MODEL_TARGET = 300_000;

  @Spec CommandSpec spec;

  @Option(
      names = "--quick",
      description = "Fewer operations and rounds: a figure in seconds, with a wider error.")
  boolean quick;

  @Option(
      names = "--only",
      paramLabel = "LIST",
      description =
          "Runs only these experiments, comma-separated, in any case: model, E1, E2, E3, E4, E5, E6,"
              + " E7"
              + " (default: all).")
  String only;

  @Option(
      names = "--ops",
      paramLabel = "N",
      description = "Operations in the model workload (default: 200000, or 50000 with --quick).")
  Integer ops;

  @Option(
      names = "--seed",
      paramLabel = "S",
      defaultValue = "1",
      description = "Seed of the workload generator (default: ${DEFAULT-VALUE}).")
  long seed;

  @Option(
      names = "--zfod-pages",
      paramLabel = "N",
      description =
          "Pages in each zero-fill region (default: 32768, will-it-scale's 128 MiB, beyond the"
              + " last-level cache).")
  int zfodPages = ZeroFillBench.DEFAULT_REGION_PAGES;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    int n = ops != null ? ops : quick ? 50_000 : 200_000;
    if (n < 1) {
      err.println("vmoracle bench: --ops must be at least 1");
      return Main.USAGE;
    }
    if (zfodPages < 1 || zfodPages > 1 << 20) {
      err.println("vmoracle bench: --zfod-pages must be between 1 and 1048576");
      return Main.USAGE;
    }
    Set<String> run;
    try {
      run = experiments(only);
    } catch (IllegalArgumentException e) {
      err.println("vmoracle bench: " + e.getMessage());
      return Main.USAGE;
    }
    Results results = new Results();
    List<String> summary = new ArrayList<>();
    if (run.contains("model")) {
      out.println("bench: generating " + n + " mixed operations (seed " + seed + ")…");
      List<Op> workload = ModelBench.workload(seed, n);
      ModelBench.Figures f = ModelBench.measure(workload, quick ? 1 : 3, quick ? 3 : 5);
      out.println(f);
      f.addTo(results);
      summary.add(
          String.format(
              "model %,.0f ops/s (%.1fx its target)",
              f.medianOpsPerSecond(), f.medianOpsPerSecond() / MODEL_TARGET));
    }
    if (run.contains("E1")) {
      out.println("bench: reverse-map lock operations and bytes (E1)…");
      RmapBench.Figures e1 =
          RmapBench.measure(
              RmapBench.SHARERS, RmapBench.SHARED_PAGES, quick ? 64 : RmapBench.BUILD_JOBS);
      out.println(e1);
      e1.addTo(results);
      summary.add(
          String.format(
              "E1 pv/backing lock ops %.1fx (target %.0f)", e1.shareLockRatio(), RmapBench.TARGET));
    }
    if (run.contains("E2")) {
      out.println("bench: zero-fill faults (E2)…");
      ZeroFillBench.Figures z;
      try {
        z = ZeroFillBench.measure(Config.defaults(), zfodPages, quick ? 1 : 5, quick ? 500 : 1000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return Main.FOUND;
      }
      out.println(z);
      z.addTo(results);
      summary.add(
          String.format(
              "zfod 1 thread %.2f of fill (target 0.5), 2 threads %.2fx (target 1.8; the fill"
                  + " itself %.2fx)",
              z.oneThreadOfFill(), z.scaling(), z.fillScaling()));
    }
    if (run.contains("E3")) {
      out.println("bench: exec rates (E3)…");
      ExecBench.Figures e3 = ExecBench.measure(quick ? 1 : 5, quick ? 100 : 300);
      out.println(e3);
      e3.addTo(results);
      summary.add(
          String.format(
              "E3 dynamic/static %.2f (backing, 1 thread)",
              e3.overStatic()[Config.Rmap.BACKING.ordinal()][0]));
    }
    if (run.contains("E4")) {
      out.println("bench: late clients of a shared segment, page-table sharing on and off (E4)…");
      ShareBench.Figures e4 =
          ShareBench.measure(
              quick ? 4_096 : ShareBench.DEFAULT_PAGES, quick ? 8 : ShareBench.DEFAULT_CLIENTS);
      out.println(e4);
      e4.addTo(results);
      summary.add(
          String.format(
              "E4 %.2f faults per late client per segment (target <= 1), PT pages %.0fx fewer"
                  + " (target >= 30)",
              e4.faultsPerClientSegmentOn(), e4.ptPagesRatio()));
    }
    if (run.contains("E5")) {
      out.println("bench: fork, touch, exit (E5)…");
      ExitBench.Figures x = ExitBench.measure(quick ? 1 : 5, quick ? 300 : 1000);
      out.println(x);
      x.addTo(results);
      summary.add(String.format("exit early return %.2fx (target 1.05)", x.ratio()));
    }
    if (run.contains("E6")) {
      out.println("bench: wiring by the 2 MiB fast path and the per-page path (E6)…");
      WireBench.Figures w =
          WireBench.measure(quick ? 16_384 : WireBench.DEFAULT_PAGES, quick ? 1 : 3);
      out.println(w);
      w.addTo(results);
      summary.add(
          String.format(
              "E6 fast mlock %.2f of the fill (target 0.8), %.1fx the per-page path",
              w.fastOfFill(), w.speedup()));
    }
    if (run.contains("E7")) {
      out.println("bench: reverse-map memory and pte-chain churn (E7)…");
      RmapMemoryBench.Figures e7 =
          RmapMemoryBench.measure(
              RmapMemoryBench.DENSE_PAGES, quick ? 50 : RmapMemoryBench.SHELL_LOOPS);
      out.println(e7);
      e7.addTo(results);
      summary.add(
          String.format(
              "E7 chains %.2fx the page tables on dense2 (seed: 2x), collapse-to-direct %.0f"
                  + " conversions a loop to direct (off: %.0f)",
              e7.denseChainRatio(), e7.on().toDirectPerLoop(), e7.off().toDirectPerLoop()));
    }
    out.println(results.table());
    try {
      results.write(Results.DEFAULT_FILE);
    } catch (IOException e) {
      err.println("vmoracle bench: cannot write " + Results.DEFAULT_FILE + ": " + e);
      return Main.USAGE;
    }
    out.println(
        "bench: "
            + String.join("; ", summary)
            + "; "
            + results.rows().size()
            + " figures in "
            + Results.DEFAULT_FILE);
    return Main.OK;
  }

  /**
   * The experiments {@code list} names (null: all), as {@link #EXPERIMENTS} spells them.
   *
   * @throws IllegalArgumentException naming the word that is no experiment, and the experiments
   */
  static Set<String> experiments(String list) {
    if (list == null) {
      return new LinkedHashSet<>(EXPERIMENTS);
    }
    Set<String> chosen = new LinkedHashSet<>();
    for (String word : list.split(",", -1)) {
      String found = null;
      for (String x : EXPERIMENTS) {
        if (x.equalsIgnoreCase(word.trim())) {
          found = x;
        }
      }
      if (found == null) {
        throw new IllegalArgumentException(
            "unknown experiment '"
                + word.trim()
                + "' in --only: expected "
                + String.join(", ", EXPERIMENTS)
                + ", comma-separated");
      }
      chosen.add(found);
    }
    return chosen;
  }
}
