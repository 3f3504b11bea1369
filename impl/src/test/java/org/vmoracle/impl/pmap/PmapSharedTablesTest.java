package org.vmoracle.impl.pmap;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.vmoracle.impl.phys.PhysMem;

/**
 * Seed 001's shared page tables (Pmap's invariant P6) as the VM will use them: the PT of a 2 MiB
 * segment belongs to a second Pmap, the truncated pmap DragonFly keeps in the VM object, and two
 * sharer pmaps link it from their PD entry for the same 2 MiB-aligned address ({@link
 * Pmap#linkShared}). The tests check the counts (P4), that one leaf the owner enters is every
 * sharer's (R49), that {@link Pmap#unlinkShared} and {@link Pmap#unshare} change one sharer's view
 * only, that release and the own-leaf walk treat a link as the essay says, and that the checker
 * accepts all three pmaps at each step. PmapSeedEntriesTest covers the other operations on a link
 * with a plain object as the owner.
 */
class PmapSharedTablesTest {
  private static final long PAGE = Pmap.PAGE_SIZE;
  private static final long SPAN = Level.PD.entryBytes(); // 2 MiB

  /** A 2 MiB-aligned address whose PML4, PDP and PD indices are 1, 2 and 3: the segment. */
  private static final long SVA = (1L << 39) | (2L << 30) | (3L << 21);

  /** The first frame of the 2 MiB-aligned run of 512 frames a PS leaf maps. */
  private static final int RUN = 512;

  private PhysMem mem;
  private Pmap owner; // the VM object's truncated pmap: owns the segment's PT
  private Pmap a; // a sharer
  private Pmap b; // another sharer
  private int pt; // the shared PT: the owner's PT for the segment

  @BeforeEach
  void setUp() {
    mem = new PhysMem(2048, 1);
    // Hold frames RUN .. RUN + 511 for a PS leaf; give the rest back for tables and data.
    List<Integer> others = new ArrayList<>();
    for (int f = mem.allocate(); f >= 0; f = mem.allocate()) {
      if (f < RUN || f >= RUN + 512) {
        others.add(f);
      }
    }
    others.forEach(mem::free);
    owner = Pmap.create(mem);
    a = Pmap.create(mem);
    b = Pmap.create(mem);
    assertTrue(owner.enter(SVA, leaf(true, false))); // builds the owner's PT for the segment
    pt = owner.ref(SVA).table();
  }

  @AfterEach
  void checkAll() {
    for (Pmap p : new Pmap[] {owner, a, b}) {
      p.checkInvariants();
    }
    mem.checkInvariants();
  }

  private void checkPmaps() {
    owner.checkInvariants();
    a.checkInvariants();
    b.checkInvariants();
  }

  private int inUse() {
    return mem.frames() - mem.freeFrames();
  }

  private long leaf(boolean writable, boolean wired) {
    int f = mem.allocate();
    assertTrue(f >= 0, "out of frames for data");
    return Pte.make(f, writable, wired);
  }

  private void link(Pmap p) {
    assertEquals(Pmap.Install.INSTALLED, p.linkShared(SVA, pt));
  }

  private static long page(int i) {
    return SVA + i * PAGE;
  }

  /** A frame as unshare takes it: fresh from allocate(). */
  private int fresh() {
    int f = mem.allocate();
    assertTrue(f >= 0, "out of frames for a copy");
    return f;
  }

  private record Visit(long va, long pte) {}

  // ---------------------------------------------------------------- linkShared: counts, reads

  @Test
  void linkShared_twoSharers_eachCountsTheLinkAndTheOwnerItsLeaves() {
    assertTrue(owner.enter(page(7), leaf(true, true)));
    link(a);
    link(b);
    checkPmaps();
    assertEquals(4, owner.tablePages(), "PML4, PDP, PD and the shared PT: the owner's pages");
    assertEquals(4 + 2, owner.residentCount(), "P4: the owner counts its leaves");
    assertEquals(1, owner.wiredCount());
    for (Pmap s : new Pmap[] {a, b}) {
      assertEquals(3, s.tablePages(), "P4: the shared PT is not the sharer's page");
      assertEquals(3 + 1, s.residentCount(), "P4: the link counts 1, the leaves nothing");
      assertEquals(0, s.wiredCount());
      assertEquals(pt, s.sharedTableAt(page(7) + 5));
      assertEquals(-1, s.sharedTableAt(SVA + SPAN), "the next PD entry links nothing");
      assertFalse(s.segmentIsEmpty(SVA));
    }
    assertEquals(-1, owner.sharedTableAt(SVA), "the owner links its own PT, no shared one");
  }

