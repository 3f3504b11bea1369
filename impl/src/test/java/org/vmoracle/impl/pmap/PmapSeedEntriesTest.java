package org.vmoracle.impl.pmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.vmoracle.impl.phys.PhysMem;

/**
 * The PD entries of the seeds: a 2 MiB PS leaf with its deposit (seed 003, P7), which {@link
 * Pmap#enterSuperpage} makes and every changer demotes, and a PD entry linking a page table that
 * someone else owns (a shared table, seed 001, P6), which {@link Pmap#linkShared} makes; here its
 * owner is a plain object, PmapSharedTablesTest gives it a Pmap. The tests check what each
 * operation does on meeting one, that release and prune never free one, how they count (P4), and
 * what the checker accepts (P1, P3, P7). The fixture's pmap and memory are checked after every
 * test; tests that break a tree on purpose do it in a second pmap.
 */
class PmapSeedEntriesTest {
  private static final long PAGE = Pmap.PAGE_SIZE;
  private static final long SPAN = Level.PD.entryBytes(); // 2 MiB

  /** A 2 MiB-aligned address whose PML4, PDP and PD indices are 1, 2 and 3. */
  private static final long SVA = (1L << 39) | (2L << 30) | (3L << 21);

  /** The first frame of the 2 MiB-aligned run of 512 frames the PS leaves map. */
  private static final int RUN = 512;

  /** Whoever owns a shared table; seed 001 makes it a VM object. */
  private record Segment(String name) {}

  private PhysMem mem;
  private Pmap pmap;
  private final Segment segment = new Segment("segment");

  @BeforeEach
  void setUp() {
    mem = new PhysMem(2048, 1);
    pmap = Pmap.create(mem);
    // Hold frames RUN .. RUN + 511 for the PS leaves; give the rest back for tables and data.
    List<Integer> others = new ArrayList<>();
    for (int f = mem.allocate(); f >= 0; f = mem.allocate()) {
      if (f < RUN || f >= RUN + 512) {
        others.add(f);
      }
    }
    others.forEach(mem::free);
    assertEquals(2048 - 1 - 512, mem.freeFrames());
  }

  @AfterEach
  void checkFixture() {
    pmap.checkInvariants();
    mem.checkInvariants();
  }

  private int inUse() {
    return mem.frames() - mem.freeFrames();
  }

  private long leaf(boolean writable) {
    int f = mem.allocate();
    assertTrue(f >= 0, "out of frames for data");
    return Pte.make(f, writable, false);
  }

  /** A writable 2 MiB leaf of the run, WIRED or not. */
  private static long superpage(boolean wired) {
    return Pte.make(RUN, true, wired) | Pte.PS;
  }

  /** A page-table page in use that {@code owner} owns, as seed 001's VM object will hold one. */
  private int sharedTable(Object owner) {
    int f = mem.allocate();
    assertTrue(f >= 0);
    mem.setFlag(f, PhysMem.PTPAGE);
    assertTrue(mem.tryBusy(f));
    mem.setOwner(f, owner, SVA >>> Pmap.PAGE_SHIFT);
    mem.unbusy(f);
    return f;
  }

  /** The frame of the table of {@code level} that holds {@code va}'s entry in {@code p}. */
  private int tableOf(Pmap p, long va, Level level) {
    int t = p.rootFrame();
    for (Level l = Level.TOP; l != level; l = l.below()) {
      t = Pte.frame(mem.loadAcquire(t, l.index(va)));
    }
    return t;
  }

  private static void assertRefused(Executable call, String... fragments) {
    IllegalStateException e = assertThrows(IllegalStateException.class, call);
    for (String f : fragments) {
      assertTrue(e.getMessage().contains(f), "'" + f + "' in: " + e.getMessage());
    }
  }

  private void assertRunStillHeld() {
    for (int f = RUN; f < RUN + 512; f++) {
      assertFalse(mem.testFlag(f, PhysMem.FREE), "frame " + f + " of the 2 MiB leaf was freed");
    }
  }

  // ---------------------------------------------------------------- PS leaves: counts, checker

