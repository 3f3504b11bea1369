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
 * The entries seeds 003 and 001 will make, which {@link Pmap} understands before any operation
 * makes them (P6): a 2 MiB PS leaf in a PD entry, and a PD entry linking a page table that someone
 * else owns (a shared table). They come in through the test hook {@link Pmap#plantPdEntry}. The
 * tests check what each operation does on meeting one, that release and prune never free one, how
 * they count (P4), and what the checker accepts (P1, P3). The fixture's pmap and memory are checked
 * after every test; tests that break a tree on purpose do it in a second pmap.
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

  @Test
  void plantPdEntry_superpage_checkerAcceptsAndCounts512() {
    assertTrue(pmap.plantPdEntry(SVA, superpage(false)));
    pmap.checkInvariants();
    assertEquals(3, pmap.tablePages(), "PML4, PDP, PD: no PT under a 2 MiB leaf");
    assertEquals(3 + 512, pmap.residentCount(), "P4: a 2 MiB leaf counts NBPDR / PAGE_SIZE");
    assertEquals(0, pmap.wiredCount());
    assertEquals(superpage(false), mem.loadAcquire(tableOf(pmap, SVA, Level.PD), 3));
  }

  @Test
  void plantPdEntry_wiredSuperpage_counts512Wired() {
    assertTrue(pmap.plantPdEntry(SVA, superpage(true)));
    assertEquals(512, pmap.wiredCount(), "P4: FreeBSD counts a wired 2 MiB page as 512");
    assertEquals(3 + 512, pmap.residentCount());
  }

  // ---------------------------------------------------------------- PS leaves: operations (P6)

  @Test
  void lookup_underSuperpage_refusesNamingThePdEntry() {
    assertTrue(pmap.plantPdEntry(SVA, superpage(false)));
    assertRefused(() -> pmap.lookup(SVA + 5 * PAGE + 8), "PD entry 3", "PS leaf", "seed 003");
    assertRefused(() -> pmap.lookup(SVA), "PD entry 3");
    assertEquals(0, pmap.lookup(SVA + SPAN), "the next PD entry is an ordinary hole");
  }

  @Test
  void pointOperations_underSuperpage_refuseAndChangeNothing() {
    assertTrue(pmap.plantPdEntry(SVA, superpage(false)));
    long pte = leaf(true);
    long va = SVA + 7 * PAGE;
    int before = inUse();
    assertRefused(() -> pmap.enter(va, pte), "PD entry 3", "PS leaf");
    assertRefused(() -> pmap.install(va, 0, pte), "PS leaf");
    assertRefused(() -> pmap.compareAndSet(va, 0, pte), "PS leaf");
    assertRefused(() -> pmap.remove(va), "PS leaf");
    assertRefused(() -> pmap.reserveTable(va), "PS leaf");
    assertEquals(before, inUse(), "no table was allocated under the 2 MiB leaf");
    assertEquals(3 + 512, pmap.residentCount());
    assertEquals(superpage(false), mem.loadAcquire(tableOf(pmap, SVA, Level.PD), 3));
    mem.free(Pte.frame(pte));
  }

  @Test
  void protect_rangeOverSuperpage_protectsBelowItThenRefuses() {
    long low = leaf(true);
    long high = leaf(true);
    assertTrue(pmap.enter(SVA - PAGE, low));
    assertTrue(pmap.enter(SVA + SPAN, high));
    assertTrue(pmap.plantPdEntry(SVA, superpage(false)));
    assertRefused(() -> pmap.protect(SVA - PAGE, SVA + SPAN + PAGE), "PD entry 3", "PS leaf");
    assertFalse(Pte.isWritable(pmap.lookup(SVA - PAGE)), "below it, in address order: done");
    assertTrue(Pte.isWritable(pmap.lookup(SVA + SPAN)), "above it: untouched");
    assertEquals(superpage(false), mem.loadAcquire(tableOf(pmap, SVA, Level.PD), 3), "W kept");
  }

  @Test
  void removeRange_rangeOverSuperpage_removesBelowItThenRefuses() {
    long low = leaf(true);
    long high = leaf(true);
    assertTrue(pmap.enter(SVA - PAGE, low));
    assertTrue(pmap.enter(SVA + SPAN, high));
    assertTrue(pmap.plantPdEntry(SVA, superpage(false)));
    List<Long> removed = new ArrayList<>();
    assertRefused(
        () -> pmap.removeRange(0, Pmap.USER_VA_LIMIT, (va, leaf) -> removed.add(leaf)), "PS leaf");
    assertEquals(List.of(low), removed);
    assertEquals(high, pmap.lookup(SVA + SPAN));
    assertEquals(0, pmap.earlyReturns(), "512 resident pages: never the early return");
    assertRunStillHeld();
  }

  @Test
  void forEachLeaf_rangeOverSuperpage_visitsBelowItThenRefuses() {
    long low = leaf(true);
    assertTrue(pmap.enter(SVA - PAGE, low));
    assertTrue(pmap.enter(SVA + SPAN, leaf(true)));
    assertTrue(pmap.plantPdEntry(SVA, superpage(false)));
    List<Long> seen = new ArrayList<>();
    assertRefused(() -> pmap.forEachLeaf(0, Pmap.USER_VA_LIMIT, (va, pte) -> seen.add(va)));
    assertEquals(List.of(SVA - PAGE), seen);
  }

  @Test
  void rangeOperations_besideSuperpage_workAsBefore() {
    long low = leaf(true);
    long high = leaf(true);
    assertTrue(pmap.enter(SVA - PAGE, low));
    assertTrue(pmap.enter(SVA + SPAN, high));
    assertTrue(pmap.plantPdEntry(SVA, superpage(false)));
    pmap.protect(SVA + SPAN, Pmap.USER_VA_LIMIT);
    assertFalse(Pte.isWritable(pmap.lookup(SVA + SPAN)));
    List<Long> seen = new ArrayList<>();
    pmap.forEachLeaf(0, SVA, (va, pte) -> seen.add(va));
    assertEquals(List.of(SVA - PAGE), seen);
    List<Long> removed = new ArrayList<>();
    pmap.removeRange(0, SVA, (va, leaf) -> removed.add(leaf));
    pmap.removeRange(SVA + SPAN, Pmap.USER_VA_LIMIT, (va, leaf) -> removed.add(leaf));
    assertEquals(List.of(low, Pte.withoutBits(high, Pte.W)), removed);
    assertEquals(5 + 512, pmap.residentCount(), "PML4, PDP, PD, 2 PTs and the 2 MiB leaf");
  }

  // ---------------------------------------------------------------- PS leaves: release, prune

  @Test
  void release_withSuperpage_refusesNamingItAndFreesNothing() {
    assertTrue(pmap.plantPdEntry(SVA, superpage(false)));
    int before = inUse();
    assertRefused(pmap::release, "still maps va 0x" + Long.toHexString(SVA), "PS");
    assertEquals(before, inUse());
    assertEquals(3 + 512, pmap.residentCount());
    assertRunStillHeld();
  }

  @Test
  void prune_superpage_neitherItsFramesNorItsPdAreFreed() {
    long low = leaf(true);
    assertTrue(pmap.enter(SVA - PAGE, low)); // PD entry 2: a PT of its own
    assertTrue(pmap.plantPdEntry(SVA, superpage(false)));
    assertEquals(low, pmap.remove(SVA - PAGE));
    assertEquals(1, pmap.prune(0, Pmap.USER_VA_LIMIT), "the emptied PT; the PD holds the leaf");
    assertEquals(3, pmap.tablePages());
    assertEquals(3 + 512, pmap.residentCount());
    assertEquals(superpage(false), mem.loadAcquire(tableOf(pmap, SVA, Level.PD), 3));
    assertEquals(0, pmap.prune(SVA, SVA + SPAN), "the 2 MiB leaf's own span: nothing to free");
    assertRunStillHeld();
    mem.free(Pte.frame(low));
  }

  // ---------------------------------------------------------------- PS leaves: what the checker
  // rejects (each in a second pmap, whose tree the test breaks on purpose)

  private Pmap broken() {
    Pmap q = Pmap.create(mem);
    assertTrue(q.plantPdEntry(SVA, superpage(false)));
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

  // ---------------------------------------------------------------- Shared tables: counts

  @Test
  void plantPdEntry_sharedTable_countsTheLinkNotTheTableNorItsLeaves() {
    int s = sharedTable(segment);
    assertTrue(pmap.plantPdEntry(SVA, Pte.sharedTable(s)));
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
    assertTrue(pmap.plantPdEntry(SVA, Pte.sharedTable(s)));
    assertTrue(other.plantPdEntry(SVA, Pte.sharedTable(s)));
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
    assertTrue(pmap.plantPdEntry(SVA, Pte.sharedTable(s)));
    long pte = leaf(true);
    mem.storeRelease(s, 5, pte);
    assertEquals(pte, pmap.lookup(SVA + 5 * PAGE + 16));
    assertEquals(0, pmap.lookup(SVA + 6 * PAGE));
  }

  @Test
  void pointOperations_onSharedTable_refuseAndChangeNothing() {
    int s = sharedTable(segment);
    assertTrue(pmap.plantPdEntry(SVA, Pte.sharedTable(s)));
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
    assertTrue(pmap.plantPdEntry(SVA, Pte.sharedTable(s)));
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
    assertTrue(pmap.plantPdEntry(SVA, Pte.sharedTable(sharedTable(segment))));
    assertRefused(() -> pmap.removeRange(0, Pmap.USER_VA_LIMIT, (va, leaf) -> {}), "shared table");
    assertEquals(0, pmap.earlyReturns(), "P4: the link is resident, so the PML4 is not alone");
  }

  // ---------------------------------------------------------------- Shared tables: release, prune

  @Test
  void release_withSharedTable_unlinksItAndFreesOwnTablesOnly() {
    int s = sharedTable(segment);
    long low = leaf(true);
    assertTrue(pmap.enter(SVA - PAGE, low));
    assertTrue(pmap.plantPdEntry(SVA, Pte.sharedTable(s)));
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
    assertTrue(pmap.plantPdEntry(SVA, Pte.sharedTable(s)));
    long theirs = leaf(true);
    mem.storeRelease(s, 5, theirs);
    assertEquals(0, pmap.prune(0, Pmap.USER_VA_LIMIT));
    assertEquals(theirs, pmap.lookup(SVA + 5 * PAGE), "prune changes no translation");
    assertEquals(3 + 1, pmap.residentCount());
  }

  @Test
  void prune_emptySharedTable_unlinkedButNeverFreed() {
    int s = sharedTable(segment);
    assertTrue(pmap.plantPdEntry(SVA, Pte.sharedTable(s)));
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
  void checkInvariants_sharedTableLinkedTwiceInOnePmap_rejected() {
    int s = sharedTable(segment);
    Pmap q = Pmap.create(mem);
    assertTrue(q.plantPdEntry(SVA, Pte.sharedTable(s)));
    mem.storeRelease(tableOf(q, SVA, Level.PD), 4, Pte.sharedTable(s));
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
    assertTrue(q.plantPdEntry(SVA, Pte.sharedTable(s)));
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
    assertTrue(q.plantPdEntry(SVA, Pte.sharedTable(pt)));
    q.checkInvariants();
    assertEquals(owner.lookup(SVA), q.lookup(SVA));
  }

  @Test
  void checkInvariants_sharedTableNotATableInUse_rejected() {
    Pmap q = Pmap.create(mem);
    int s = sharedTable(segment);
    assertTrue(q.plantPdEntry(SVA, Pte.sharedTable(s)));
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

  // ---------------------------------------------------------------- The hook itself

  @Test
  void plantPdEntry_badArguments_throwAndChangeNothing() {
    int data = mem.allocate();
    int s = sharedTable(segment);
    int before = inUse();
    assertThrows(
        IllegalArgumentException.class, () -> pmap.plantPdEntry(SVA + PAGE, superpage(false)));
    assertThrows(
        IllegalArgumentException.class,
        () -> pmap.plantPdEntry(SVA, Pte.withoutBits(superpage(false), Pte.P)));
    assertThrows(
        IllegalArgumentException.class,
        () -> pmap.plantPdEntry(SVA, Pte.make(RUN + 8, true, false) | Pte.PS));
    assertThrows(
        IllegalArgumentException.class, () -> pmap.plantPdEntry(SVA, Pte.make(data, true, false)));
    assertThrows(
        IllegalArgumentException.class, () -> pmap.plantPdEntry(SVA, Pte.sharedTable(data)));
    assertThrows(
        IllegalArgumentException.class,
        () -> pmap.plantPdEntry(SVA, Pte.table(s)),
        "a link to a shared table carries SHARED_TABLE");
    assertThrows(
        IllegalArgumentException.class,
        () -> pmap.plantPdEntry(SVA, Pte.sharedTable(pmap.rootFrame())),
        "a table this pmap owns is linked by enter, not planted");
    assertEquals(before, inUse());
    assertEquals(1, pmap.residentCount());
    assertTrue(pmap.plantPdEntry(SVA, superpage(false)));
    assertRefused(() -> pmap.plantPdEntry(SVA, Pte.sharedTable(s)), "not 0");
    assertEquals(3 + 512, pmap.residentCount(), "the failed CAS took its count back");
    mem.free(data);
  }
}