  @Test
  void lookup_leafTheOwnerInstallsAfterTheLink_seenByBothSharers() {
    link(a);
    link(b);
    long pte = leaf(true, false);
    assertEquals(Pmap.Install.INSTALLED, owner.install(page(9), 0, pte)); // one fault ...
    assertEquals(pte, a.lookup(page(9) + 16), "R49: ... serves all");
    assertEquals(pte, b.lookup(page(9)));
    assertEquals(new PteRef(pt, 9), a.ref(page(9)), "a sharer's PTE is the owner's");
    assertEquals(3 + 1, a.residentCount(), "P4: no sharer counts it");
    checkPmaps();
    assertEquals(pte, owner.remove(page(9)));
    assertEquals(0, a.lookup(page(9)), "and one removal unmaps it for all");
    assertEquals(0, b.lookup(page(9)));
    mem.free(Pte.frame(pte));
  }

  // ---------------------------------------------------------------- linkShared: refusals

  @Test
  void linkShared_badArguments_refusedWithNothingChanged() {
    int data = mem.allocate();
    int ownerless = mem.allocate();
    mem.setFlag(ownerless, PhysMem.PTPAGE);
    int free = mem.allocate();
    mem.free(free);
    assertTrue(a.enter(SVA + SPAN, leaf(true, false)));
    int ownPt = a.ref(SVA + SPAN).table();
    int before = inUse();
    long resident = a.residentCount();
    List<Executable> bad =
        List.of(
            () -> a.linkShared(SVA + PAGE, pt), // not 2 MiB-aligned
            () -> a.linkShared(Pmap.USER_VA_LIMIT, pt), // not a user address
            () -> a.linkShared(-SPAN, pt),
            () -> a.linkShared(SVA, -1),
            () -> a.linkShared(SVA, mem.frames()),
            () -> a.linkShared(SVA, data), // not a page-table page
            () -> a.linkShared(SVA, ownerless), // a page-table page of no one
            () -> a.linkShared(SVA, free),
            () -> a.linkShared(SVA, a.rootFrame()), // its own tables are linked by enter
            () -> a.linkShared(SVA, ownPt));
    for (Executable call : bad) {
      assertThrows(IllegalArgumentException.class, call);
    }
    assertEquals(before, inUse(), "no PDP or PD was built");
    assertEquals(resident, a.residentCount());
    assertEquals(-1, a.sharedTableAt(SVA));
    assertTrue(a.segmentIsEmpty(SVA));
    mem.clearFlag(ownerless, PhysMem.PTPAGE);
    mem.free(ownerless);
    mem.free(data);
  }

  @Test
  void linkShared_overAnOwnTableAPsLeafOrALink_changedAndNothingChanged() {
    Pmap q = Pmap.create(mem);
    long pte = leaf(true, false);
    assertTrue(q.enter(page(4), pte)); // an own PT at the segment
    long resident = q.residentCount();
    assertEquals(Pmap.Install.CHANGED, q.linkShared(SVA, pt));
    assertEquals(resident, q.residentCount(), "the failed CAS took its count back (P5)");
    assertEquals(pte, q.lookup(page(4)));
    q.checkInvariants();

    Pmap r = Pmap.create(mem);
    int deposit = mem.allocate();
    long pde = Pte.superpage(RUN, true, false);
    assertEquals(Pmap.Install.INSTALLED, r.enterSuperpage(SVA, pde, deposit));
    resident = r.residentCount();
    assertEquals(Pmap.Install.CHANGED, r.linkShared(SVA, pt));
    assertEquals(resident, r.residentCount());
    assertEquals(1, r.superpages(), "the PS leaf stays whole (P7)");
    assertEquals(0, r.demotions());
    r.checkInvariants();

    link(a);
    Pmap other = Pmap.create(mem);
    assertTrue(other.enter(SVA, leaf(true, false)));
    int otherPt = other.ref(SVA).table();
    assertEquals(Pmap.Install.CHANGED, a.linkShared(SVA, otherPt), "one link per PD entry");
    assertEquals(pt, a.sharedTableAt(SVA));
    assertEquals(3 + 1, a.residentCount());
  }

