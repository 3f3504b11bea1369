package org.vmoracle.impl.pmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.vmoracle.impl.Together;
import org.vmoracle.impl.phys.PhysMem;

/**
 * The page tables of {@link Pmap}: counts (D32569: table pages, the PML4 included, are resident),
 * the early return of removeRange (seed 002), out-of-memory behaviour, concurrency and the
 * invariant checker. The fixture's pmap and memory are checked after every test.
 */
class PmapTest {
  private static final long PAGE = Pmap.PAGE_SIZE;

  /** An address whose PML4, PDP, PD and PT indices are all non-zero: 1, 2, 3, 4. */
  private static final long VA = (1L << 39) | (2L << 30) | (3L << 21) | (4L << 12);

  private PhysMem mem;
  private Pmap pmap;

  @BeforeEach
  void setUp() {
    mem = new PhysMem(256, 4);
    pmap = Pmap.create(mem);
    assertNotNull(pmap);
  }

  @AfterEach
  void checkFixture() {
    pmap.checkInvariants();
    mem.checkInvariants();
  }

  private int inUse() {
    return mem.frames() - mem.freeFrames();
  }

  /** A leaf for a freshly allocated data frame. */
  private long leaf(boolean writable, boolean wired) {
    int f = mem.allocate();
    assertTrue(f >= 0, "out of frames for data");
    return Pte.make(f, writable, wired);
  }

  // ---------------------------------------------------------------- ref

  @Test
  void ref_noTable_isNull() {
    assertNull(pmap.ref(VA));
  }

  @Test
  void ref_enteredLeaf_namesItsTableIndexOwnerAndAddress() {
    long pte = leaf(true, false);
    assertTrue(pmap.enter(VA + 5 * PAGE, pte));
    PteRef r = pmap.ref(VA + 5 * PAGE + 123);
    assertNotNull(r);
    assertEquals((int) ((VA >>> 12) & 511) + 5, r.index(), "the PT index of the address");
    assertTrue(mem.testFlag(r.table(), PhysMem.PTPAGE));
    assertEquals(pte, r.load(mem));
    assertSame(pmap, r.owner(mem), "an own table's label is its pmap");
    assertEquals(VA + 5 * PAGE, r.va(mem), "the label's index gives the address back");
    assertEquals(r, pmap.ref(VA + 5 * PAGE), "a value: the same PTE, the same ref");
    assertNotEquals(r, pmap.ref(VA + 6 * PAGE));
  }

  // ---------------------------------------------------------------- create

  @Test
  void create_fresh_residentIsTheTopLevelPage() {
    assertEquals(1, pmap.residentCount(), "D32569: the PML4 is counted");
    assertEquals(1, pmap.tablePages());
    assertEquals(0, pmap.wiredCount());
    assertEquals(1, inUse());
    assertTrue(mem.testFlag(pmap.rootFrame(), PhysMem.PTPAGE));
  }

  @Test
  void create_noFreeFrame_returnsNull() {
    PhysMem one = new PhysMem(1, 1);
    int f = one.allocate();
    assertNull(Pmap.create(one));
    assertEquals(0, one.freeFrames());
    one.free(f);
    Pmap p = Pmap.create(one);
    assertNotNull(p);
    p.release();
    one.checkInvariants(x -> false);
  }

  // ---------------------------------------------------------------- enter and lookup

  @Test
  void enter_newLeaf_countsThreeTablesAndTheLeaf() {
    long pte = leaf(true, false);
    int before = inUse();
    assertTrue(pmap.enter(VA, pte));
    assertEquals(5, pmap.residentCount(), "PML4 + PDP + PD + PT + 1 leaf");
    assertEquals(4, pmap.tablePages());
    assertEquals(0, pmap.wiredCount());
    assertEquals(before + 3, inUse());
    assertEquals(pte, pmap.lookup(VA));
    assertEquals(pte, pmap.lookup(VA + 8), "any address in the page");
    assertEquals(pte, pmap.lookup(VA + PAGE - 1));
    assertEquals(0, pmap.lookup(VA + PAGE));
    assertEquals(0, pmap.lookup(VA - PAGE));
  }

