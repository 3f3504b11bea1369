package org.vmoracle.impl.phys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import org.junit.jupiter.api.Test;
import org.vmoracle.impl.Together;

/** Frames, the striped free pool and per-frame state of {@link PhysMem}. */
class PhysMemTest {

  @Test
  void constructor_defaultStripes_powerOfTwoAtLeastFourAndTwicePerCpu() {
    PhysMem mem = new PhysMem(8);
    int s = mem.stripes();
    assertEquals(1, Integer.bitCount(s));
    assertTrue(s >= 4);
    assertTrue(s >= 2 * Runtime.getRuntime().availableProcessors());
    assertEquals(8, mem.freeFrames());
    mem.checkInvariants(f -> false);
  }

  @Test
  void constructor_badSizes_throw() {
    assertThrows(IllegalArgumentException.class, () -> new PhysMem(0));
    assertThrows(IllegalArgumentException.class, () -> new PhysMem(PhysMem.MAX_FRAMES + 1));
    assertThrows(IllegalArgumentException.class, () -> new PhysMem(8, 3));
    assertThrows(IllegalArgumentException.class, () -> new PhysMem(8, 0));
  }

  @Test
  void allocate_untilExhausted_returnsMinusOneAndFreeMakesFramesAvailable() {
    PhysMem mem = new PhysMem(10, 4);
    Set<Integer> got = new HashSet<>();
    for (int i = 0; i < 10; i++) {
      int f = mem.allocate();
      assertTrue(f >= 0 && f < 10, "frame " + f);
      assertTrue(got.add(f), "frame " + f + " handed out twice");
    }
    assertEquals(0, mem.freeFrames());
    assertEquals(-1, mem.allocate());
    assertEquals(-1, mem.allocate());
    assertEquals(2, mem.allocationFailures());
    mem.checkInvariants(got::contains);

    mem.free(7);
    mem.free(3);
    assertEquals(2, mem.freeFrames());
    Set<Integer> again = Set.of(mem.allocate(), mem.allocate());
    assertEquals(Set.of(3, 7), again);
    assertEquals(-1, mem.allocate());
    assertEquals(12, mem.allocations());
    assertEquals(2, mem.frees());
    mem.checkInvariants(got::contains);
  }

  @Test
  void allocate_afterFrameWithDataWasFreed_returnsZeroedFrameWithClearedState() {
    PhysMem mem = new PhysMem(1, 1);
    int f = mem.allocate();
    for (int w = 0; w < PhysMem.WORDS_PER_FRAME; w++) {
      mem.store(f, w, 0xdead_0000L + w);
    }
    mem.setFlag(f, PhysMem.DIRTY | PhysMem.REFERENCED | PhysMem.PTPAGE);
    assertTrue(mem.tryBusy(f));
    mem.setOwner(f, "object", 42);
    mem.free(f);

    int g = mem.allocate();
    assertEquals(f, g, "the only frame comes back");
    for (int w = 0; w < PhysMem.WORDS_PER_FRAME; w++) {
      assertEquals(0L, mem.load(g, w), "word " + w + " of a reused frame");
    }
    assertEquals(0, mem.flags(g));
    assertEquals(0, mem.wireCount(g));
    assertNull(mem.owner(g));
    assertEquals(PhysMem.NO_INDEX, mem.ownerIndex(g));
  }