  @Test
  void linkShared_noFrameForThePd_noMemoryAndNothingChanged() {
    List<Integer> hoard = new ArrayList<>();
    for (int f = mem.allocate(); f >= 0; f = mem.allocate()) {
      hoard.add(f);
    }
    assertEquals(Pmap.Install.NO_MEMORY, a.linkShared(SVA, pt));
    assertEquals(1, a.residentCount());
    assertEquals(1, a.tablePages());
    hoard.forEach(mem::free);
  }

  // ---------------------------------------------------------------- unlinkShared

  @Test
  void unlinkShared_oneSharer_leavesTheOthersViewAndTheOwnersLeaves() {
    long pte = leaf(true, false);
    assertTrue(owner.enter(page(5), pte));
    link(a);
    link(b);
    int before = inUse();
    assertTrue(a.unlinkShared(SVA, pt));
    checkPmaps();
    assertEquals(3, a.residentCount(), "the link's 1 went (P4)");
    assertEquals(3, a.tablePages());
    assertEquals(before, inUse(), "nothing freed: the table is its owner's");
    assertEquals(0, a.lookup(page(5)));
    assertEquals(-1, a.sharedTableAt(SVA));
    assertTrue(a.segmentIsEmpty(SVA));
    assertEquals(pte, b.lookup(page(5)), "the other sharer still sees it");
    assertEquals(pte, owner.lookup(page(5)));
    assertEquals(4 + 2, owner.residentCount());
    assertFalse(mem.testFlag(pt, PhysMem.FREE));
    assertSame(owner, mem.owner(pt));
    assertFalse(a.unlinkShared(SVA, pt), "unlinked already");
    assertEquals(3, a.residentCount());
  }

  @Test
  void unlinkShared_noSuchLink_falseAndNothingChanged() {
    assertFalse(a.unlinkShared(SVA, pt), "no PD at all");
    link(a);
    assertFalse(a.unlinkShared(SVA, pt + 1), "a link to another table");
    assertFalse(a.unlinkShared(SVA + SPAN, pt), "another PD entry");
    assertTrue(owner.enter(page(3), leaf(true, false)));
    assertFalse(owner.unlinkShared(SVA, pt), "an own table is no link");
    assertEquals(4 + 2, owner.residentCount());
    assertEquals(pt, a.sharedTableAt(SVA));
    assertEquals(3 + 1, a.residentCount());
    assertThrows(IllegalArgumentException.class, () -> a.unlinkShared(SVA + PAGE, pt));
    assertThrows(IllegalArgumentException.class, () -> a.unlinkShared(SVA, -1));
    assertEquals(pt, a.sharedTableAt(SVA));
  }

  // ---------------------------------------------------------------- unshare

  @Test
  void unshare_copiesEveryLeafInAddressOrderAndCountsThem() {
    long[] leaves = {
      owner.lookup(SVA), leaf(true, true), leaf(false, false), leaf(true, true), leaf(true, false)
    };
    int[] at = {0, 1, 17, 300, 511};
    for (int k = 1; k < at.length; k++) {
      assertTrue(owner.enter(page(at[k]), leaves[k]));
    }
    link(a);
    link(b);
    long ownerResident = owner.residentCount();
    int f = fresh();
    List<Visit> visits = new ArrayList<>();
    assertTrue(a.unshare(SVA, f, (va, pte) -> visits.add(new Visit(va, pte))));
    checkPmaps();
    List<Visit> want = new ArrayList<>();
    for (int k = 0; k < at.length; k++) {
      want.add(new Visit(page(at[k]), leaves[k]));
    }
    assertEquals(want, visits, "each copied leaf, in address order");
    assertEquals(4, a.tablePages(), "the copy is a's own PT now");
    assertEquals(4 + 5, a.residentCount(), "P4: the link's 1 became the PT's; the leaves count");
    assertEquals(2, a.wiredCount());
    assertEquals(-1, a.sharedTableAt(SVA));
    assertSame(a, mem.owner(f));
    assertTrue(mem.testFlag(f, PhysMem.PTPAGE));
    assertEquals(new PteRef(f, 17), a.ref(page(17)));
    for (int k = 0; k < at.length; k++) {
      assertEquals(leaves[k], a.lookup(page(at[k])));
      assertEquals(leaves[k], b.lookup(page(at[k])));
      assertEquals(leaves[k], mem.loadAcquire(pt, at[k]), "the shared table is untouched");
    }
    assertEquals(0, a.lookup(page(2)));
    assertEquals(ownerResident, owner.residentCount());
    assertEquals(3 + 1, b.residentCount());
  }