  /** A fresh frame for a deposit, as the wiring fast path allocates one. */
  private int deposit() {
    int f = mem.allocate();
    assertTrue(f >= 0, "out of frames for a deposit");
    return f;
  }

  /** Installs {@code pde} at SVA in {@code p} with a fresh deposit; asserts it went in. */
  private void enterSuperpage(Pmap p, long pde) {
    assertEquals(Pmap.Install.INSTALLED, p.enterSuperpage(SVA, pde, deposit()));
  }

  @Test
  void enterSuperpage_checkerAcceptsAndCounts512AndTheDeposit() {
    enterSuperpage(pmap, superpage(false));
    pmap.checkInvariants();
    assertEquals(4, pmap.tablePages(), "P4, P7: PML4, PDP, PD and the deposit");
    assertEquals(4 + 512, pmap.residentCount(), "P4: a 2 MiB leaf counts NBPDR / PAGE_SIZE");
    assertEquals(0, pmap.wiredCount());
    assertEquals(1, pmap.superpages());
    assertEquals(superpage(false), mem.loadAcquire(tableOf(pmap, SVA, Level.PD), 3));
  }

  @Test
  void enterSuperpage_wired_counts512Wired() {
    enterSuperpage(pmap, superpage(true));
    assertEquals(512, pmap.wiredCount(), "P4: FreeBSD counts a wired 2 MiB page as 512");
    assertEquals(4 + 512, pmap.residentCount());
  }

  @Test
  void enterSuperpage_overATable_changedAndTheDepositFreed() {
    long pte = leaf(true);
    assertTrue(pmap.enter(SVA + 9 * PAGE, pte));
    int before = inUse();
    int d = deposit();
    assertEquals(Pmap.Install.CHANGED, pmap.enterSuperpage(SVA, superpage(false), d));
    assertTrue(mem.testFlag(d, PhysMem.FREE), "the deposit went back to the pool");
    assertEquals(before, inUse());
    assertEquals(pte, pmap.lookup(SVA + 9 * PAGE));
    assertEquals(0, pmap.superpages());
    assertEquals(pte, pmap.remove(SVA + 9 * PAGE));
    mem.free(Pte.frame(pte));
  }

  // ---------------------------------------------------------------- PS leaves: readers (P7)

  @Test
  void lookup_underSuperpage_readsThe4KiBTranslation() {
    enterSuperpage(pmap, superpage(true));
    assertEquals(Pte.make(RUN + 5, true, true), pmap.lookup(SVA + 5 * PAGE + 8));
    assertEquals(Pte.make(RUN, true, true), pmap.lookup(SVA));
    assertEquals(Pte.make(RUN + 511, true, true), pmap.lookup(SVA + SPAN - 1));
    assertEquals(0, pmap.lookup(SVA + SPAN), "the next PD entry is an ordinary hole");
    assertEquals(1, pmap.superpages(), "a reader never demotes");
  }

  @Test
  void ref_underSuperpage_namesTheDepositSlotItsDemotionLinks() {
    enterSuperpage(pmap, superpage(false));
    PteRef before = pmap.ref(SVA + 7 * PAGE);
    assertEquals(7, before.index());
    assertEquals(1, pmap.superpages(), "ref never demotes");
    pmap.protect(SVA, SVA + PAGE); // demotes
    assertEquals(0, pmap.superpages());
    assertEquals(before, pmap.ref(SVA + 7 * PAGE), "the same PTE before and after the demotion");
    assertEquals(before.table(), tableOf(pmap, SVA, Level.PT), "the deposit is the PT now");
  }

  @Test
  void forEachLeaf_overSuperpage_visitsItsPagesInOrderWithoutDemoting() {
    long low = leaf(true);
    assertTrue(pmap.enter(SVA - PAGE, low));
    enterSuperpage(pmap, superpage(false));
    List<Long> seen = new ArrayList<>();
    pmap.forEachLeaf(SVA - PAGE, SVA + 3 * PAGE, (va, pte) -> seen.add(va));
    assertEquals(List.of(SVA - PAGE, SVA, SVA + PAGE, SVA + 2 * PAGE), seen);
    long[] last = {0};
    pmap.forEachLeaf(SVA + SPAN - PAGE, Pmap.USER_VA_LIMIT, (va, pte) -> last[0] = pte);
    assertEquals(Pte.make(RUN + 511, true, false), last[0]);
    assertEquals(1, pmap.superpages());
    assertEquals(low, pmap.remove(SVA - PAGE));
    mem.free(Pte.frame(low));
  }