  @Test
  void enter_secondLeafInSamePt_addsOnlyTheLeaf() {
    assertTrue(pmap.enter(VA, leaf(true, false)));
    assertTrue(pmap.enter(VA + PAGE, leaf(true, false)));
    assertEquals(6, pmap.residentCount());
    assertEquals(4, pmap.tablePages());
  }

  @Test
  void enter_leafUnderAnotherPd_addsOnePtAndTheLeaf() {
    assertTrue(pmap.enter(VA, leaf(true, false)));
    assertTrue(pmap.enter(VA + (1L << 21), leaf(true, false))); // next PD entry: a new PT
    assertEquals(5, pmap.tablePages());
    assertEquals(7, pmap.residentCount());
    assertTrue(pmap.enter(VA + (1L << 39), leaf(true, false))); // next PML4 entry: 3 tables
    assertEquals(8, pmap.tablePages());
    assertEquals(11, pmap.residentCount());
  }

  @Test
  void enter_replaceValidLeaf_residentUnchangedR39() {
    long first = leaf(true, false);
    long second = leaf(false, false);
    assertTrue(pmap.enter(VA, first));
    assertTrue(pmap.enter(VA, second));
    assertEquals(5, pmap.residentCount(), "R39: replacing a valid leaf does not count");
    assertEquals(second, pmap.lookup(VA));
  }

  @Test
  void enter_wiredLeaf_countsWiredAndReplacementFollowsTheBit() {
    long wired = leaf(true, true);
    assertTrue(pmap.enter(VA, wired));
    assertEquals(1, pmap.wiredCount());
    long unwired = Pte.withoutBits(wired, Pte.WIRED);
    assertTrue(pmap.enter(VA, unwired));
    assertEquals(0, pmap.wiredCount());
    assertTrue(pmap.enter(VA, wired));
    assertEquals(1, pmap.wiredCount());
    assertEquals(5, pmap.residentCount());
    assertEquals(wired, pmap.remove(VA));
    assertEquals(0, pmap.wiredCount());
    assertEquals(4, pmap.residentCount());
  }

  @Test
  void enter_badArguments_throwAndChangeNothing() {
    long pte = leaf(true, false);
    assertThrows(IllegalArgumentException.class, () -> pmap.enter(VA + 8, pte));
    assertThrows(IllegalArgumentException.class, () -> pmap.enter(Pmap.USER_VA_LIMIT, pte));
    assertThrows(IllegalArgumentException.class, () -> pmap.enter(-PAGE, pte));
    assertThrows(IllegalArgumentException.class, () -> pmap.enter(VA, 0));
    assertThrows(IllegalArgumentException.class, () -> pmap.enter(VA, Pte.withoutBits(pte, Pte.P)));
    assertThrows(IllegalArgumentException.class, () -> pmap.enter(VA, Pte.withBits(pte, Pte.PS)));
    assertThrows(IllegalArgumentException.class, () -> pmap.enter(VA, Pte.make(256, true, false)));
    assertThrows(IllegalArgumentException.class, () -> pmap.lookup(Pmap.USER_VA_LIMIT));
    assertEquals(1, pmap.residentCount());
    assertEquals(1, pmap.tablePages());
  }

  @Test
  void enter_noFrameForATable_returnsFalseAndChangesNothing() {
    PhysMem small = new PhysMem(4, 2);
    Pmap p = Pmap.create(small);
    int data = small.allocate();
    assertEquals(2, small.freeFrames(), "two frames left; a fresh path needs three");
    assertFalse(p.enter(VA, Pte.make(data, true, false)));
    assertEquals(1, p.residentCount());
    assertEquals(1, p.tablePages());
    assertEquals(2, small.freeFrames(), "the tables allocated for the attempt were freed");
    assertEquals(0, p.lookup(VA));
    p.checkInvariants();
    small.checkInvariants(f -> f == data || f == p.rootFrame());
  }