  @Test
  void unshare_thenTheOwnerAddsALeaf_theCopyMissesItTheOtherSharerSeesIt() {
    long kept = owner.lookup(SVA);
    link(a);
    link(b);
    assertTrue(a.unshare(SVA, fresh(), (va, pte) -> {}));
    long later = leaf(true, false);
    assertEquals(Pmap.Install.INSTALLED, owner.install(page(8), 0, later));
    assertEquals(0, a.lookup(page(8)), "a's view is its copy");
    assertEquals(later, b.lookup(page(8)), "b still links the owner's table");
    checkPmaps();
    // The copy is a's own: the changers that refuse a link work on it, and touch no one else.
    a.protect(SVA, SVA + SPAN);
    assertFalse(Pte.isWritable(a.lookup(SVA)));
    assertTrue(Pte.isWritable(b.lookup(SVA)));
    assertTrue(Pte.isWritable(owner.lookup(SVA)));
    assertEquals(Pte.withoutBits(kept, Pte.W), a.remove(SVA));
    assertEquals(kept, b.lookup(SVA));
    assertEquals(4, a.residentCount());
    checkPmaps();
  }

  @Test
  void unshare_noLink_falseFreshFreedNoVisit() {
    List<Visit> visits = new ArrayList<>();
    int f = fresh();
    assertFalse(a.unshare(SVA, f, (va, pte) -> visits.add(new Visit(va, pte))), "no PD");
    assertTrue(mem.testFlag(f, PhysMem.FREE), "the pmap took the frame and gave it back");
    assertTrue(a.enter(SVA + SPAN, leaf(true, false)));
    f = fresh();
    assertFalse(a.unshare(SVA, f, (va, pte) -> visits.add(new Visit(va, pte))), "a 0 PD entry");
    assertTrue(mem.testFlag(f, PhysMem.FREE));
    f = fresh();
    int before = inUse();
    assertFalse(owner.unshare(SVA, f, (va, pte) -> visits.add(new Visit(va, pte))), "own PT");
    assertEquals(before - 1, inUse());
    assertEquals(List.of(), visits);
    assertEquals(4 + 1, owner.residentCount());
    assertEquals(pt, owner.ref(SVA).table());
  }

  @Test
  void unshare_badArguments_refusedLinkKeptFreshNotFreed() {
    link(a);
    int f = fresh();
    int data = mem.allocate();
    assertTrue(mem.tryBusy(data));
    mem.setOwner(data, "a file", 0);
    mem.unbusy(data);
    int free = fresh();
    mem.free(free);
    int before = inUse();
    List<Executable> bad =
        List.of(
            () -> a.unshare(SVA + PAGE, f, (va, pte) -> {}),
            () -> a.unshare(Pmap.USER_VA_LIMIT, f, (va, pte) -> {}),
            () -> a.unshare(SVA, -1, (va, pte) -> {}),
            () -> a.unshare(SVA, mem.frames(), (va, pte) -> {}),
            () -> a.unshare(SVA, pt, (va, pte) -> {}), // a page-table page, the owner's
            () -> a.unshare(SVA, data, (va, pte) -> {}), // someone's page
            () -> a.unshare(SVA, free, (va, pte) -> {}));
    for (Executable call : bad) {
      assertThrows(IllegalArgumentException.class, call);
    }
    assertThrows(NullPointerException.class, () -> a.unshare(SVA, f, null));
    assertEquals(before, inUse(), "nothing freed, nothing allocated");
    assertFalse(mem.testFlag(f, PhysMem.FREE));
    assertEquals(pt, a.sharedTableAt(SVA));
    assertEquals(3 + 1, a.residentCount());
    mem.free(f);
    mem.free(data);
  }

