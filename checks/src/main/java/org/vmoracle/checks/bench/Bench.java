package org.vmoracle.checks.bench;

import java.util.Arrays;
import org.vmoracle.spec.Result;

/** What the benchmarks share: the median they report, and the check of their own operations. */
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
}