  @Test
  void enter_noFrameForTheLastTable_keepsExistingTablesAndChangesNothing() {
    PhysMem small = new PhysMem(6, 1);
    Pmap p = Pmap.create(small);
    int data = small.allocate();
    assertTrue(p.enter(VA, Pte.make(data, true, false))); // PML4 + 3 tables + data = 5 frames
    assertEquals(1, small.freeFrames());
    // A different PD entry needs only a new PT: that fits.
    assertTrue(p.enter(VA + (1L << 21), Pte.make(data, false, false)));
    assertEquals(0, small.freeFrames());
    // A different PDP entry needs a PD and a PT: nothing is free.
    assertFalse(p.enter(VA + (1L << 30), Pte.make(data, false, false)));
    assertEquals(5, p.tablePages());
    assertEquals(7, p.residentCount());
    assertEquals(0, small.freeFrames());
    p.checkInvariants();
  }

  @Test
  void reserveTable_thenInstallWithNoFrameFree_installs() {
    // MEM-1: a fault reserves its table before it changes anything, so the install cannot fail.
    PhysMem small = new PhysMem(5, 1);
    Pmap p = Pmap.create(small);
    int data = small.allocate();
    assertTrue(p.reserveTable(VA)); // PDP, PD and PT: the last three frames
    assertEquals(0, small.freeFrames());
    assertEquals(Pmap.Install.INSTALLED, p.install(VA, 0, Pte.make(data, true, false)));
    assertTrue(p.reserveTable(VA + PAGE), "the same table: nothing to allocate");
    assertFalse(p.reserveTable(VA + (1L << 21)), "a new PT needs a frame");
    assertEquals(4, p.tablePages());
    p.checkInvariants();
  }

  // ---------------------------------------------------------------- compareAndSet and remove

  @Test
  void compareAndSet_missingTable_returnsFalseWithoutAllocating() {
    int before = inUse();
    assertFalse(pmap.compareAndSet(VA, 0, leaf(true, false)));
    assertEquals(before + 1, inUse(), "only the data frame");
    assertEquals(1, pmap.residentCount());
  }

  @Test
  void compareAndSet_everyTransition_keepsCountsRight() {
    long a = leaf(true, false);
    long b = leaf(true, true);
    assertTrue(pmap.enter(VA, a));
    assertTrue(pmap.compareAndSet(VA, a, 0)); // valid -> 0
    assertEquals(4, pmap.residentCount());
    assertTrue(pmap.compareAndSet(VA + PAGE, 0, b)); // 0 -> valid, wired on
    assertEquals(5, pmap.residentCount());
    assertEquals(1, pmap.wiredCount());
    assertFalse(pmap.compareAndSet(VA + PAGE, a, 0), "wrong expectation");
    assertEquals(5, pmap.residentCount());
    long bUnwired = Pte.withoutBits(b, Pte.WIRED);
    assertTrue(pmap.compareAndSet(VA + PAGE, b, bUnwired)); // wired off
    assertEquals(0, pmap.wiredCount());
    assertTrue(pmap.compareAndSet(VA + PAGE, bUnwired, b)); // wired on again
    assertEquals(1, pmap.wiredCount());
    assertTrue(pmap.compareAndSet(VA + PAGE, b, 0)); // valid wired -> 0
    assertEquals(0, pmap.wiredCount());
    assertEquals(4, pmap.residentCount());
    assertTrue(pmap.compareAndSet(VA, 0, 0), "0 -> 0 holds trivially");
    assertEquals(4, pmap.residentCount());
  }

  @Test
  void remove_presentLeaf_returnsItAndUncountsIt() {
    long pte = leaf(true, false);
    assertTrue(pmap.enter(VA, pte));
    assertEquals(pte, pmap.remove(VA));
    assertEquals(0, pmap.lookup(VA));
    assertEquals(4, pmap.residentCount(), "tables stay until release");
    assertEquals(0, pmap.remove(VA));
    assertEquals(0, pmap.remove(VA + PAGE), "no leaf in an existing table");
    assertEquals(0, pmap.remove(VA + (1L << 39)), "no table at all");
    assertEquals(4, pmap.residentCount());
  }