  @Test
  void free_twice_throwsAndChangesNothing() {
    PhysMem mem = new PhysMem(4, 1);
    int f = mem.allocate();
    mem.free(f);
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> mem.free(f));
    assertTrue(e.getMessage().contains("double free of frame " + f), e.getMessage());
    assertEquals(4, mem.freeFrames());
    assertEquals(1, mem.frees());
    mem.checkInvariants(x -> false);
  }

  @Test
  void free_neverAllocatedFrame_throws() {
    PhysMem mem = new PhysMem(4, 1);
    assertThrows(IllegalStateException.class, () -> mem.free(2));
    assertThrows(IndexOutOfBoundsException.class, () -> mem.free(4));
    assertThrows(IndexOutOfBoundsException.class, () -> mem.free(-1));
    mem.checkInvariants(x -> false);
  }

  @Test
  void free_wiredFrame_throwsUntilUnwired() {
    PhysMem mem = new PhysMem(4, 1);
    int f = mem.allocate();
    mem.wire(f);
    mem.wire(f);
    assertEquals(2, mem.wireCount(f));
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> mem.free(f));
    assertTrue(e.getMessage().contains("wired"), e.getMessage());
    assertFalse(mem.testFlag(f, PhysMem.FREE));
    mem.unwire(f);
    mem.unwire(f);
    assertThrows(IllegalStateException.class, () -> mem.unwire(f));
    assertEquals(0, mem.wireCount(f));
    mem.free(f);
    assertThrows(IllegalStateException.class, () -> mem.wire(f));
    mem.checkInvariants(x -> false);
  }

  @Test
  void free_concurrentDoubleFree_exactlyOneThrows() throws Exception {
    PhysMem mem = new PhysMem(2, 2);
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          for (int round = 0; round < 300; round++) {
            int f = mem.allocate();
            CyclicBarrier start = new CyclicBarrier(2);
            AtomicInteger failures = new AtomicInteger();
            Runnable freeIt =
                () -> {
                  try {
                    start.await();
                    mem.free(f);
                  } catch (IllegalStateException e) {
                    failures.incrementAndGet();
                  } catch (Exception e) {
                    throw new AssertionError(e);
                  }
                };
            Thread a = new Thread(freeIt);
            Thread b = new Thread(freeIt);
            a.start();
            b.start();
            a.join();
            b.join();
            assertEquals(1, failures.get(), "round " + round);
            mem.checkInvariants(x -> false);
          }
        });
  }

  @Test
  void allocate_homeStripeEmpty_stealsFromStripeAnotherThreadFreedOnto() throws Exception {
    PhysMem mem = new PhysMem(64, 4);
    List<Integer> all = new ArrayList<>();
    for (int f = mem.allocate(); f >= 0; f = mem.allocate()) {
      all.add(f);
    }
    assertEquals(64, all.size());
    PhysMemOptionsTest.freeFromAnotherHome(mem, all);
    assertEquals(64, mem.freeFrames());

    long stealsBefore = mem.steals();
    int f = mem.allocate();
    assertTrue(f >= 0);
    assertEquals(stealsBefore + 1, mem.steals(), "our home stripe was empty: a steal");
    mem.free(f); // onto our home stripe now
    int g = mem.allocate();
    assertEquals(f, g, "a frame freed onto the home stripe is reused first");
    assertEquals(stealsBefore + 1, mem.steals(), "served from home: no steal");
    mem.checkInvariants(x -> x == g);
  }

  @Test
  void allocate_noFrameWhileAReclaimIsInFlight_waitsForItInsteadOfFailing() throws Exception {
    PhysMem mem = new PhysMem(4, 1);
    List<Integer> all = new ArrayList<>();
    for (int f = mem.allocate(); f >= 0; f = mem.allocate()) {
      all.add(f);
    }
    assertEquals(-1, mem.allocate(), "no reclaim: no frame at once");
    mem.beginReclaim();
    AtomicInteger got = new AtomicInteger(-2);
    Thread t = new Thread(() -> got.set(mem.allocate()));
    t.start();
    t.join(200);
    assertTrue(t.isAlive(), "the allocation waits for the reclaim");
    mem.free(all.get(0));
    mem.endReclaim();
    t.join(10_000);
    assertEquals(all.get(0), got.get(), "and gets the frame it gave back");
    mem.awaitReclaims(); // none in flight: returns at once
    mem.checkInvariants(f -> all.contains(f));
  }

  @Test
  void allocate_homeStripeEmpty_stealsABatchSoTheNextAllocationsStayHome() throws Exception {
    PhysMem mem = new PhysMem(2 * PhysMem.STEAL_BATCH + 8, 4);
    List<Integer> all = new ArrayList<>();
    for (int f = mem.allocate(); f >= 0; f = mem.allocate()) {
      all.add(f);
    }
    PhysMemOptionsTest.freeFromAnotherHome(mem, all);
    long allocationsBefore = mem.allocations();
    long freesBefore = mem.frees();
    long stealsBefore = mem.steals();

    List<Integer> mine = new ArrayList<>();
    for (int k = 0; k < PhysMem.STEAL_BATCH; k++) {
      mine.add(mem.allocate());
    }
    assertEquals(stealsBefore + 1, mem.steals(), "one steal brought a batch home");
    mine.add(mem.allocate());
    assertEquals(stealsBefore + 2, mem.steals(), "the batch used up: the next one steals");
    assertEquals(PhysMem.STEAL_BATCH + 1, mine.stream().distinct().count());
    assertTrue(mine.stream().allMatch(f -> f >= 0));
    assertEquals(allocationsBefore + PhysMem.STEAL_BATCH + 1, mem.allocations(), "moves count not");
    assertEquals(freesBefore, mem.frees(), "moves are no frees");
    assertEquals(all.size() - PhysMem.STEAL_BATCH - 1, mem.freeFrames());
    mem.checkInvariants(mine::contains);
  }

  @Test
  void allocate_abaBetweenReadAndCas_stampMakesTheStaleCasFail() {
    // One stripe holding 0 -> 1 -> 2. Our pop reads top 0 and the link 0 -> 1; before its CAS,
    // "another thread" pops 0 and 1 and pushes 0 back: the stack is 0 -> 2 with the same top.
    // Without the ABA stamp the stale CAS would install 1, which is allocated, as the new top.
    PhysMem mem = new PhysMem(3, 1);
    int[] interloper = {-1, -1};
    boolean[] once = {false};
    int f =
        mem.allocate(
            () -> {
              if (!once[0]) {
                once[0] = true;
                interloper[0] = mem.allocate();
                interloper[1] = mem.allocate();
                mem.free(interloper[0]);
              }
            });
    assertEquals(0, interloper[0]);
    assertEquals(1, interloper[1]);
    assertEquals(0, f, "the retry pops frame 0 again, now linked to 2");
    assertEquals(1, mem.freeFrames());
    mem.checkInvariants(x -> x == 0 || x == 1);
    assertEquals(2, mem.allocate());
    assertEquals(-1, mem.allocate());
  }

  @Test
  void allocateAndFree_fourThreadsUnderExhaustion_everyFrameEndsFreeExactlyOnce() {
    int frames = 24;
    int threads = 4;
    PhysMem mem = new PhysMem(frames);
    AtomicIntegerArray holder = new AtomicIntegerArray(frames); // 0 free, else thread id + 1
    assertTimeoutPreemptively(
        Duration.ofSeconds(120),
        () ->
            Together.run(
                threads,
                (t, start) -> {
                  start.await();
                  churn(mem, holder, t + 1, 20_000, new SplittableRandom(t + 1));
                }));
    assertEquals(frames, mem.freeFrames());
    assertEquals(mem.allocations(), mem.frees());
    mem.checkInvariants(f -> false);
    assertTrue(mem.allocations() > 0);
  }

  /** Allocates batches, checks ownership and zeroing, dirties the frames, frees them. */
  private static void churn(
      PhysMem mem, AtomicIntegerArray holder, int id, int rounds, SplittableRandom rnd) {
    int[] batch = new int[8];
    for (int r = 0; r < rounds; r++) {
      int want = 1 + rnd.nextInt(batch.length);
      int n = 0;
      while (n < want) {
        int f = mem.allocate();
        if (f < 0) {
          break; // exhausted by the others: free what we have and go on
        }
        if (!holder.compareAndSet(f, 0, id)) {
          throw new AssertionError("frame " + f + " handed to " + id + " while another holds it");
        }
        int w = rnd.nextInt(PhysMem.WORDS_PER_FRAME);
        if (mem.load(f, 0) != 0 || mem.load(f, w) != 0 || mem.load(f, 511) != 0) {
          throw new AssertionError("frame " + f + " not zeroed for " + id);
        }
        mem.store(f, 0, id);
        mem.store(f, w, id);
        mem.store(f, 511, id);
        batch[n++] = f;
      }
      for (int i = 0; i < n; i++) {
        int f = batch[i];
        if (mem.load(f, 0) != id) {
          throw new AssertionError("frame " + f + " written by someone else while " + id + "'s");
        }
        holder.set(f, 0);
        mem.free(f);
      }
    }
  }

  @Test
  void tryBusy_heldFrame_secondAttemptFailsUntilUnbusy() {
    PhysMem mem = new PhysMem(2, 1);
    int f = mem.allocate();
    assertFalse(mem.isBusy(f));
    assertTrue(mem.tryBusy(f));
    assertTrue(mem.isBusy(f));
    assertFalse(mem.tryBusy(f));
    mem.setFlag(f, PhysMem.REFERENCED);
    assertTrue(mem.isBusy(f), "setting another flag keeps BUSY");
    mem.unbusy(f);
    assertFalse(mem.isBusy(f));
    assertTrue(mem.testFlag(f, PhysMem.REFERENCED));
    assertThrows(IllegalStateException.class, () -> mem.unbusy(f));
    assertTrue(mem.tryBusy(f));
    mem.free(f); // a busy frame may be freed: free drops BUSY
    assertFalse(mem.isBusy(f));
    mem.checkInvariants(x -> false);
  }

  @Test
  void setFlag_busyOrFree_rejected() {
    PhysMem mem = new PhysMem(2, 1);
    int f = mem.allocate();
    assertThrows(IllegalArgumentException.class, () -> mem.setFlag(f, PhysMem.BUSY));
    assertThrows(IllegalArgumentException.class, () -> mem.setFlag(f, PhysMem.FREE));
    assertThrows(IllegalArgumentException.class, () -> mem.clearFlag(f, PhysMem.FREE));
    assertThrows(IllegalArgumentException.class, () -> mem.setFlag(f, 0));
    mem.setFlag(f, PhysMem.DIRTY | PhysMem.PTPAGE);
    assertTrue(mem.testFlag(f, PhysMem.DIRTY | PhysMem.PTPAGE));
    mem.clearFlag(f, PhysMem.DIRTY);
    assertFalse(mem.testFlag(f, PhysMem.DIRTY));
    assertTrue(mem.testFlag(f, PhysMem.PTPAGE));
    assertEquals(PhysMem.PTPAGE, mem.flags(f));
  }

  @Test
  void setOwner_whileBusy_recordsObjectAndIndex() {
    PhysMem mem = new PhysMem(2, 1);
    int f = mem.allocate();
    Object obj = new Object();
    assertThrows(IllegalStateException.class, () -> mem.setOwner(f, obj, 3));
    assertNull(mem.owner(f));
    assertTrue(mem.tryBusy(f));
    mem.setOwner(f, obj, 3);
    mem.unbusy(f);
    assertSame(obj, mem.owner(f));
    assertEquals(3, mem.ownerIndex(f));
    mem.free(f);
    assertNull(mem.owner(f));
    assertEquals(PhysMem.NO_INDEX, mem.ownerIndex(f));
  }

  @Test
  void copyFrameAndZeroFrame_copyAllWordsAndClearAllWords() {
    PhysMem mem = new PhysMem(3, 1);
    int a = mem.allocate();
    int b = mem.allocate();
    int c = mem.allocate();
    for (int w = 0; w < PhysMem.WORDS_PER_FRAME; w++) {
      mem.store(a, w, w * 3L + 1);
      mem.store(c, w, -1L);
    }
    mem.copyFrame(a, b);
    for (int w = 0; w < PhysMem.WORDS_PER_FRAME; w++) {
      assertEquals(w * 3L + 1, mem.load(b, w));
    }
    mem.zeroFrame(a);
    for (int w = 0; w < PhysMem.WORDS_PER_FRAME; w++) {
      assertEquals(0L, mem.load(a, w));
      assertEquals(-1L, mem.load(c, w), "neighbouring frame untouched");
    }
  }

  @Test
  void pageTableAccessors_casAndGetAndSet_behaveAtomically() {
    PhysMem mem = new PhysMem(1, 1);
    int f = mem.allocate();
    mem.storeRelease(f, 5, 10L);
    assertEquals(10L, mem.loadAcquire(f, 5));
    assertFalse(mem.cas(f, 5, 11L, 12L));
    assertTrue(mem.cas(f, 5, 10L, 12L));
    assertEquals(12L, mem.getAndSet(f, 5, 0L));
    assertEquals(0L, mem.load(f, 5));
  }

  @Test
  void load_wordOutsideFrame_throwsInsteadOfReadingNeighbour() {
    PhysMem mem = new PhysMem(2, 1);
    assertThrows(IndexOutOfBoundsException.class, () -> mem.load(0, PhysMem.WORDS_PER_FRAME));
    assertThrows(IndexOutOfBoundsException.class, () -> mem.store(0, -1, 1L));
    assertThrows(IndexOutOfBoundsException.class, () -> mem.loadAcquire(2, 0));
  }

  @Test
  void checkInvariants_framesInUseDisagreeWithCaller_namesLeakAndUseAfterFree() {
    PhysMem mem = new PhysMem(4, 2);
    int f = mem.allocate();
    IllegalStateException leak =
        assertThrows(IllegalStateException.class, () -> mem.checkInvariants(x -> false));
    assertTrue(leak.getMessage().contains("frame " + f + " is allocated but not in use"));
    IllegalStateException uaf =
        assertThrows(IllegalStateException.class, () -> mem.checkInvariants(x -> true));
    assertTrue(uaf.getMessage().contains("use after free"), uaf.getMessage());
    mem.checkInvariants(x -> x == f);
  }

  @Test
  void checkInvariants_frameLeftInvalid_namesItUntilTheFlagIsCleared() {
    // I6: a fill that set INVALID and never cleared it is caught; clearFlag or free ends it.
    PhysMem mem = new PhysMem(4, 1);
    int f = mem.allocate();
    mem.setFlag(f, PhysMem.INVALID);
    assertTrue(mem.testFlag(f, PhysMem.INVALID));
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> mem.checkInvariants(x -> x == f));
    assertTrue(e.getMessage().contains("frame " + f + " is INVALID"), e.getMessage());
    mem.clearFlag(f, PhysMem.INVALID);
    mem.checkInvariants(x -> x == f);

    mem.setFlag(f, PhysMem.INVALID | PhysMem.DIRTY);
    mem.free(f); // free drops INVALID with every other flag
    assertEquals(PhysMem.FREE, mem.flags(f));
    mem.checkInvariants(x -> false);
  }
}
