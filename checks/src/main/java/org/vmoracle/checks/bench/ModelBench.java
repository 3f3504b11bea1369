package org.vmoracle.checks.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.vmoracle.checks.gen.Generator;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;

/**
 * Throughput of the model on a mixed random workload: operations per second of {@link
 * ModelVm#apply} alone. The operations are generated first (the generator learning from a model
 * run), then replayed on fresh models and timed, so generation is not counted. Each round replays
 * the whole sequence from boot; the figure is the median round after warm-up.
 */
public final class ModelBench {

  /** What one measurement found. */
  public record Figures(
      int operations, int rounds, double medianOpsPerSecond, double bestOpsPerSecond) {

    /** Adds every figure to {@code r}. */
    public void addTo(Results r) {
      r.add("model", "mixed", "operations", operations);
      r.add("model", "mixed", "rounds", rounds);
      r.add("model", "mixed", "median_ops_per_s", medianOpsPerSecond);
      r.add("model", "mixed", "best_ops_per_s", bestOpsPerSecond);
    }

    @Override
    public String toString() {
      return String.format(
          "model: %,d ops x %d rounds: median %,.0f ops/s, best %,.0f ops/s",
          operations, rounds, medianOpsPerSecond, bestOpsPerSecond);
    }
  }

  private ModelBench() {}

  /** The mixed workload of {@code n} operations from {@code seed}. */
  public static List<Op> workload(long seed, int n) {
    Generator g = new Generator(seed);
    ModelVm vm = new ModelVm();
    List<Op> ops = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Op op = g.next();
      Result r = vm.apply(op);
      g.observe(op, r);
      ops.add(op);
    }
    return ops;
  }

  /** Replays {@code ops} {@code warmup + rounds} times and reports the timed rounds. */
  public static Figures measure(List<Op> ops, int warmup, int rounds) {
    long sink = 0;
    double[] rates = new double[rounds];
    for (int round = -warmup; round < rounds; round++) {
      ModelVm vm = new ModelVm();
      long t0 = System.nanoTime();
      for (Op op : ops) {
        sink += vm.apply(op).hashCode();
      }
      long t1 = System.nanoTime();
      if (round >= 0) {
        rates[round] = ops.size() / ((t1 - t0) / 1e9);
      }
    }
    if (sink == 42) {
      System.out.print(""); // keeps the results alive
    }
    double[] sorted = rates.clone();
    Arrays.sort(sorted);
    return new Figures(ops.size(), rounds, sorted[rounds / 2], sorted[rounds - 1]);
  }

  public static void main(String[] args) {
    int n = args.length > 0 ? Integer.parseInt(args[0]) : 200_000;
    List<Op> ops = workload(1, n);
    System.out.println(measure(ops, 3, 5));
  }
}