  // ---------------------------------------------------------------- protect

  @Test
  void protect_range_clearsWriteOnlyOnLeavesInRange() {
    long[] ptes = new long[4];
    for (int i = 0; i < 4; i++) {
      ptes[i] = leaf(true, false);
      assertTrue(pmap.enter(VA + i * PAGE, ptes[i]));
    }
    pmap.protect(VA + PAGE, VA + 3 * PAGE);
    assertTrue(Pte.isWritable(pmap.lookup(VA)));
    assertEquals(Pte.withoutBits(ptes[1], Pte.W), pmap.lookup(VA + PAGE));
    assertEquals(Pte.withoutBits(ptes[2], Pte.W), pmap.lookup(VA + 2 * PAGE));
    assertTrue(Pte.isWritable(pmap.lookup(VA + 3 * PAGE)));
    assertEquals(8, pmap.residentCount());
  }

  @Test
  void protect_wholeUserSpace_skipsMissingTablesQuickly() {
    long low = leaf(true, false);
    long high = leaf(true, false);
    long highVa = Pmap.USER_VA_LIMIT - PAGE;
    assertTrue(pmap.enter(PAGE, low));
    assertTrue(pmap.enter(highVa, high));
    // 2^35 pages: visiting each would take minutes; skipping missing tables takes microseconds.
    assertTimeoutPreemptively(Duration.ofSeconds(10), () -> pmap.protect(0, Pmap.USER_VA_LIMIT));
    assertFalse(Pte.isWritable(pmap.lookup(PAGE)));
    assertFalse(Pte.isWritable(pmap.lookup(highVa)));
  }

  // ---------------------------------------------------------------- removeRange

  @Test
  void removeRange_someLeaves_clearsThoseInRangeAndReportsEach() {
    List<Long> entered = new ArrayList<>();
    for (int i = 0; i < 5; i++) {
      long pte = leaf(true, i == 2);
      entered.add(pte);
      assertTrue(pmap.enter(VA + i * PAGE, pte));
    }
    List<Long> removed = new ArrayList<>();
    pmap.removeRange(VA + PAGE, VA + 4 * PAGE, (va, leaf) -> removed.add(leaf));
    assertEquals(entered.subList(1, 4), removed);
    assertEquals(entered.get(0), pmap.lookup(VA));
    assertEquals(0, pmap.lookup(VA + 2 * PAGE));
    assertEquals(entered.get(4), pmap.lookup(VA + 4 * PAGE));
    assertEquals(6, pmap.residentCount());
    assertEquals(0, pmap.wiredCount());
    assertEquals(0, pmap.earlyReturns());
  }

  @Test
  void removeRange_emptyPmap_returnsEarlyAndCountsIt() {
    // Seed 002 / D32569: nothing but the PML4 is resident, so there is nothing to walk.
    pmap.removeRange(0, Pmap.USER_VA_LIMIT, (va, pte) -> {});
    assertEquals(1, pmap.earlyReturns());
    pmap.removeRange(VA, VA + PAGE, (va, pte) -> {});
    assertEquals(2, pmap.earlyReturns());
  }

  @Test
  void removeRange_pmapWithLeaves_doesNotReturnEarly() {
    assertTrue(pmap.enter(VA, leaf(true, false)));
    List<Long> removed = new ArrayList<>();
    pmap.removeRange(0, Pmap.USER_VA_LIMIT, (va, leaf) -> removed.add(leaf));
    assertEquals(1, removed.size());
    assertEquals(0, pmap.earlyReturns());
    // The empty tables stay resident, so the next removeRange walks too.
    pmap.removeRange(0, Pmap.USER_VA_LIMIT, (va, leaf) -> removed.add(leaf));
    assertEquals(0, pmap.earlyReturns());
    assertEquals(4, pmap.residentCount());
  }

