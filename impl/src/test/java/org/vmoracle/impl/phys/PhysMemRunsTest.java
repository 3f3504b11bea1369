package org.vmoracle.impl.phys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vmoracle.impl.phys.PhysMem.RUN_FRAMES;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The contiguous runs of {@link PhysMem}: whole 2 MiB runs kept off the stripes, broken by
 * allocate() only when every stripe is empty; and the switch that turns them off.
 */
class PhysMemRunsTest {

  private static PhysMem runsOff(int frames, int stripes) {
    return new PhysMem(
        frames, PhysMem.Options.defaults().withStripes(stripes).withContiguousRuns(false));
  }

  /** Allocates frames one by one until allocate answers -1. */
  private static List<Integer> allocateUntilEmpty(PhysMem mem) {
    List<Integer> got = new ArrayList<>();
    for (int f = mem.allocate(); f >= 0; f = mem.allocate()) {
      got.add(f);
    }
    return got;
  }

  // ---------------------------------------------------------------- Layout

  @Test
  void constructor_runsOn_wholeRunsOnTheRunStackAndTheRestOnTheStripes() {
    // 1,000 frames: run 0 is [0, 512); the 488 frames [512, 1000) go onto the four stripes.
    PhysMem mem = new PhysMem(1000, 4);
    assertEquals(1000, mem.freeFrames(), "runs count as free frames");
    assertEquals(1, mem.freeRuns());
    mem.checkInvariants(f -> false);

    List<Integer> loose = allocateUntilEmptyOfStripes(mem, 488);
    assertTrue(loose.stream().allMatch(f -> f >= RUN_FRAMES && f < 1000), loose.toString());
    assertEquals(488, new HashSet<>(loose).size());
    assertEquals(0, mem.runsBroken(), "488 single frames came off the stripes, home and steals");
    assertEquals(RUN_FRAMES, mem.freeFrames());
    assertEquals(1, mem.freeRuns());
    mem.checkInvariants(loose::contains);
  }

  /** Allocates {@code n} frames, each expected to come off a stripe. */
  private static List<Integer> allocateUntilEmptyOfStripes(PhysMem mem, int n) {
    List<Integer> got = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int f = mem.allocate();
      assertTrue(f >= 0, "allocation " + i);
      got.add(f);
    }
    return got;
  }

  @Test
  void constructor_fewerFramesThanARun_noRunAndEveryFrameOnTheStripes() {
    PhysMem mem = new PhysMem(RUN_FRAMES - 1, 2);
    assertEquals(RUN_FRAMES - 1, mem.freeFrames());
    assertEquals(0, mem.freeRuns());
    assertEquals(RUN_FRAMES - 1, allocateUntilEmpty(mem).size());
    assertEquals(0, mem.runsBroken());
  }

  @Test
  void constructor_runsOff_everyFrameOnTheStripesInTheOldLayout() {
    // Two stripes of 1,024 frames: stripe 0 holds [0, 512), stripe 1 [512, 1024), lowest on top.
    PhysMem mem = runsOff(2 * RUN_FRAMES, 2);
    assertEquals(2 * RUN_FRAMES, mem.freeFrames());
    assertEquals(0, mem.freeRuns());
    int f = mem.allocate();
    assertEquals(RUN_FRAMES * mem.homeStripe(), f, "the lowest frame of the home stripe");
    assertEquals(0, mem.runsBroken());
    mem.checkInvariants(x -> x == f);
  }

  // ---------------------------------------------------------------- Breaking runs

  @Test
  void allocate_everyStripeEmpty_breaksTheLowestRunAndKeepsItsRestAtHome() {
    PhysMem mem = new PhysMem(1000, 4);
    List<Integer> held = allocateUntilEmptyOfStripes(mem, 488);
    long steals = mem.steals();
    assertEquals(0, mem.runsBroken());

    int f = mem.allocate();
    assertEquals(0, f, "the stripes were empty: run 0 is broken and its first frame kept");
    held.add(f);
    assertEquals(1, mem.runsBroken());
    assertEquals(0, mem.freeRuns());
    assertEquals(RUN_FRAMES - 1, mem.freeFrames());
    mem.checkInvariants(held::contains);

    for (int g = 1; g < RUN_FRAMES; g++) {
      assertEquals(g, mem.allocate(), "the rest of the run comes off the home stripe in order");
    }
    assertEquals(steals, mem.steals(), "no steal: the rest went onto our home stripe");
    assertEquals(-1, mem.allocate());
    assertEquals(1, mem.allocationFailures());
    assertEquals(1000, mem.allocations(), "the kept frame counts as an allocation");
    assertEquals(0, mem.frees(), "the pushed rest of the run is no free");
  }
}