  // ---------------------------------------------------------------- PS leaves: changers (P7)

  @Test
  void pointOperations_underSuperpage_demoteThenWorkOn4KiBLeaves() {
    enterSuperpage(pmap, superpage(true));
    long resident = pmap.residentCount();
    long va = SVA + 7 * PAGE;
    long old = Pte.make(RUN + 7, true, true);
    long unwired = Pte.make(RUN + 7, true, false);
    int before = inUse();
    assertTrue(pmap.compareAndSet(va, old, unwired), "munlock's replace of one page");
    assertEquals(0, pmap.superpages());
    assertEquals(1, pmap.demotions());
    assertEquals(before, inUse(), "demotion allocated nothing: the deposit was there");
    assertEquals(resident, pmap.residentCount(), "demotion changes no count (P7)");
    assertEquals(511, pmap.wiredCount());
    assertEquals(unwired, pmap.lookup(va));
    assertEquals(Pte.make(RUN + 8, true, true), pmap.lookup(va + PAGE), "its neighbours stay");
    pmap.checkInvariants();
  }

  @Test
  void eachPointChanger_demotes() {
    long va = SVA + 3 * PAGE;
    long leaf3 = Pte.make(RUN + 3, true, false);
    List<Executable> changers =
        List.of(
            () -> assertEquals(leaf3, pmap.remove(va)),
            () -> assertEquals(Pmap.Install.INSTALLED, pmap.install(va, leaf3, leaf3)),
            () -> assertTrue(pmap.compareAndSet(va, leaf3, Pte.withoutBits(leaf3, Pte.W))),
            () -> assertTrue(pmap.enter(va, leaf3)));
    for (Executable c : changers) {
      Pmap p = pmap;
      enterSuperpage(p, superpage(false));
      long demotions = p.demotions();
      assertDoesNotThrowAny(c);
      assertEquals(demotions + 1, p.demotions());
      assertEquals(0, p.superpages());
      p.checkInvariants();
      p.removeRange(SVA, SVA + SPAN, (a, l) -> {});
      assertEquals(3, p.prune(SVA, SVA + SPAN), "the demoted deposit is an own PT; PD, PDP");
      p.checkInvariants();
    }
  }

  @Test
  void fillersFromZero_leaveTheSuperpageWhole() {
    enterSuperpage(pmap, superpage(true));
    long va = SVA + 3 * PAGE;
    long other = leaf(true);
    int before = inUse();
    assertEquals(Pmap.Install.CHANGED, pmap.install(va, 0, other), "the page has a leaf");
    assertFalse(pmap.compareAndSet(va, 0, other));
    assertTrue(pmap.reserveTable(va), "the deposit is the table");
    assertEquals(before, inUse(), "nothing allocated");
    assertEquals(1, pmap.superpages());
    assertEquals(0, pmap.demotions());
    assertEquals(Pte.make(RUN + 3, true, true), pmap.lookup(va));
    mem.free(Pte.frame(other));
  }

  private static void assertDoesNotThrowAny(Executable c) {
    try {
      c.execute();
    } catch (Throwable t) {
      throw new AssertionError("the changer failed", t);
    }
  }

  @Test
  void protect_partOfSuperpage_demotesAndProtectsOnlyTheRange() {
    enterSuperpage(pmap, superpage(false));
    pmap.protect(SVA + 10 * PAGE, SVA + 12 * PAGE);
    assertEquals(0, pmap.superpages());
    assertTrue(Pte.isWritable(pmap.lookup(SVA + 9 * PAGE)));
    assertFalse(Pte.isWritable(pmap.lookup(SVA + 10 * PAGE)));
    assertFalse(Pte.isWritable(pmap.lookup(SVA + 11 * PAGE)));
    assertTrue(Pte.isWritable(pmap.lookup(SVA + 12 * PAGE)));
  }