  @Test
  void removeRange_earlyReturnSwitchedOff_walksAndNeverCounts() {
    Pmap slow = Pmap.create(mem, new Pmap.Config(false));
    slow.removeRange(0, Pmap.USER_VA_LIMIT, (va, pte) -> {});
    assertEquals(0, slow.earlyReturns(), "the kill switch disables the fast path");
    long pte = leaf(true, false);
    assertTrue(slow.enter(VA, pte));
    List<Long> removed = new ArrayList<>();
    slow.removeRange(0, Pmap.USER_VA_LIMIT, (va, leaf) -> removed.add(leaf));
    assertEquals(List.of(pte), removed);
    assertEquals(0, slow.earlyReturns());
    slow.checkInvariants();
    slow.release();
    mem.free(Pte.frame(pte));
  }

  // ---------------------------------------------------------------- prune

  @Test
  void prune_emptiedTables_freedBottomUpUntilOnlyThePml4IsResident() {
    long other = VA + (1L << 21); // the next PT of the same PD
    assertTrue(pmap.enter(VA, leaf(true, false)));
    assertTrue(pmap.enter(other, leaf(true, false)));
    assertEquals(5, pmap.tablePages(), "PML4, PDP, PD and two PTs");
    int before = inUse();

    pmap.removeRange(VA, VA + PAGE, (va, pte) -> {});
    assertEquals(1, pmap.prune(VA, VA + PAGE), "only the emptied PT goes");
    assertEquals(4, pmap.tablePages());
    assertEquals(5, pmap.residentCount(), "4 tables + 1 leaf");
    assertEquals(before - 1, inUse());
    assertEquals(0, pmap.lookup(VA));

    pmap.removeRange(other, other + PAGE, (va, pte) -> {});
    assertEquals(3, pmap.prune(other, other + PAGE), "PT, then PD, then PDP");
    assertEquals(1, pmap.residentCount(), "back to the PML4 alone (D32569)");
    assertEquals(1, pmap.tablePages());
    assertEquals(before - 4, inUse());

    pmap.removeRange(0, Pmap.USER_VA_LIMIT, (va, pte) -> fail("nothing is left to remove"));
    assertEquals(1, pmap.earlyReturns(), "the early return fires once pruned");
  }

  @Test
  void prune_tableStillHoldingAnEntryOutsideTheRange_keepsIt() {
    assertTrue(pmap.enter(VA, leaf(true, false)));
    assertTrue(pmap.enter(VA + PAGE, leaf(true, false)));
    pmap.removeRange(VA, VA + PAGE, (va, pte) -> {});
    assertEquals(0, pmap.prune(VA, VA + PAGE), "the PT still maps VA + PAGE");
    assertEquals(4, pmap.tablePages());
    assertEquals(0, pmap.prune(0, Pmap.USER_VA_LIMIT), "nothing anywhere is empty");
    assertTrue(Pte.isPresent(pmap.lookup(VA + PAGE)));
  }

  @Test
  void prune_emptyRange_freesNothing() {
    assertEquals(0, pmap.prune(VA, VA));
    assertEquals(0, pmap.prune(0, Pmap.USER_VA_LIMIT), "a fresh pmap has only its PML4");
    assertEquals(1, pmap.tablePages());
  }

  // ---------------------------------------------------------------- forEachLeaf

  @Test
  void forEachLeaf_range_visitsValidLeavesInAddressOrder() {
    long[] vas = {VA + 3 * PAGE, VA, VA + (1L << 30), PAGE};
    for (long va : vas) {
      assertTrue(pmap.enter(va, leaf(true, false)));
    }
    List<Long> seen = new ArrayList<>();
    pmap.forEachLeaf(
        0,
        Pmap.USER_VA_LIMIT,
        (va, pte) -> {
          assertEquals(pmap.lookup(va), pte);
          seen.add(va);
        });
    assertEquals(List.of(PAGE, VA, VA + 3 * PAGE, VA + (1L << 30)), seen);
    seen.clear();
    pmap.forEachLeaf(VA + PAGE, VA + (1L << 30), (va, pte) -> seen.add(va));
    assertEquals(List.of(VA + 3 * PAGE), seen);
  }

