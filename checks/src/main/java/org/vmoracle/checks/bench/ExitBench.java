package org.vmoracle.checks.bench;

import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Op;

/**
 * Experiment E5 (seed 002, FreeBSD D32569): a loop of fork, a read of the shared page by the child,
 * and the child's exit, with the early return of {@code pmap_remove} on and off, in the same run.
 *
 * <p>The parent runs the {@code dynamic} image, so each child has seven mappings to take apart at
 * exit, and touches only the shared page. Exit removes the shared page first; page-table pruning
 * then leaves the child's pmap with its top-level page alone, and with the early return on every
 * later removal returns without walking. Each round times both settings back to back for {@code
 * millis} milliseconds each; the figures are medians over the rounds, the ratio taken within each.
 */
public final class ExitBench {

  /** One measurement: loops per second with the early return on and off, and their ratio. */
  public record Figures(double on, double off, double ratio, double earlyReturnsPerExit) {

    /** Adds every figure to {@code r}. */
    public void addTo(Results r) {
      r.add("E5", "early_return_on", "loops_per_s", on);
      r.add("E5", "early_return_off", "loops_per_s", off);
      r.add("E5", "all", "on_over_off", ratio);
      r.add("E5", "early_return_on", "early_returns_per_exit", earlyReturnsPerExit);
    }

    @Override
    public String toString() {
      return String.format(
          "exit (E5): fork+touch+exit %,.0f/s with the early return, %,.0f/s without (%.2fx);"
              + " %.1f early returns an exit",
          on, off, ratio, earlyReturnsPerExit);
    }
  }

  private ExitBench() {}

  /** Runs {@code rounds} rounds of {@code millis} milliseconds a setting, after one warm-up. */
  public static Figures measure(int rounds, long millis) {
    Config on = Config.defaults();
    Config off = on.withPmapEarlyReturn(false);
    double[] rateOn = new double[rounds];
    double[] rateOff = new double[rounds];
    double[] ratio = new double[rounds];
    double perExit = 0;
    for (int r = -1; r < rounds; r++) {
      ImplVm a = boot(on);
      double[] loops = {0};
      double x = rate(a, millis, loops);
      double y = rate(boot(off), millis, null);
      if (r >= 0) {
        rateOn[r] = x;
        rateOff[r] = y;
        ratio[r] = x / y;
        perExit = a.stats().get("pmapEarlyReturns") / loops[0];
      }
    }
    return new Figures(Bench.median(rateOn), Bench.median(rateOff), Bench.median(ratio), perExit);
  }

  private static ImplVm boot(Config c) {
    ImplVm vm = new ImplVm(c);
    Bench.ok(vm.apply(new Op.Spawn(1)));
    Bench.ok(vm.apply(new Op.Exec(1, "dynamic")));
    return vm;
  }

  /** Loops per second of fork, child's read of the shared page, child's exit; counts loops. */
  private static double rate(ImplVm vm, long millis, double[] loops) {
    long n = 0;
    long t0 = System.nanoTime();
    long deadline = t0 + millis * 1_000_000;
    while (System.nanoTime() < deadline) {
      for (int k = 0; k < 64; k++) {
        Bench.ok(vm.apply(new Op.Fork(1, 2)));
        Bench.ok(vm.apply(new Op.Read(2, Boot.SHARED_PAGE)));
        Bench.ok(vm.apply(new Op.Exit(2)));
      }
      n += 64;
    }
    if (loops != null) {
      loops[0] = n;
    }
    return n / ((System.nanoTime() - t0) / 1e9);
  }

  public static void main(String[] args) {
    System.out.println(measure(5, 1000));
  }
}