  @Test
  void removeRange_overSuperpage_demotesAndReportsEachPage() {
    long low = leaf(true);
    long high = leaf(true);
    assertTrue(pmap.enter(SVA - PAGE, low));
    assertTrue(pmap.enter(SVA + SPAN, high));
    enterSuperpage(pmap, superpage(true));
    List<Long> removed = new ArrayList<>();
    pmap.removeRange(0, Pmap.USER_VA_LIMIT, (va, leaf) -> removed.add(leaf));
    assertEquals(512 + 2, removed.size());
    assertEquals(low, removed.get(0));
    assertEquals(Pte.make(RUN, true, true), removed.get(1));
    assertEquals(Pte.make(RUN + 511, true, true), removed.get(512));
    assertEquals(high, removed.get(513));
    assertEquals(0, pmap.wiredCount());
    assertEquals(6, pmap.residentCount(), "PML4, PDP, PD and three PTs: the deposit is one now");
    assertRunStillHeld();
    mem.free(Pte.frame(low));
    mem.free(Pte.frame(high));
  }

  @Test
  void concurrentDemotersAndReaders_oneDemotionAndEveryReadRight() throws Exception {
    for (int round = 0; round < 50; round++) {
      enterSuperpage(pmap, superpage(false));
      Thread[] ts = new Thread[3];
      Throwable[] failure = {null};
      for (int t = 0; t < ts.length; t++) {
        int me = t;
        ts[t] =
            new Thread(
                () -> {
                  try {
                    for (int k = 0; k < 512; k++) {
                      long va = SVA + (long) k * PAGE;
                      if (me == 0) {
                        long got = pmap.lookup(va); // writable, or protected by now: never lost
                        assertEquals(Pte.make(RUN + k, true, false), Pte.withBits(got, Pte.W));
                      } else if (k % 2 == me - 1) {
                        long want = Pte.make(RUN + k, true, false);
                        assertTrue(pmap.compareAndSet(va, want, Pte.withoutBits(want, Pte.W)));
                      }
                    }
                  } catch (Throwable e) {
                    failure[0] = e;
                  }
                });
      }
      for (Thread t : ts) {
        t.start();
      }
      for (Thread t : ts) {
        t.join();
      }
      if (failure[0] != null) {
        throw new AssertionError("round " + round, failure[0]);
      }
      assertEquals(0, pmap.superpages());
      assertEquals(round + 1, pmap.demotions(), "the racing changers demoted it once");
      pmap.checkInvariants();
      pmap.removeRange(SVA, SVA + SPAN, (a, l) -> {});
      pmap.prune(SVA, SVA + SPAN);
    }
  }

  // ---------------------------------------------------------------- PS leaves: release, prune

  @Test
  void release_withSuperpage_refusesNamingItAndFreesNothing() {
    enterSuperpage(pmap, superpage(false));
    int before = inUse();
    assertRefused(pmap::release, "still maps va 0x" + Long.toHexString(SVA), "PS");
    assertEquals(before, inUse());
    assertEquals(4 + 512, pmap.residentCount());
    assertRunStillHeld();
  }

  @Test
  void prune_superpage_neitherItsFramesNorItsPdNorItsDepositAreFreed() {
    long low = leaf(true);
    assertTrue(pmap.enter(SVA - PAGE, low)); // PD entry 2: a PT of its own
    enterSuperpage(pmap, superpage(false));
    assertEquals(low, pmap.remove(SVA - PAGE));
    assertEquals(1, pmap.prune(0, Pmap.USER_VA_LIMIT), "the emptied PT; the PD holds the leaf");
    assertEquals(4, pmap.tablePages());
    assertEquals(4 + 512, pmap.residentCount());
    assertEquals(superpage(false), mem.loadAcquire(tableOf(pmap, SVA, Level.PD), 3));
    assertEquals(0, pmap.prune(SVA, SVA + SPAN), "the 2 MiB leaf's own span: nothing to free");
    assertRunStillHeld();
    mem.free(Pte.frame(low));
  }

