package org.vmoracle.checks.bench;

import java.util.Arrays;

/** The median the benchmarks report: of rounds, or of ratios taken within rounds. */
final class Medians {
  private Medians() {}

  /** The median of {@code xs} (the upper one of an even count); {@code xs} is left as it is. */
  static double of(double[] xs) {
    double[] sorted = xs.clone();
    Arrays.sort(sorted);
    return sorted[sorted.length / 2];
  }
}