  @Test
  void unshare_visitorThrows_freshFreedLinkKeptCountsUnchanged() {
    assertTrue(owner.enter(page(1), leaf(true, true)));
    link(a);
    int f = fresh();
    RuntimeException boom = new RuntimeException("the reverse map is full");
    RuntimeException thrown =
        assertThrows(
            RuntimeException.class,
            () ->
                a.unshare(
                    SVA,
                    f,
                    (va, pte) -> {
                      if (va == page(1)) {
                        throw boom;
                      }
                    }));
    assertSame(boom, thrown);
    assertTrue(mem.testFlag(f, PhysMem.FREE));
    assertEquals(pt, a.sharedTableAt(SVA));
    assertEquals(3 + 1, a.residentCount());
    assertEquals(0, a.wiredCount());
    assertEquals(3, a.tablePages());
  }

  @Test
  void unshare_linkGoesDuringTheCopy_falseCountsUndoneFreshFreed() {
    // The caller's lock keeps this out; the visitor breaks that rule on purpose to drive the path
    // where the PD CAS fails after every visit.
    assertTrue(owner.enter(page(2), leaf(true, true)));
    link(a);
    int f = fresh();
    List<Visit> visits = new ArrayList<>();
    boolean replaced =
        a.unshare(
            SVA,
            f,
            (va, pte) -> {
              visits.add(new Visit(va, pte));
              if (visits.size() == 1) {
                assertTrue(a.unlinkShared(SVA, pt)); // someone unlinks it meanwhile
              }
            });
    assertFalse(replaced);
    assertEquals(2, visits.size(), "every leaf was visited: the caller undoes the visits");
    assertTrue(mem.testFlag(f, PhysMem.FREE));
    assertEquals(3, a.residentCount(), "the copy's counts taken back, the link's by its unlink");
    assertEquals(0, a.wiredCount());
    assertEquals(3, a.tablePages());
    assertTrue(a.segmentIsEmpty(SVA));
    assertEquals(visits.get(1).pte(), owner.lookup(page(2)), "the owner's leaves stay");
  }

  // ---------------------------------------------------------------- forEachOwnLeaf, release