  // ---------------------------------------------------------------- PS leaves: what the checker
  // rejects (each in a second pmap, whose tree the test breaks on purpose)

  private Pmap broken() {
    Pmap q = Pmap.create(mem);
    enterSuperpage(q, superpage(false));
    q.checkInvariants();
    return q;
  }

  @Test
  void checkInvariants_superpageInPtEntry_rejected() {
    Pmap q = Pmap.create(mem);
    assertTrue(q.enter(SVA + SPAN, leaf(true)));
    mem.storeRelease(tableOf(q, SVA + SPAN, Level.PT), 9, superpage(false));
    assertRefused(q::checkInvariants, "PT entry 9", "a PS leaf lives only in a PD entry");
  }

  @Test
  void checkInvariants_superpageInPdpEntry_rejected() {
    Pmap q = broken();
    mem.storeRelease(tableOf(q, SVA, Level.PDP), 5, superpage(false));
    assertRefused(q::checkInvariants, "PDP entry 5", "never a leaf");
  }

  @Test
  void checkInvariants_superpageInPml4Entry_rejected() {
    Pmap q = Pmap.create(mem);
    mem.storeRelease(q.rootFrame(), 7, superpage(false));
    assertRefused(q::checkInvariants, "PML4 entry 7", "never a leaf");
  }

  @Test
  void checkInvariants_malformedSuperpages_rejected() {
    Pmap q = broken();
    int pd = tableOf(q, SVA, Level.PD);
    mem.storeRelease(pd, 3, Pte.make(RUN + 1, true, false) | Pte.PS);
    assertRefused(q::checkInvariants, "PD entry 3", "multiple of 512");
    mem.storeRelease(pd, 3, Pte.withoutBits(superpage(false), Pte.P));
    assertRefused(q::checkInvariants, "PD entry 3", "present, known bits only");
    mem.storeRelease(pd, 3, superpage(false) | (1L << 3));
    assertRefused(q::checkInvariants, "PD entry 3", "present, known bits only");
    mem.storeRelease(pd, 3, Pte.make(2048, true, false) | Pte.PS);
    assertRefused(q::checkInvariants, "PD entry 3", "past the last frame 2047");
    mem.storeRelease(pd, 3, superpage(false));
    q.checkInvariants();
  }

  @Test
  void checkInvariants_superpageOverAFreeOrTableFrame_rejected() {
    Pmap q = broken();
    mem.setFlag(RUN + 100, PhysMem.PTPAGE);
    assertRefused(q::checkInvariants, "maps frame " + (RUN + 100), "a page-table page");
    mem.clearFlag(RUN + 100, PhysMem.PTPAGE);
    mem.free(RUN + 200);
    assertRefused(q::checkInvariants, "maps frame " + (RUN + 200), "which is free");
    assertEquals(RUN + 200, mem.allocate(), "one stripe: the frame just freed comes back");
    q.checkInvariants();
  }

  @Test
  void checkInvariants_depositThatDiffersFromItsLeaf_rejected() {
    Pmap q = broken();
    int d = q.ref(SVA).table();
    long was = mem.loadAcquire(d, 511);
    mem.storeRelease(d, 511, 0);
    assertRefused(q::checkInvariants, "deposit", "page 511", "P7");
    mem.storeRelease(d, 511, was);
    int pd = tableOf(q, SVA, Level.PD);
    mem.storeRelease(pd, 3, superpage(true)); // the leaf gained WIRED, its deposit did not
    assertRefused(q::checkInvariants, "deposit", "page 0");
    mem.storeRelease(pd, 3, superpage(false));
    q.checkInvariants();
  }

  @Test
  void demotionLosesPage_bug_caughtByTheChecker() {
    Pmap q = Pmap.create(mem, new Pmap.Config(true, false, true));
    assertEquals(Pmap.Install.INSTALLED, q.enterSuperpage(SVA, superpage(true), deposit()));
    assertRefused(q::checkInvariants, "deposit", "page 511", "P7");
    assertTrue(q.compareAndSet(SVA, Pte.make(RUN, true, true), Pte.make(RUN, true, false)));
    assertEquals(0, q.lookup(SVA + SPAN - PAGE), "the demotion lost the last page");
    assertRefused(q::checkInvariants, "resident", "valid leaves of 511 pages");
  }

