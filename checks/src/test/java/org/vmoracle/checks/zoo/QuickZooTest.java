package org.vmoracle.checks.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.ArrayList;
import java.util.List;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.vmoracle.impl.core.Bug;

/**
 * The quick zoo: every injected bug hunted by its check from fixed seeds, detected without
 * shrinking, within {@link #BUDGET} seconds each. Every check is deterministic for its seed (the
 * races run under controlled scheduling), so a bug that escapes here escapes every time: a change
 * that blinds a check fails the build.
 */
class QuickZooTest {

  /** Seconds a bug may take: far above the zoo's worst (about 5 s for a race), below a hang. */
  static final double BUDGET = 30;

  /** The seeds: two, so that a check that sees its bug only by one seed's luck is found out. */
  static final long[] SEEDS = {1, 2};

  @Test
  void zoo_everyBug_caughtFromFixedSeeds() {
    List<String> missed = new ArrayList<>();
    for (long seed : SEEDS) {
      for (Bug b : Bug.values()) {
        Zoo.Verdict v = Zoo.run(b, BUDGET, seed, null, UnaryOperator.identity());
        if (!v.caught()) {
          missed.add(
              b
                  + " (seed "
                  + seed
                  + ", "
                  + v.check().map(Zoo.Check::describe).orElse("no check")
                  + ")");
        }
      }
    }
    assertEquals(List.of(), missed, "bugs the quick zoo missed");
  }
}