  @Test
  void forEachOwnLeaf_skipsTheLinksSpan_forEachLeafStillRefuses() {
    long low = leaf(true, false);
    long high = leaf(true, false);
    assertTrue(a.enter(SVA - PAGE, low));
    assertTrue(a.enter(SVA + SPAN, high));
    link(a);
    List<Visit> own = new ArrayList<>();
    a.forEachOwnLeaf(0, Pmap.USER_VA_LIMIT, (va, pte) -> own.add(new Visit(va, pte)));
    assertEquals(List.of(new Visit(SVA - PAGE, low), new Visit(SVA + SPAN, high)), own);
    List<Long> all = new ArrayList<>();
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> a.forEachLeaf(0, Pmap.USER_VA_LIMIT, (va, pte) -> all.add(va)));
    assertTrue(e.getMessage().contains("shared table"), e.getMessage());
    assertEquals(List.of(SVA - PAGE), all, "the range below the link was visited");
    List<Long> inside = new ArrayList<>();
    a.forEachOwnLeaf(SVA + PAGE, SVA + 2 * PAGE, (va, pte) -> inside.add(va));
    assertEquals(List.of(), inside, "a range within the link's span");
    assertEquals(low, a.remove(SVA - PAGE));
    assertEquals(high, a.remove(SVA + SPAN));
  }

  @Test
  void release_sharerWithALink_unlinksAndFreesOnlyItsOwnTables() {
    long theirs = owner.lookup(SVA);
    long low = leaf(true, false);
    assertTrue(a.enter(SVA - PAGE, low)); // an own PT beside the link, in the same PD
    link(a);
    link(b);
    assertEquals(low, a.remove(SVA - PAGE));
    int before = inUse();
    a.release();
    assertEquals(before - 4, inUse(), "PML4, PDP, PD and the own PT; not the shared PT");
    assertEquals(0, a.residentCount());
    assertEquals(0, a.tablePages());
    assertFalse(mem.testFlag(pt, PhysMem.FREE));
    assertSame(owner, mem.owner(pt));
    assertEquals(theirs, b.lookup(SVA), "the other sharer's view stays");
    assertEquals(theirs, owner.lookup(SVA));
    assertEquals(pt, b.sharedTableAt(SVA));
    checkPmaps();
    mem.free(Pte.frame(low));
  }

  // ---------------------------------------------------------------- Concurrency

  /**
   * The owner's thread fills its PT (one fault serving all) while a sharer's thread looks the pages
   * up through its link: every lookup answers 0 or the leaf the owner installs there, never another
   * value, and once the owner is done the sharer sees every leaf.
   */
  @Test
  void ownerFillsWhileASharerLooksUp_everyLookupZeroOrTheLeaf() throws Exception {
    link(a);
    long[] leaves = new long[Pmap.ENTRIES];
    leaves[0] = owner.lookup(SVA);
    long[] data = new long[40]; // a few data frames, each mapped at several pages
    for (int k = 0; k < data.length; k++) {
      data[k] = leaf(true, false);
    }
    for (int i = 1; i < leaves.length; i++) {
      leaves[i] = data[i % data.length];
    }
    for (int round = 0; round < 20; round++) {
      CountDownLatch start = new CountDownLatch(1);
      AtomicBoolean done = new AtomicBoolean();
      AtomicReference<Throwable> failure = new AtomicReference<>();
      Thread filler =
          new Thread(
              () -> {
                try {
                  start.await();
                  for (int i = 1; i < leaves.length; i++) {
                    assertEquals(Pmap.Install.INSTALLED, owner.install(page(i), 0, leaves[i]));
                  }
                } catch (Throwable t) {
                  failure.compareAndSet(null, t);
                } finally {
                  done.set(true);
                }
              });
      Thread reader =
          new Thread(
              () -> {
                try {
                  start.await();
                  boolean last = false;
                  while (!last) {
                    last = done.get(); // one more full pass after the filler finished
                    for (int i = 0; i < leaves.length; i++) {
                      long got = a.lookup(page(i));
                      if (got != 0 && got != leaves[i] || last && got != leaves[i]) {
                        throw new AssertionError("page " + i + ": " + Pte.toString(got));
                      }
                    }
                  }
                } catch (Throwable t) {
                  failure.compareAndSet(null, t);
                }
              });
      filler.start();
      reader.start();
      start.countDown();
      filler.join();
      reader.join();
      if (failure.get() != null) {
        throw new AssertionError("round " + round, failure.get());
      }
      checkPmaps();
      assertEquals(4 + 512, owner.residentCount());
      assertEquals(3 + 1, a.residentCount());
      owner.removeRange(page(1), SVA + SPAN, (va, pte) -> {});
    }
  }

  /**
   * One thread links and unlinks the shared table over and over while another looks a page up
   * through it: every lookup answers 0 or the owner's leaf, and the counts come out exact.
   */
  @Test
  void linkAndUnlinkWhileASharerLooksUp_everyLookupZeroOrTheLeaf() throws Exception {
    long theirs = owner.lookup(SVA);
    assertTrue(a.reserveDirectory(SVA));
    CountDownLatch start = new CountDownLatch(1);
    AtomicBoolean done = new AtomicBoolean();
    AtomicReference<Throwable> failure = new AtomicReference<>();
    Thread linker =
        new Thread(
            () -> {
              try {
                start.await();
                for (int k = 0; k < 20_000; k++) {
                  assertEquals(Pmap.Install.INSTALLED, a.linkShared(SVA, pt));
                  assertTrue(a.unlinkShared(SVA, pt));
                }
              } catch (Throwable t) {
                failure.compareAndSet(null, t);
              } finally {
                done.set(true);
              }
            });
    Thread reader =
        new Thread(
            () -> {
              try {
                start.await();
                while (!done.get()) {
                  long got = a.lookup(SVA);
                  if (got != 0 && got != theirs) {
                    throw new AssertionError(Pte.toString(got));
                  }
                  assertTrue(a.residentCount() >= 3, "P5: never below the true count");
                }
              } catch (Throwable t) {
                failure.compareAndSet(null, t);
              }
            });
    linker.start();
    reader.start();
    start.countDown();
    linker.join();
    reader.join();
    if (failure.get() != null) {
      throw new AssertionError(failure.get());
    }
    assertEquals(3, a.residentCount());
    assertTrue(a.segmentIsEmpty(SVA));
  }
}