  // ---------------------------------------------------------------- Shared tables: counts

  @Test
  void linkShared_sharedTable_countsTheLinkNotTheTableNorItsLeaves() {
    int s = sharedTable(segment);
    assertEquals(Pmap.Install.INSTALLED, pmap.linkShared(SVA, s));
    pmap.checkInvariants();
    assertEquals(3, pmap.tablePages(), "P4: the shared PT is its owner's page");
    assertEquals(3 + 1, pmap.residentCount(), "P4: the link counts as the PT page (DragonFly)");
    // The owner's leaves: no sharer counts them, and the checker does not read them.
    mem.storeRelease(s, 5, leaf(true));
    mem.storeRelease(s, 6, Pte.make(mem.allocate(), true, true));
    pmap.checkInvariants();
    assertEquals(3 + 1, pmap.residentCount());
    assertEquals(0, pmap.wiredCount());
  }

  @Test
  void checkInvariants_sharedTableLinkedFromTwoPmaps_bothAccept() {
    int s = sharedTable(segment);
    Pmap other = Pmap.create(mem);
    assertEquals(Pmap.Install.INSTALLED, pmap.linkShared(SVA, s));
    assertEquals(Pmap.Install.INSTALLED, other.linkShared(SVA, s));
    pmap.checkInvariants();
    other.checkInvariants();
    mem.storeRelease(s, 5, leaf(true));
    assertEquals(pmap.lookup(SVA + 5 * PAGE), other.lookup(SVA + 5 * PAGE), "R49: one leaf");
    other.release();
    assertFalse(mem.testFlag(s, PhysMem.FREE));
  }

  // ---------------------------------------------------------------- Shared tables: operations

  @Test
  void lookup_throughSharedTable_readsTheOwnersLeaf() {
    int s = sharedTable(segment);
    assertEquals(Pmap.Install.INSTALLED, pmap.linkShared(SVA, s));
    long pte = leaf(true);
    mem.storeRelease(s, 5, pte);
    assertEquals(pte, pmap.lookup(SVA + 5 * PAGE + 16));
    assertEquals(0, pmap.lookup(SVA + 6 * PAGE));
  }

  @Test
  void pointOperations_onSharedTable_refuseAndChangeNothing() {
    int s = sharedTable(segment);
    assertEquals(Pmap.Install.INSTALLED, pmap.linkShared(SVA, s));
    long theirs = leaf(true);
    mem.storeRelease(s, 5, theirs);
    long pte = leaf(true);
    long va = SVA + 5 * PAGE;
    assertRefused(() -> pmap.enter(va, pte), "PD entry 3", "shared table", "of Segment");
    assertRefused(() -> pmap.install(va, theirs, pte), "shared table");
    assertRefused(() -> pmap.compareAndSet(va, theirs, 0), "shared table");
    assertRefused(() -> pmap.remove(va), "shared table");
    assertRefused(() -> pmap.reserveTable(SVA + 9 * PAGE), "shared table");
    assertEquals(theirs, mem.loadAcquire(s, 5));
    for (int i = 0; i < Pmap.ENTRIES; i++) {
      assertEquals(i == 5 ? theirs : 0, mem.loadAcquire(s, i));
    }
    assertEquals(3 + 1, pmap.residentCount());
    mem.free(Pte.frame(pte));
  }

  @Test
  void rangeOperations_overSharedTable_doTheRangeBelowThenRefuse() {
    int s = sharedTable(segment);
    long low = leaf(true);
    assertTrue(pmap.enter(SVA - PAGE, low));
    assertEquals(Pmap.Install.INSTALLED, pmap.linkShared(SVA, s));
    long theirs = leaf(true);
    mem.storeRelease(s, 0, theirs);
    List<Long> seen = new ArrayList<>();
    assertRefused(
        () -> pmap.forEachLeaf(0, Pmap.USER_VA_LIMIT, (va, pte) -> seen.add(va)), "shared table");
    assertEquals(List.of(SVA - PAGE), seen);
    assertRefused(() -> pmap.protect(0, Pmap.USER_VA_LIMIT), "shared table");
    assertFalse(Pte.isWritable(pmap.lookup(SVA - PAGE)));
    assertEquals(theirs, mem.loadAcquire(s, 0), "the owner's leaf keeps W");
    List<Long> removed = new ArrayList<>();
    assertRefused(
        () -> pmap.removeRange(0, Pmap.USER_VA_LIMIT, (va, leaf) -> removed.add(leaf)),
        "shared table");
    assertEquals(List.of(Pte.withoutBits(low, Pte.W)), removed);
    assertEquals(theirs, mem.loadAcquire(s, 0), "the owner's leaf stays");
  }

