package org.vmoracle.impl.phys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vmoracle.impl.phys.PhysMemOptionsTest.allocateAll;
import static org.vmoracle.impl.phys.PhysMemOptionsTest.freeFromAnotherHome;

import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicIntegerArray;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.impl.Together;

/**
 * The pool, free and busy behaviour of {@link PhysMemTest}, under each of the four combinations of
 * {@link PhysMem.Options}' two switches: a switch turned off takes a slower path and changes no
 * result, no counter but the steal counts, and no invariant.
 */
class PhysMemAllOptionsTest {

  static Stream<Arguments> switches() {
    return Stream.of(
        Arguments.of(true, true),
        Arguments.of(true, false),
        Arguments.of(false, true),
        Arguments.of(false, false));
  }

  private static PhysMem mem(int frames, int stripes, boolean batch, boolean busy) {
    return new PhysMem(frames, new PhysMem.Options(stripes, batch, busy, true));
  }

  @ParameterizedTest(name = "batchStealing={0} busyOnAllocate={1}")
  @MethodSource("switches")
  void allocate_untilExhausted_returnsMinusOneAndFreeMakesFramesAvailable(
      boolean batch, boolean busy) {
    PhysMem mem = mem(10, 4, batch, busy);
    Set<Integer> got = new HashSet<>();
    for (int i = 0; i < 10; i++) {
      int f = mem.allocate();
      assertTrue(f >= 0 && f < 10, "frame " + f);
      assertTrue(got.add(f), "frame " + f + " handed out twice");
    }
    assertEquals(0, mem.freeFrames());
    assertEquals(-1, mem.allocate());
    assertEquals(-1, mem.allocateBusy());
    assertEquals(2, mem.allocationFailures());
    mem.checkInvariants(got::contains);

    mem.free(7);
    mem.free(3);
    assertEquals(2, mem.freeFrames());
    Set<Integer> again = Set.of(mem.allocate(), mem.allocateBusy());
    assertEquals(Set.of(3, 7), again);
    assertEquals(-1, mem.allocate());
    assertEquals(12, mem.allocations());
    assertEquals(2, mem.frees());
    mem.checkInvariants(got::contains);
  }

  @ParameterizedTest(name = "batchStealing={0} busyOnAllocate={1}")
  @MethodSource("switches")
  void allocateBusy_afterFramesWithDataWereFreed_returnsBusyZeroedFramesWithNothingElseSet(
      boolean batch, boolean busy) {
    PhysMem mem = mem(8, 4, batch, busy);
    List<Integer> all = allocateAll(mem);
    for (int f : all) {
      for (int w = 0; w < PhysMem.WORDS_PER_FRAME; w++) {
        mem.store(f, w, 0xdead_0000L + w);
      }
      mem.setFlag(f, PhysMem.DIRTY | PhysMem.REFERENCED | PhysMem.PTPAGE);
      assertTrue(mem.tryBusy(f));
      mem.setOwner(f, "object", f);
      mem.free(f);
    }
    Set<Integer> got = new HashSet<>();
    for (int f = mem.allocateBusy(); f >= 0; f = mem.allocateBusy()) {
      assertTrue(got.add(f), "frame " + f + " handed out twice");
      assertEquals(PhysMem.BUSY, mem.flags(f), "BUSY and nothing else on frame " + f);
      assertFalse(mem.tryBusy(f), "the caller holds frame " + f);
      assertEquals(0, mem.wireCount(f));
      assertNull(mem.owner(f));
      assertEquals(PhysMem.NO_INDEX, mem.ownerIndex(f));
      for (int w = 0; w < PhysMem.WORDS_PER_FRAME; w++) {
        assertEquals(0L, mem.load(f, w), "word " + w + " of reused frame " + f);
      }
    }
    assertEquals(Set.copyOf(all), got);
    got.forEach(mem::unbusy);
    mem.checkInvariants(got::contains);
  }

  @ParameterizedTest(name = "batchStealing={0} busyOnAllocate={1}")
  @MethodSource("switches")
  void free_twiceOrWired_throwsAndChangesNothing(boolean batch, boolean busy) {
    PhysMem mem = mem(4, 2, batch, busy);
    int f = mem.allocateBusy();
    mem.free(f); // a busy frame may be freed: free drops BUSY
    IllegalStateException e = assertThrows(IllegalStateException.class, () -> mem.free(f));
    assertTrue(e.getMessage().contains("double free of frame " + f), e.getMessage());
    assertEquals(4, mem.freeFrames());
    assertEquals(1, mem.frees());
    int g = mem.allocate();
    mem.wire(g);
    IllegalStateException w = assertThrows(IllegalStateException.class, () -> mem.free(g));
    assertTrue(w.getMessage().contains("wired"), w.getMessage());
    mem.unwire(g);
    mem.free(g);
    mem.checkInvariants(x -> false);
  }

