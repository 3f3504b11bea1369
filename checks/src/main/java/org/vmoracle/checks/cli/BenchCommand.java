package org.vmoracle.checks.cli;

import java.io.PrintWriter;
import java.util.List;
import java.util.concurrent.Callable;
import org.vmoracle.checks.bench.ExitBench;
import org.vmoracle.checks.bench.ModelBench;
import org.vmoracle.checks.bench.ZeroFillBench;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

/**
 * {@code vmoracle bench [--quick] [--ops N] [--seed S]}: the benchmarks, each reported as figures
 * taken in one run: the model's throughput on a mixed random workload (target: 300,000 operations
 * per second), and experiment E2 of DESIGN.md, the implementation's zero-fill fault rate for one
 * and two threads next to the rate of {@code Arrays.fill} of 4 KiB pages (E2's targets: one thread
 * at least 0.5 of the fill rate, two threads at least 1.8 times one), and E5, a fork/touch/exit
 * loop with pmap_remove's early return on and off (target 1.05x).
 */
@Command(
    name = "bench",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Runs the benchmarks and prints their figures, one line each, then a summary.",
      "model: operations per second of the reference model on a mixed random workload"
          + " (generation not counted; median of the timed rounds after warm-up).",
      "zfod: zero-fill faults per second of the implementation, one thread and two threads in"
          + " one address space (map a region, store once in each page, unmap; the whole loop"
          + " counted), next to Arrays.fill of as many 4 KiB pages by one thread and by two, in"
          + " the same run.",
      "exit: experiment E5, a loop of fork, the child's read of the shared page and its exit,"
          + " with pmap_remove's early return on and off."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {"0:the benchmarks ran", "2:bad usage"})
final class BenchCommand implements Callable<Integer> {

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
    int n = ops != null ? ops : quick ? 50_000 : 200_000;
    if (n < 1) {
      spec.commandLine().getErr().println("vmoracle bench: --ops must be at least 1");
      return Main.USAGE;
    }
    if (zfodPages < 1 || zfodPages > 1 << 20) {
      spec.commandLine()
          .getErr()
          .println("vmoracle bench: --zfod-pages must be between 1 and 1048576");
      return Main.USAGE;
    }
    out.println("bench: generating " + n + " mixed operations (seed " + seed + ")…");
    List<Op> workload = ModelBench.workload(seed, n);
    ModelBench.Figures f = ModelBench.measure(workload, quick ? 1 : 3, quick ? 3 : 5);
    out.println(f);
    out.println("bench: zero-fill faults (E2)…");
    ZeroFillBench.Figures z;
    try {
      z = ZeroFillBench.measure(Config.defaults(), zfodPages, quick ? 1 : 5, quick ? 500 : 1000);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Main.FOUND;
    }
    out.println(z);
    out.println("bench: fork, touch, exit (E5)…");
    ExitBench.Figures x = ExitBench.measure(quick ? 1 : 5, quick ? 300 : 1000);
    out.println(x);
    out.printf(
        "bench: model %,.0f ops/s (%.1fx its target); zfod 1 thread %.2f of fill (target 0.5),"
            + " 2 threads %.2fx (target 1.8; the fill itself %.2fx); exit early return %.2fx"
            + " (target 1.05)%n",
        f.medianOpsPerSecond(),
        f.medianOpsPerSecond() / MODEL_TARGET,
        z.oneThreadOfFill(),
        z.scaling(),
        z.fillScaling(),
        x.ratio());
    return Main.OK;
  }
}
