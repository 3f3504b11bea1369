package org.vmoracle.impl.phys;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * The {@link PhysMem.Options} of a PhysMem: what the constructors build, and that each switch
 * turned off takes the slower path its Javadoc describes.
 */
class PhysMemOptionsTest {

  @Test
  void constructor_olderForms_turnEverySwitchOn() {
    PhysMem.Options defaults = PhysMem.Options.defaults();
    assertTrue(defaults.batchStealing());
    assertTrue(defaults.busyOnAllocate());
    assertTrue(defaults.contiguousRuns());
    assertEquals(new PhysMem(8).stripes(), defaults.stripes());
    assertEquals(defaults, new PhysMem(8).options());
    assertEquals(new PhysMem.Options(4, true, true, true), new PhysMem(8, 4).options());
    assertEquals(PhysMem.STEAL_BATCH, new PhysMem(8, 4).stealBatch());
  }

  @Test
  void constructor_options_appliesStripesAndSwitches() {
    PhysMem mem = new PhysMem(8, new PhysMem.Options(2, false, false, true));
    assertEquals(2, mem.stripes());
    assertEquals(1, mem.stealBatch());
    assertFalse(mem.options().busyOnAllocate());
    assertEquals(8, mem.freeFrames());
    mem.checkInvariants(f -> false);
    PhysMem.Options o = PhysMem.Options.defaults().withStripes(8).withBatchStealing(false);
    assertEquals(new PhysMem.Options(8, false, true, true), o);
    assertEquals(new PhysMem.Options(8, false, false, true), o.withBusyOnAllocate(false));
    assertEquals(new PhysMem.Options(8, false, true, false), o.withContiguousRuns(false));
  }

  @Test
  void constructor_badOptions_throwTheMessagesOfTheOlderForms() {
    IllegalArgumentException stripes =
        assertThrows(
            IllegalArgumentException.class, () -> new PhysMem.Options(3, true, true, true));
    assertEquals("stripes 3: a power of two is needed", stripes.getMessage());
    assertThrows(IllegalArgumentException.class, () -> new PhysMem.Options(0, true, true, true));
    IllegalArgumentException frames =
        assertThrows(
            IllegalArgumentException.class,
            () -> new PhysMem(0, new PhysMem.Options(4, false, false, true)));
    assertTrue(frames.getMessage().startsWith("frames 0: between 1 and "), frames.getMessage());
    assertThrows(NullPointerException.class, () -> new PhysMem(8, (PhysMem.Options) null));
    // The older two-int form still reports bad frames before a bad stripe count.
    IllegalArgumentException both =
        assertThrows(IllegalArgumentException.class, () -> new PhysMem(0, 3));
    assertTrue(both.getMessage().startsWith("frames 0:"), both.getMessage());
  }

  @Test
  void allocate_batchStealingOff_everyStealTakesOneFrameAndMovesNone() throws Exception {
    // Home stripe empty, one other stripe full: with batch stealing one steal brings
    // STEAL_BATCH - 1 frames home and the next allocations stay there; off, each allocation steals
    // again and no frame is moved.
    for (boolean batch : new boolean[] {true, false}) {
      PhysMem mem =
          new PhysMem(2 * PhysMem.STEAL_BATCH + 8, new PhysMem.Options(4, batch, true, true));
      List<Integer> all = allocateAll(mem);
      freeFromAnotherHome(mem, all);
      long stealsBefore = mem.steals();
      long movedBefore = mem.framesMoved();
      long allocationsBefore = mem.allocations();

      List<Integer> mine = new ArrayList<>();
      for (int k = 0; k < PhysMem.STEAL_BATCH; k++) {
        mine.add(mem.allocate());
      }
      String on = "batchStealing=" + batch;
      if (batch) {
        assertEquals(stealsBefore + 1, mem.steals(), on + ": one steal for the whole batch");
        assertEquals(movedBefore + PhysMem.STEAL_BATCH - 1, mem.framesMoved(), on);
      } else {
        assertEquals(stealsBefore + PhysMem.STEAL_BATCH, mem.steals(), on + ": a steal each");
        assertEquals(movedBefore, mem.framesMoved(), on + ": no frame moved home");
      }
      assertEquals(PhysMem.STEAL_BATCH, mine.stream().distinct().count(), on);
      assertTrue(mine.stream().allMatch(f -> f >= 0), on);
      assertEquals(allocationsBefore + PhysMem.STEAL_BATCH, mem.allocations(), on);
      assertEquals(all.size() - PhysMem.STEAL_BATCH, mem.freeFrames(), on);
      mem.checkInvariants(mine::contains);
    }
  }

  @Test
  void allocateBusy_busyOnAllocateOff_frameIsAllocatedAndNotBusyBeforeItsTryBusy() {
    // On, the frame is busy from the store that allocates it; off, there is a moment where it is
    // allocated (FREE cleared) but not yet busy, which the seam observes.
    for (boolean busyOnAllocate : new boolean[] {true, false}) {
      PhysMem mem = new PhysMem(2, new PhysMem.Options(1, true, busyOnAllocate, true));
      int[] seen = {-1};
      int f = mem.allocateBusy(g -> seen[0] = mem.flags(g));
      String on = "busyOnAllocate=" + busyOnAllocate;
      assertEquals(
          busyOnAllocate ? PhysMem.BUSY : 0, seen[0], on + ": flags right after allocation");
      assertEquals(PhysMem.BUSY, mem.flags(f), on + ": busy when allocateBusy returns");
      assertFalse(mem.tryBusy(f), on);
      mem.unbusy(f);
      mem.checkInvariants(x -> x == f);
    }
  }

  @Test
  void allocateBusy_busyOnAllocateOff_frameTakenBusyByAnother_throws() {
    // The failure allocateBusy's off path checks for: someone who should not know the frame took it
    // busy between the allocation and the tryBusy. The frame stays allocated and busy.
    PhysMem mem = new PhysMem(2, new PhysMem.Options(1, true, false, true));
    AtomicInteger taken = new AtomicInteger(-1);
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () ->
                mem.allocateBusy(
                    g -> {
                      assertTrue(mem.tryBusy(g));
                      taken.set(g);
                    }));
    int f = taken.get();
    assertTrue(e.getMessage().contains("frame " + f + " is busy right after"), e.getMessage());
    assertTrue(mem.isBusy(f));
    assertFalse(mem.testFlag(f, PhysMem.FREE));
    mem.checkInvariants(x -> x == f);
  }

  static List<Integer> allocateAll(PhysMem mem) {
    List<Integer> all = new ArrayList<>();
    for (int f = mem.allocate(); f >= 0; f = mem.allocate()) {
      all.add(f);
    }
    assertEquals(mem.frames(), all.size());
    return all;
  }

  /**
   * Frees {@code frames} from a thread whose home stripe differs from the caller's (tokens are
   * round robin, so the first new thread almost always qualifies), onto that thread's stripe.
   */
  static void freeFromAnotherHome(PhysMem mem, List<Integer> frames) throws InterruptedException {
    int home = mem.homeStripe();
    AtomicInteger freerHome = new AtomicInteger(home);
    for (int attempt = 0; attempt < 16 && freerHome.get() == home; attempt++) {
      Thread t =
          new Thread(
              () -> {
                int h = mem.homeStripe();
                if (h != home) {
                  frames.forEach(mem::free);
                }
                freerHome.set(h);
              });
      t.start();
      t.join();
    }
    assertNotEquals(home, freerHome.get(), "no thread with another home stripe");
  }
}
