package org.vmoracle.checks.lin;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.vmoracle.checks.impl.ImplConfigs;
import org.vmoracle.impl.core.Config;

/**
 * The concurrent hunt on the correct implementation, on every reverse map ({@link
 * ImplConfigs#everyKind}): bursts of two threads' operations on a shared address space, each burst
 * checked for linearizability against the model and the invariants checked after it (CONC-1), finds
 * nothing. A short budget, as CI can afford; {@code vmoracle hunt --threads 2 --rmap K} hunts
 * longer.
 */
class ConcurrentHuntTest {

  /** Seconds of bursts on each reverse map. */
  private static final double SECONDS = 3;

  @TestFactory
  Stream<DynamicTest> run_everyKind_everyBurstLinearizable_CONC1() {
    return ImplConfigs.everyKind(Config.defaults().withFrames(ConcurrentHunt.FRAMES)).stream()
        .map(
            k ->
                DynamicTest.dynamicTest(
                    k.name(),
                    () -> {
                      ConcurrentHunt.Report r =
                          ConcurrentHunt.run(
                              k.config(), 2, 1, SECONDS, ConcurrentHunt.BURST, line -> {});
                      assertTrue(r.finding().isEmpty(), () -> r.finding().get().describe());
                      assertTrue(r.histories() > 10, r.histories() + " histories checked");
                    }));
  }
}