  // ---------------------------------------------------------------- release

  @Test
  void release_afterLeavesRemoved_freesEveryTableAndZeroesCounts() {
    int before = inUse();
    Pmap p = Pmap.create(mem);
    long a = leaf(true, true);
    long b = leaf(true, false);
    assertTrue(p.enter(VA, a));
    assertTrue(p.enter(VA + (1L << 39), b));
    assertEquals(7, p.tablePages());
    p.removeRange(0, Pmap.USER_VA_LIMIT, (va, pte) -> {});
    p.release();
    assertEquals(0, p.residentCount());
    assertEquals(0, p.tablePages());
    assertEquals(0, p.wiredCount());
    p.checkInvariants();
    mem.free(Pte.frame(a));
    mem.free(Pte.frame(b));
    assertEquals(before, inUse(), "no table frame leaked");
    assertThrows(IllegalStateException.class, () -> p.lookup(VA));
    assertThrows(IllegalStateException.class, p::release);
  }

  @Test
  void release_leafLeft_throwsNamingTheAddressAndChangesNothing() {
    assertTrue(pmap.enter(VA + 5 * PAGE, leaf(true, false)));
    assertTrue(pmap.enter(VA + 9 * PAGE, leaf(true, false)));
    int before = inUse();
    IllegalStateException e = assertThrows(IllegalStateException.class, pmap::release);
    assertTrue(
        e.getMessage().contains("0x" + Long.toHexString(VA + 5 * PAGE)),
        "names the lowest leftover address: " + e.getMessage());
    assertEquals(before, inUse());
    assertEquals(6, pmap.residentCount());
  }

  // ---------------------------------------------------------------- checkInvariants

  @Test
  void checkInvariants_interiorEntryToNonTableFrame_throwsNamingTheAddress() {
    PhysMem m = new PhysMem(16, 1);
    Pmap p = Pmap.create(m);
    int user = m.allocate();
    m.storeRelease(p.rootFrame(), 5, Pte.table(user)); // a PML4 entry to a data frame
    IllegalStateException e = assertThrows(IllegalStateException.class, p::checkInvariants);
    assertTrue(e.getMessage().contains("PML4 entry 5"), e.getMessage());
    assertTrue(e.getMessage().contains("0x" + Long.toHexString(5L << 39)), e.getMessage());
    assertTrue(e.getMessage().contains("not flagged PTPAGE"), e.getMessage());
  }

  @Test
  void checkInvariants_interiorEntryWithWrongBits_throws() {
    PhysMem m = new PhysMem(16, 1);
    Pmap p = Pmap.create(m);
    assertTrue(p.enter(VA, Pte.make(m.allocate(), true, false)));
    int pdp = Pte.frame(m.loadAcquire(p.rootFrame(), 1));
    long e = m.loadAcquire(pdp, 2);
    m.storeRelease(pdp, 2, Pte.withoutBits(e, Pte.W)); // a read-only interior entry
    IllegalStateException x = assertThrows(IllegalStateException.class, p::checkInvariants);
    assertTrue(x.getMessage().contains("PDP entry 2"), x.getMessage());
    assertTrue(x.getMessage().contains("exactly P|W|U"), x.getMessage());
  }

  @Test
  void checkInvariants_leafWrittenBehindTheCounters_throwsCountMismatch() {
    PhysMem m = new PhysMem(16, 1);
    Pmap p = Pmap.create(m);
    assertTrue(p.enter(VA, Pte.make(m.allocate(), true, false)));
    int pdp = Pte.frame(m.loadAcquire(p.rootFrame(), 1));
    int pd = Pte.frame(m.loadAcquire(pdp, 2));
    int pt = Pte.frame(m.loadAcquire(pd, 3));
    m.storeRelease(pt, 9, Pte.make(m.allocate(), true, false));
    IllegalStateException x = assertThrows(IllegalStateException.class, p::checkInvariants);
    assertTrue(x.getMessage().contains("counts resident 5"), x.getMessage());
  }