  @Test
  void removeRange_onlyASharedLinkResident_doesNotReturnEarly() {
    assertEquals(Pmap.Install.INSTALLED, pmap.linkShared(SVA, sharedTable(segment)));
    assertRefused(() -> pmap.removeRange(0, Pmap.USER_VA_LIMIT, (va, leaf) -> {}), "shared table");
    assertEquals(0, pmap.earlyReturns(), "P4: the link is resident, so the PML4 is not alone");
  }

  // ---------------------------------------------------------------- Shared tables: release, prune

  @Test
  void release_withSharedTable_unlinksItAndFreesOwnTablesOnly() {
    int s = sharedTable(segment);
    long low = leaf(true);
    assertTrue(pmap.enter(SVA - PAGE, low));
    assertEquals(Pmap.Install.INSTALLED, pmap.linkShared(SVA, s));
    long theirs = leaf(true);
    mem.storeRelease(s, 5, theirs);
    assertEquals(low, pmap.remove(SVA - PAGE));
    int before = inUse();
    pmap.release();
    assertEquals(before - 4, inUse(), "PML4, PDP, PD and the own PT; not the shared PT");
    assertEquals(0, pmap.residentCount(), "the link went with the PD");
    assertEquals(0, pmap.tablePages());
    assertFalse(mem.testFlag(s, PhysMem.FREE));
    assertTrue(mem.testFlag(s, PhysMem.PTPAGE));
    assertSame(segment, mem.owner(s));
    assertEquals(theirs, mem.loadAcquire(s, 5), "its owner's leaf is untouched");
    mem.free(Pte.frame(low));
  }

  @Test
  void prune_sharedTableHoldingALeaf_staysLinked() {
    int s = sharedTable(segment);
    assertEquals(Pmap.Install.INSTALLED, pmap.linkShared(SVA, s));
    long theirs = leaf(true);
    mem.storeRelease(s, 5, theirs);
    assertEquals(0, pmap.prune(0, Pmap.USER_VA_LIMIT));
    assertEquals(theirs, pmap.lookup(SVA + 5 * PAGE), "prune changes no translation");
    assertEquals(3 + 1, pmap.residentCount());
  }

  @Test
  void prune_emptySharedTable_unlinkedButNeverFreed() {
    int s = sharedTable(segment);
    assertEquals(Pmap.Install.INSTALLED, pmap.linkShared(SVA, s));
    int before = inUse();
    assertEquals(2, pmap.prune(0, Pmap.USER_VA_LIMIT), "the PD and the PDP; the shared PT is not");
    assertEquals(before - 2, inUse());
    assertEquals(1, pmap.residentCount(), "the link went too: the PML4 alone (D32569)");
    assertEquals(1, pmap.tablePages());
    assertFalse(mem.testFlag(s, PhysMem.FREE));
    assertTrue(mem.testFlag(s, PhysMem.PTPAGE));
    assertSame(segment, mem.owner(s));
    pmap.removeRange(0, Pmap.USER_VA_LIMIT, (va, leaf) -> {});
    assertEquals(1, pmap.earlyReturns());
  }

  // ---------------------------------------------------------------- Shared tables: the checker

