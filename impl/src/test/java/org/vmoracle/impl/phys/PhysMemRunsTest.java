package org.vmoracle.impl.phys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vmoracle.impl.phys.PhysMem.RUN_FRAMES;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.junit.jupiter.api.Test;
import org.vmoracle.impl.Together;

/**
 * The contiguous runs of {@link PhysMem}: whole 2 MiB runs kept off the stripes, broken by
 * allocate() only when every stripe is empty, handed out by allocateRun() and found again by
 * reassembly; and the switch that turns them off.
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

  /** Fills, validates and releases each frame of the run at {@code base}, as a run's owner does. */
  private static void finishFill(PhysMem mem, int base) {
    mem.zeroRun(base);
    for (int f = base; f < base + RUN_FRAMES; f++) {
      mem.clearFlag(f, PhysMem.INVALID);
      mem.unbusy(f);
    }
  }

  private static void freeRun(PhysMem mem, int base) {
    for (int f = base; f < base + RUN_FRAMES; f++) {
      mem.free(f);
    }
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
    assertEquals(-1, mem.allocateRun());
    assertEquals(RUN_FRAMES - 1, allocateUntilEmpty(mem).size());
    assertEquals(0, mem.runsBroken());
    assertEquals(0, mem.reassemblies(), "no run can exist: nothing to reassemble");
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

  @Test
  void allocateRun_runsOff_answersMinusOneAndCountsNothing() {
    PhysMem mem = runsOff(2 * RUN_FRAMES, 2);
    assertEquals(-1, mem.allocateRun());
    List<Integer> all = allocateUntilEmpty(mem);
    all.forEach(mem::free);
    assertEquals(-1, mem.allocateRun(), "not even after every frame came back");
    assertEquals(0, mem.runsAllocated());
    assertEquals(0, mem.reassemblies());
    assertEquals(1, mem.allocationFailures(), "only allocate's -1 is a failure");
    assertEquals(2 * RUN_FRAMES, mem.freeFrames());
    mem.checkInvariants(x -> false);
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
    assertEquals(-1, mem.allocateRun(), "no run left and nothing freed");
  }

  // ---------------------------------------------------------------- allocateRun

  @Test
  void allocateRun_freshMemory_answersAlignedRunsOfBusyInvalidFramesUntilNoneIsLeft() {
    PhysMem mem = new PhysMem(3 * RUN_FRAMES + 5, 2);
    Set<Integer> bases = new HashSet<>();
    for (int i = 0; i < 3; i++) {
      int base = mem.allocateRun();
      assertEquals(0, base % RUN_FRAMES, "base " + base);
      assertTrue(bases.add(base));
      for (int f = base; f < base + RUN_FRAMES; f++) {
        assertEquals(PhysMem.BUSY | PhysMem.INVALID, mem.flags(f), "frame " + f);
        assertEquals(0, mem.wireCount(f));
        assertNull(mem.owner(f));
        assertEquals(PhysMem.NO_INDEX, mem.ownerIndex(f));
      }
    }
    assertEquals(Set.of(0, RUN_FRAMES, 2 * RUN_FRAMES), bases);
    assertEquals(-1, mem.allocateRun());
    assertEquals(0, mem.reassemblies(), "nothing was freed: no reassembly");
    assertEquals(3, mem.runsAllocated());
    assertEquals(0, mem.allocationFailures(), "-1 from allocateRun is no failure");
    assertEquals(5, mem.freeFrames(), "the five loose frames are still free");
    assertEquals(0, mem.allocations(), "runs are not counted as allocate's frames");

    // INVALID until the fill is done: the checker catches a fill left unfinished (I6).
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class, () -> mem.checkInvariants(f -> f < 3 * RUN_FRAMES));
    assertTrue(e.getMessage().contains("is INVALID"), e.getMessage());
    bases.forEach(b -> finishFill(mem, b));
    mem.checkInvariants(f -> f < 3 * RUN_FRAMES);
  }

  @Test
  void allocateRun_afterItsFramesWereUsedOneByOneAndFreed_reassemblesItWithTheirContents() {
    // One run, one stripe: allocate breaks it and hands out all 512 frames; each is written and
    // freed; allocateRun finds the run again and hands it out with the words left in it.
    PhysMem mem = new PhysMem(RUN_FRAMES, 1);
    List<Integer> all = allocateUntilEmpty(mem);
    assertEquals(RUN_FRAMES, all.size());
    assertEquals(1, mem.runsBroken());
    assertEquals(-1, mem.allocateRun(), "every frame is in use");
    for (int f : all) {
      mem.store(f, 7, 0xabc0_0000L + f);
    }
    all.forEach(mem::free);
    assertEquals(0, mem.freeRuns(), "freed frames go onto the stripes, not back into a run");

    int base = mem.allocateRun();
    assertEquals(0, base);
    assertEquals(1, mem.reassemblies(), "none while nothing had been freed, then one");
    assertEquals(1, mem.runsReassembled());
    assertEquals(0, mem.freeFrames());
    for (int f = 0; f < RUN_FRAMES; f++) {
      assertEquals(0xabc0_0000L + f, mem.load(f, 7), "word 7 of frame " + f + " is kept");
      assertEquals(PhysMem.BUSY | PhysMem.INVALID, mem.flags(f));
    }
    mem.zeroRun(base);
    for (int f = 0; f < RUN_FRAMES; f++) {
      for (int w = 0; w < PhysMem.WORDS_PER_FRAME; w++) {
        assertEquals(0L, mem.load(f, w), "frame " + f + " word " + w);
      }
    }
    finishFill(mem, base);
    mem.checkInvariants(f -> true);
    freeRun(mem, base);
    assertEquals(RUN_FRAMES, mem.freeFrames());
    assertEquals(mem.allocations() + RUN_FRAMES * mem.runsAllocated(), mem.frees());
    mem.checkInvariants(f -> false);
  }

  @Test
  void allocateRun_runMissingOneFrame_reassemblesNoneAndPutsEveryFrameBack() {
    PhysMem mem = new PhysMem(RUN_FRAMES + 3, 2);
    List<Integer> all = allocateUntilEmpty(mem);
    int kept = 300;
    all.stream().filter(f -> f != kept).forEach(mem::free);
    assertEquals(RUN_FRAMES + 2, mem.freeFrames());

    assertEquals(-1, mem.allocateRun());
    assertEquals(1, mem.reassemblies());
    assertEquals(0, mem.runsReassembled());
    assertEquals(RUN_FRAMES + 2, mem.freeFrames(), "every detached frame went back");
    mem.checkInvariants(f -> f == kept);

    assertEquals(-1, mem.allocateRun());
    assertEquals(1, mem.reassemblies(), "nothing freed since: no second reassembly");

    mem.free(kept);
    assertEquals(0, mem.allocateRun(), "its last frame is back: the run is whole again");
    assertEquals(2, mem.reassemblies());
    assertEquals(3, mem.freeFrames(), "the loose frames stay on the stripes");
    finishFill(mem, 0);
    mem.checkInvariants(f -> f < RUN_FRAMES);
    List<Integer> loose = allocateUntilEmpty(mem);
    assertEquals(Set.of(RUN_FRAMES, RUN_FRAMES + 1, RUN_FRAMES + 2), new HashSet<>(loose));
  }

  @Test
  void allocateRun_runFreedOntoTwoStripes_isFoundWhole() throws Exception {
    PhysMem mem = new PhysMem(RUN_FRAMES, 4);
    List<Integer> all = allocateUntilEmpty(mem);
    List<Integer> half = all.subList(0, RUN_FRAMES / 2);
    List<Integer> other = new ArrayList<>(all.subList(RUN_FRAMES / 2, RUN_FRAMES));
    half.forEach(mem::free); // onto our home stripe
    PhysMemOptionsTest.freeFromAnotherHome(mem, other); // onto another
    mem.checkInvariants(f -> false);
    assertEquals(0, mem.allocateRun());
    assertEquals(1, mem.runsReassembled());
    finishFill(mem, 0);
    mem.checkInvariants(f -> true);
  }

  @Test
  void allocateRun_lastFramesOfARunInAReclaim_waitsForTheReclaimBeforeReassembling()
      throws Exception {
    PhysMem mem = new PhysMem(RUN_FRAMES, 1);
    List<Integer> all = allocateUntilEmpty(mem);
    all.subList(1, RUN_FRAMES).forEach(mem::free);
    mem.beginReclaim(); // frame all.get(0) is on its way back
    AtomicInteger got = new AtomicInteger(-2);
    Thread t = new Thread(() -> got.set(mem.allocateRun()));
    t.start();
    t.join(200);
    assertTrue(t.isAlive(), "allocateRun waits for the reclaim");
    mem.free(all.get(0));
    mem.endReclaim();
    t.join(10_000);
    assertEquals(0, got.get(), "and finds the run the reclaim completed");
    assertEquals(1, mem.reassemblies());
    finishFill(mem, 0);
    mem.checkInvariants(f -> true);
  }

  // ---------------------------------------------------------------- zeroRun

  @Test
  void zeroRun_notARunStart_throws() {
    PhysMem mem = new PhysMem(2 * RUN_FRAMES, 1);
    int base = mem.allocateRun();
    assertThrows(IllegalArgumentException.class, () -> mem.zeroRun(base + 1));
    assertThrows(IndexOutOfBoundsException.class, () -> mem.zeroRun(2 * RUN_FRAMES));
    assertThrows(IndexOutOfBoundsException.class, () -> mem.zeroRun(-RUN_FRAMES));
    PhysMem partial = new PhysMem(RUN_FRAMES + 8, 1);
    assertThrows(IndexOutOfBoundsException.class, () -> partial.zeroRun(RUN_FRAMES));
    finishFill(mem, base);
  }

  @Test
  void zeroRun_clearsEveryWordOfItsFramesAndNoneOfTheNeighbours() {
    PhysMem mem = new PhysMem(3 * RUN_FRAMES, 1);
    int a = mem.allocateRun();
    int b = mem.allocateRun();
    int c = mem.allocateRun();
    for (int base : new int[] {a, b, c}) {
      for (int f = base; f < base + RUN_FRAMES; f++) {
        mem.store(f, 0, 1);
        mem.store(f, PhysMem.WORDS_PER_FRAME - 1, 2);
      }
    }
    mem.zeroRun(b);
    assertEquals(2L, mem.load(b - 1, PhysMem.WORDS_PER_FRAME - 1), "the run below is untouched");
    assertEquals(1L, mem.load(b + RUN_FRAMES, 0), "the run above is untouched");
    for (int f = b; f < b + RUN_FRAMES; f++) {
      assertEquals(0L, mem.load(f, 0));
      assertEquals(0L, mem.load(f, PhysMem.WORDS_PER_FRAME - 1));
    }
    for (int base : new int[] {a, b, c}) {
      finishFill(mem, base);
    }
  }

  // ---------------------------------------------------------------- Concurrency

  @Test
  void allocateAndAllocateRun_threeThreadsBreakingRunsAndOneReassembling_everyFrameAccountedFor() {
    // Three threads allocate and free single frames; with only eight loose frames they soon empty
    // the stripes and break runs. A fourth, once some run is broken, allocates runs the way the
    // implementation will: under the exclusive map lock (here a read-write lock whose read side
    // the single allocations take), zeroing, validating and freeing each run with no lock, as
    // munmap's second half frees. Frees land during reassemblies; the pool must hand every frame
    // to one holder at a time.
    int frames = 3 * RUN_FRAMES + 8;
    PhysMem mem = new PhysMem(frames, 4);
    ReentrantReadWriteLock mapLock = new ReentrantReadWriteLock();
    AtomicIntegerArray holder = new AtomicIntegerArray(frames); // 0 free, else thread id + 1
    AtomicInteger churning = new AtomicInteger(3);
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () ->
            Together.run(
                4,
                (t, start) -> {
                  start.await();
                  if (t == 3) {
                    while (mem.runsBroken() == 0 && churning.get() > 0) {
                      Thread.yield(); // start once the churn has broken a run (or is over)
                    }
                    allocateRuns(mem, mapLock, holder, t + 1, 300);
                  } else {
                    churn(mem, mapLock, holder, t + 1, 4_000, new SplittableRandom(t + 1));
                    churning.decrementAndGet();
                  }
                }));
    assertEquals(frames, mem.freeFrames());
    assertEquals(mem.allocations() + RUN_FRAMES * mem.runsAllocated(), mem.frees());
    mem.checkInvariants(f -> false);
    assertTrue(mem.runsBroken() > 0, "the churn broke runs");

    // Quiescent and all free: every run is on the run stack or found by one last reassembly.
    Set<Integer> bases = new HashSet<>();
    for (int b = mem.allocateRun(); b >= 0; b = mem.allocateRun()) {
      bases.add(b);
    }
    assertEquals(Set.of(0, RUN_FRAMES, 2 * RUN_FRAMES), bases);
    assertEquals(8, mem.freeFrames());
    bases.forEach(b -> finishFill(mem, b));
    mem.checkInvariants(f -> f < 3 * RUN_FRAMES);
  }

  /** Allocates up to 16 frames at a time under the shared lock, checks and frees them. */
  private static void churn(
      PhysMem mem,
      ReentrantReadWriteLock mapLock,
      AtomicIntegerArray holder,
      int id,
      int rounds,
      SplittableRandom rnd) {
    int[] batch = new int[16];
    for (int r = 0; r < rounds; r++) {
      int want = 1 + rnd.nextInt(batch.length);
      int n = 0;
      while (n < want) {
        int f;
        mapLock.readLock().lock();
        try {
          f = mem.allocate();
        } finally {
          mapLock.readLock().unlock();
        }
        if (f < 0) {
          break; // exhausted by the others: free what we have and go on
        }
        claim(holder, f, id);
        if (mem.load(f, 0) != 0 || mem.load(f, 511) != 0) {
          throw new AssertionError("frame " + f + " not zeroed for " + id);
        }
        mem.store(f, 0, id);
        mem.store(f, 511, id);
        batch[n++] = f;
      }
      for (int i = 0; i < n; i++) {
        release(holder, batch[i], id);
        mem.free(batch[i]);
      }
    }
  }

  /** Allocates runs under the exclusive lock, fills, checks and frees them with no lock. */
  private static void allocateRuns(
      PhysMem mem, ReentrantReadWriteLock mapLock, AtomicIntegerArray holder, int id, int rounds) {
    for (int r = 0; r < rounds; r++) {
      int base;
      mapLock.writeLock().lock();
      try {
        base = mem.allocateRun();
      } finally {
        mapLock.writeLock().unlock();
      }
      if (base < 0) {
        Thread.yield(); // no whole run free just now: let the churn free some
        continue;
      }
      if (base % RUN_FRAMES != 0) {
        throw new AssertionError("run at " + base + " is not aligned");
      }
      for (int f = base; f < base + RUN_FRAMES; f++) {
        claim(holder, f, id);
        if (mem.flags(f) != (PhysMem.BUSY | PhysMem.INVALID)) {
          throw new AssertionError("frame " + f + " of a new run has flags " + mem.flags(f));
        }
      }
      mem.zeroRun(base);
      for (int f = base; f < base + RUN_FRAMES; f++) {
        mem.store(f, 0, id);
        mem.clearFlag(f, PhysMem.INVALID);
        mem.unbusy(f);
      }
      for (int f = base; f < base + RUN_FRAMES; f++) {
        release(holder, f, id);
        mem.free(f);
      }
    }
  }

  private static void claim(AtomicIntegerArray holder, int f, int id) {
    if (!holder.compareAndSet(f, 0, id)) {
      throw new AssertionError(
          "frame " + f + " handed to " + id + " while " + holder.get(f) + "'s");
    }
  }

  private static void release(AtomicIntegerArray holder, int f, int id) {
    if (!holder.compareAndSet(f, id, 0)) {
      throw new AssertionError("frame " + f + " of " + id + " taken by " + holder.get(f));
    }
  }
}