  @Test
  void checkInvariants_leafToFreeFrame_throwsUseAfterFree() {
    PhysMem m = new PhysMem(16, 1);
    Pmap p = Pmap.create(m);
    int data = m.allocate();
    assertTrue(p.enter(VA, Pte.make(data, true, false)));
    m.free(data); // freed while still mapped: a stale PTE
    IllegalStateException x = assertThrows(IllegalStateException.class, p::checkInvariants);
    assertTrue(x.getMessage().contains("which is free"), x.getMessage());
  }

  // ---------------------------------------------------------------- concurrency

  @Test
  void enter_twoThreadsDifferentVasSharingNewTables_noLeakedTableFrames() {
    int baseline = inUse();
    int threads = 2;
    int leavesEach = 8;
    assertTimeoutPreemptively(
        Duration.ofSeconds(120),
        () -> {
          for (int round = 0; round < 300; round++) {
            Pmap p = Pmap.create(mem);
            long base = (round % 200 + 1L) << 39 | (long) (round % 7) << 30;
            long[][] entered = new long[threads][leavesEach];
            Together.run(
                threads,
                (id, start) -> {
                  long[] mine = entered[id];
                  for (int i = 0; i < leavesEach; i++) {
                    mine[i] = leaf(true, i % 2 == 0);
                  }
                  start.await();
                  for (int i = 0; i < leavesEach; i++) {
                    // Interleaved pages of one PT: both threads need the same 3 tables.
                    long va = base + (long) (i * threads + id) * PAGE;
                    if (!p.enter(va, mine[i])) {
                      throw new AssertionError("enter ran out of memory");
                    }
                  }
                });
            p.checkInvariants();
            assertEquals(4, p.tablePages(), "round " + round + ": one path of tables");
            assertEquals(4 + threads * leavesEach, p.residentCount());
            assertEquals(threads * leavesEach / 2, p.wiredCount());
            for (int t = 0; t < threads; t++) {
              for (int i = 0; i < leavesEach; i++) {
                long va = base + (long) (i * threads + t) * PAGE;
                assertEquals(entered[t][i], p.lookup(va));
              }
            }
            List<Long> removed = new ArrayList<>();
            p.removeRange(0, Pmap.USER_VA_LIMIT, (va, leaf) -> removed.add(leaf));
            assertEquals(threads * leavesEach, removed.size());
            p.release();
            removed.forEach(pte -> mem.free(Pte.frame(pte)));
            assertEquals(baseline, inUse(), "round " + round + ": frames leaked");
          }
        });
  }

  @Test
  void enterAndRemove_threeThreadsOnTheSamePages_countsExactWhenQuiescent() {
    int threads = 3;
    int pages = 4;
    long[] frames = new long[pages];
    for (int i = 0; i < pages; i++) {
      frames[i] = leaf(true, false);
    }
    assertTimeoutPreemptively(
        Duration.ofSeconds(120),
        () ->
            Together.run(
                threads,
                (id, start) -> {
                  start.await();
                  for (int r = 0; r < 20_000; r++) {
                    int i = (r * 7 + id) % pages;
                    long va = VA + i * PAGE;
                    switch ((r + id) % 4) {
                      case 0:
                        pmap.enter(va, frames[i]);
                        break;
                      case 1:
                        pmap.enter(va, Pte.withBits(frames[i], Pte.WIRED));
                        break;
                      case 2:
                        pmap.remove(va);
                        break;
                      default:
                        long old = pmap.lookup(va);
                        pmap.compareAndSet(va, old, old == 0 ? frames[i] : 0);
                        break;
                    }
                    if (pmap.residentCount() < Pmap.TOP_LEVEL_PAGES) {
                      throw new AssertionError("resident below the top-level pages");
                    }
                  }
                }));
    pmap.checkInvariants(); // counts exact again now that no call is in flight
    pmap.removeRange(0, Pmap.USER_VA_LIMIT, (va, pte) -> {});
    assertEquals(4, pmap.residentCount());
    assertEquals(0, pmap.wiredCount());
  }
}