  @ParameterizedTest(name = "batchStealing={0} busyOnAllocate={1}")
  @MethodSource("switches")
  void free_concurrentDoubleFree_exactlyOneThrows(boolean batch, boolean busy) {
    PhysMem mem = mem(2, 2, batch, busy);
    assertTimeoutPreemptively(
        Duration.ofSeconds(60),
        () -> {
          for (int round = 0; round < 100; round++) {
            int f = round % 2 == 0 ? mem.allocate() : mem.allocateBusy();
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

  @ParameterizedTest(name = "batchStealing={0} busyOnAllocate={1}")
  @MethodSource("switches")
  void allocate_homeStripeEmpty_stealsFromStripeAnotherThreadFreedOnto(boolean batch, boolean busy)
      throws Exception {
    PhysMem mem = mem(64, 4, batch, busy);
    List<Integer> all = allocateAll(mem);
    freeFromAnotherHome(mem, all);
    assertEquals(64, mem.freeFrames());

    long stealsBefore = mem.steals();
    int f = mem.allocateBusy();
    assertTrue(f >= 0);
    assertEquals(stealsBefore + 1, mem.steals(), "our home stripe was empty: a steal");
    mem.free(f); // onto our home stripe now, on top of whatever a batch brought there
    int g = mem.allocate();
    assertEquals(f, g, "a frame freed onto the home stripe is reused first");
    assertEquals(stealsBefore + 1, mem.steals(), "served from home: no steal");
    mem.checkInvariants(x -> x == g);
  }

  @ParameterizedTest(name = "batchStealing={0} busyOnAllocate={1}")
  @MethodSource("switches")
  void allocateBusy_noFrameWhileAReclaimIsInFlight_waitsForItInsteadOfFailing(
      boolean batch, boolean busy) throws Exception {
    PhysMem mem = mem(4, 2, batch, busy);
    List<Integer> all = allocateAll(mem);
    assertEquals(-1, mem.allocateBusy(), "no reclaim: no frame at once");
    mem.beginReclaim();
    AtomicInteger got = new AtomicInteger(-2);
    Thread t = new Thread(() -> got.set(mem.allocateBusy()));
    t.start();
    t.join(200);
    assertTrue(t.isAlive(), "the allocation waits for the reclaim");
    mem.free(all.get(0));
    mem.endReclaim();
    t.join(10_000);
    assertEquals(all.get(0), got.get(), "and gets the frame it gave back");
    assertTrue(mem.isBusy(got.get()));
    mem.awaitReclaims(); // none in flight: returns at once
    mem.checkInvariants(f -> all.contains(f));
  }

  @ParameterizedTest(name = "batchStealing={0} busyOnAllocate={1}")
  @MethodSource("switches")
  void allocate_abaDuringSteal_stampMakesTheStaleCasFail(boolean batch, boolean busy)
      throws Exception {
    // Two stripes. Our home is empty; the other holds 2 -> 1 -> 0, pushed there by a helper thread
    // whose home it is. Our steal reads top 2 and the links below; before its CAS the helper pops
    // 2 and 1 and pushes 2 back: the victim is 2 -> 0 with the same top. Without the stamp the
    // stale CAS would install 1 (batch off) or the empty stack after a batch that holds the
    // allocated 1 (batch on).
    PhysMem mem = mem(3, 2, batch, busy);
    allocateAll(mem);
    ExecutorService helper = helperWithAnotherHome(mem);
    try {
      helper.submit(() -> List.of(0, 1, 2).forEach(mem::free)).get();
      long movedBefore = mem.framesMoved(); // allocateAll may have stolen a batch already
      int[] interloper = {-1, -1};
      boolean[] once = {false};
      int f =
          mem.allocate(
              () -> {
                if (!once[0]) {
                  once[0] = true;
                  try {
                    helper
                        .submit(
                            () -> {
                              interloper[0] = mem.allocate();
                              interloper[1] = mem.allocate();
                              mem.free(interloper[0]);
                            })
                        .get();
                  } catch (Exception e) {
                    throw new AssertionError(e);
                  }
                }
              });
      assertEquals(2, interloper[0]);
      assertEquals(1, interloper[1]);
      assertEquals(2, f, "the retry steals frame 2 again, now linked to 0");
      assertEquals(1, mem.freeFrames());
      assertEquals(
          movedBefore + (batch ? 1 : 0),
          mem.framesMoved(),
          "a batch brings 0 home, a one-frame steal does not");
      mem.checkInvariants(x -> x == 1 || x == 2);
      assertEquals(0, mem.allocate());
      assertEquals(-1, mem.allocate());
    } finally {
      helper.shutdownNow();
    }
  }

  @ParameterizedTest(name = "batchStealing={0} busyOnAllocate={1}")
  @MethodSource("switches")
  void allocateAndFree_fourThreadsUnderExhaustion_everyFrameEndsFreeExactlyOnce(
      boolean batch, boolean busy) {
    int frames = 24;
    int threads = 4;
    PhysMem mem =
        new PhysMem(
            frames, PhysMem.Options.defaults().withBatchStealing(batch).withBusyOnAllocate(busy));
    AtomicIntegerArray holder = new AtomicIntegerArray(frames); // 0 free, else thread id + 1
    assertTimeoutPreemptively(
        Duration.ofSeconds(120),
        () ->
            Together.run(
                threads,
                (t, start) -> {
                  start.await();
                  churn(mem, holder, t + 1, 10_000, new SplittableRandom(t + 1));
                }));
    assertEquals(frames, mem.freeFrames());
    assertEquals(mem.allocations(), mem.frees());
    mem.checkInvariants(f -> false);
    assertTrue(mem.allocations() > 0);
  }

  /**
   * Allocates batches, half of them busy, checks ownership, zeroing and busy, dirties the frames,
   * frees them (busy ones half the time still busy).
   */
  private static void churn(
      PhysMem mem, AtomicIntegerArray holder, int id, int rounds, SplittableRandom rnd) {
    int[] batch = new int[8];
    boolean[] busy = new boolean[8];
    for (int r = 0; r < rounds; r++) {
      int want = 1 + rnd.nextInt(batch.length);
      int n = 0;
      while (n < want) {
        boolean b = rnd.nextBoolean();
        int f = b ? mem.allocateBusy() : mem.allocate();
        if (f < 0) {
          break; // exhausted by the others: free what we have and go on
        }
        if (!holder.compareAndSet(f, 0, id)) {
          throw new AssertionError("frame " + f + " handed to " + id + " while another holds it");
        }
        if (mem.flags(f) != (b ? PhysMem.BUSY : 0)) {
          throw new AssertionError("frame " + f + " has flags " + mem.flags(f) + " for " + id);
        }
        int w = rnd.nextInt(PhysMem.WORDS_PER_FRAME);
        if (mem.load(f, 0) != 0 || mem.load(f, w) != 0 || mem.load(f, 511) != 0) {
          throw new AssertionError("frame " + f + " not zeroed for " + id);
        }
        mem.store(f, 0, id);
        mem.store(f, w, id);
        mem.store(f, 511, id);
        busy[n] = b;
        batch[n++] = f;
      }
      for (int i = 0; i < n; i++) {
        int f = batch[i];
        if (mem.load(f, 0) != id) {
          throw new AssertionError("frame " + f + " written by someone else while " + id + "'s");
        }
        if (busy[i] && rnd.nextBoolean()) {
          mem.unbusy(f);
        }
        holder.set(f, 0);
        mem.free(f);
      }
    }
  }

  @ParameterizedTest(name = "batchStealing={0} busyOnAllocate={1}")
  @MethodSource("switches")
  void tryBusy_frameFromAllocateBusy_failsUntilUnbusy(boolean batch, boolean busy) {
    PhysMem mem = mem(2, 1, batch, busy);
    int f = mem.allocateBusy();
    assertTrue(mem.isBusy(f));
    assertFalse(mem.tryBusy(f));
    mem.setFlag(f, PhysMem.REFERENCED);
    assertTrue(mem.isBusy(f), "setting another flag keeps BUSY");
    mem.unbusy(f);
    assertFalse(mem.isBusy(f));
    assertTrue(mem.testFlag(f, PhysMem.REFERENCED));
    assertThrows(IllegalStateException.class, () -> mem.unbusy(f));
    assertTrue(mem.tryBusy(f));
    mem.unbusy(f);
    mem.free(f);
    mem.checkInvariants(x -> false);
  }

  /** A single-thread executor whose thread's home stripe is not the caller's. */
  private static ExecutorService helperWithAnotherHome(PhysMem mem) throws Exception {
    int home = mem.homeStripe();
    for (int attempt = 0; attempt < 16; attempt++) {
      ExecutorService e = Executors.newSingleThreadExecutor();
      if (e.submit(mem::homeStripe).get() != home) {
        return e;
      }
      e.shutdownNow();
    }
    throw new AssertionError("no thread with another home stripe than " + home);
  }
}