  @Test
  void checkInvariants_sharedTableLinkedTwiceInOnePmap_accepted() {
    // Two mappings of one segment in one space (seed 001): both PD entries link its table.
    int s = sharedTable(segment);
    Pmap q = Pmap.create(mem);
    assertEquals(Pmap.Install.INSTALLED, q.linkShared(SVA, s));
    assertEquals(Pmap.Install.INSTALLED, q.linkShared(SVA + SPAN, s));
    q.checkInvariants();
    assertEquals(3 + 2, q.residentCount(), "PML4, PDP, PD and one per link (P4)");
    assertTrue(q.unlinkShared(SVA, s));
    assertTrue(q.unlinkShared(SVA + SPAN, s));
    q.checkInvariants();
  }

  @Test
  void checkInvariants_ownTableLinkedTwiceInOnePmap_rejected() {
    Pmap q = Pmap.create(mem);
    assertTrue(q.enter(SVA, leaf(true)));
    int pd = tableOf(q, SVA, Level.PD);
    mem.storeRelease(pd, 4, mem.loadAcquire(pd, 3));
    assertRefused(q::checkInvariants, "PD entry 4", "another entry of this pmap links too");
  }

  @Test
  void checkInvariants_tableOfAnotherOwnerAbovePd_rejected() {
    int s = sharedTable(segment);
    Pmap q = Pmap.create(mem);
    mem.storeRelease(q.rootFrame(), 6, Pte.sharedTable(s));
    assertRefused(q::checkInvariants, "PML4 entry 6", "only a PD entry may link a shared table");
    Pmap r = Pmap.create(mem);
    assertTrue(r.enter(SVA + SPAN, leaf(true)));
    mem.storeRelease(tableOf(r, SVA, Level.PDP), 7, Pte.sharedTable(sharedTable(segment)));
    assertRefused(r::checkInvariants, "PDP entry 7", "only a PD entry may link a shared table");
  }

  @Test
  void checkInvariants_sharedMarkWrongEitherWay_rejected() {
    Pmap q = Pmap.create(mem);
    int s = sharedTable(segment);
    assertEquals(Pmap.Install.INSTALLED, q.linkShared(SVA, s));
    int pd = tableOf(q, SVA, Level.PD);
    mem.storeRelease(pd, 3, Pte.table(s)); // a table of another owner, linked as if it were ours
    assertRefused(q::checkInvariants, "PD entry 3", "belongs to Segment", "without SHARED");
    mem.storeRelease(pd, 3, Pte.sharedTable(s));
    q.checkInvariants();
    assertTrue(q.enter(SVA + SPAN, leaf(true)));
    int pt = tableOf(q, SVA + SPAN, Level.PT);
    mem.storeRelease(pd, 4, Pte.sharedTable(pt)); // our own PT, marked shared
    assertRefused(q::checkInvariants, "PD entry 4", "as SHARED, but this pmap owns it");
  }

  @Test
  void checkInvariants_anotherPmapsOwnTable_acceptedOnlyAsAPdLink() {
    // DragonFly 2012 kept a shared PT in a truncated pmap of the VM object: the owner may be a
    // Pmap. Linked from a PD entry it is a shared table like any other.
    Pmap owner = Pmap.create(mem);
    assertTrue(owner.enter(SVA, leaf(true)));
    int pt = tableOf(owner, SVA, Level.PT);
    Pmap q = Pmap.create(mem);
    assertEquals(Pmap.Install.INSTALLED, q.linkShared(SVA, pt));
    q.checkInvariants();
    assertEquals(owner.lookup(SVA), q.lookup(SVA));
  }

  @Test
  void checkInvariants_sharedTableNotATableInUse_rejected() {
    Pmap q = Pmap.create(mem);
    int s = sharedTable(segment);
    assertEquals(Pmap.Install.INSTALLED, q.linkShared(SVA, s));
    int pd = tableOf(q, SVA, Level.PD);
    int data = mem.allocate();
    mem.storeRelease(pd, 4, Pte.sharedTable(data));
    assertRefused(q::checkInvariants, "PD entry 4", "not flagged PTPAGE");
    mem.setFlag(data, PhysMem.PTPAGE);
    assertRefused(q::checkInvariants, "PD entry 4", "belongs to no one");
    mem.storeRelease(pd, 4, 0);
    q.checkInvariants();
    mem.free(s);
    assertRefused(q::checkInvariants, "PD entry 3", "which is free");
  }
}
