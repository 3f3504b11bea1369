package org.vmoracle.impl.mmu;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.phys.PhysMem;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.impl.rmap.ReverseMap;
import org.vmoracle.impl.sync.ScalableRwLock;

/**
 * The one writer of page tables: every leaf PTE is entered, cleared, write-protected and wired
 * here, and every page-table page is made and freed through here (FreeBSD's pmap_enter /
 * pmap_remove boundary between the machine-independent VM and the pmap).
 *
 * <h2>Overview</h2>
 *
 * Three things must follow every change of a leaf, and this class is where they do:
 *
 * <ul>
 *   <li>the frame wire counts: a leaf with the WIRED bit holds one wire on its frame ({@link
 *       PhysMem#wire}); pageout never evicts a frame with a wire (SYS-3);
 *   <li>the reverse map ({@link ReverseMap#mapped}, {@link ReverseMap#unmapped}): a design that
 *       keeps one record per PTE (pv entries, pte chains; seed 004) must hear of each;
 *   <li>the pmap's own counts, which {@link Pmap} keeps itself.
 * </ul>
 *
 * The rule for a change of a leaf from {@code old} to {@code now} (each 0 or a valid leaf) is the
 * same for every caller, in two halves around the compare-and-set:
 *
 * <ol>
 *   <li>before it ({@link #before}): a wire is taken for {@code now} if it is WIRED, and the
 *       reverse map hears "mapped" for {@code now} if its frame is not {@code old}'s;
 *   <li>after it succeeded ({@link #after}): a wire is dropped for {@code old} if it was WIRED, and
 *       the reverse map hears "unmapped" for {@code old} if its frame is not {@code now}'s; after
 *       it failed ({@link #undo}), the first half is given back.
 * </ol>
 *
 * So a frame that stays wired never drops to zero wires on the way, and a change that keeps the
 * frame (a write-protect, a new WIRED bit) tells the reverse map nothing. The first half comes
 * before the CAS because a PTE is public from its CAS on: another thread's copy-on-write fault,
 * under the shared map lock, may clear it at once ({@code fault.Fault}'s unmapDeeper), and that
 * clearer's {@link #after} must find the wire and the record to take back. (Told after the CAS, it
 * could find neither: an unwire of an unwired frame, a pv entry or chain slot not there. The
 * Lincheck classes found it on pv entries and pte chains.)
 *
 * <p>Two changes tell the reverse map after their CAS instead, each because nothing can clear the
 * new PTEs first: {@link #installSuperpage} (its 512 frames are held busy, and the chain they front
 * is one object deep) and {@link #unshare} (under the exclusive lock). Both must, because a pte
 * chain names a PTE by its table, and before their CAS that table is not yet the one the PTE will
 * live in (the deposit of a PS leaf; the private copy of a shared table).
 *
 * <h2>Shared tables (seed 001)</h2>
 *
 * A shared table's leaves are its object's: they are written through the object's pseudo-entry
 * ({@code map.SharedTables}), whose pmap owns the table, like any leaf of any entry, and are told
 * to the reverse map once, under that entry. A sharer's space only links the table: {@link
 * #linkShared} (a fault, either lock mode), and, under the exclusive lock, {@link #removeRange}
 * (which unlinks before it removes), {@link #unshare} (a private copy before a change of this space
 * alone: mprotect, mlock) and {@link #dropLink}. No sharer's leaf change ever reaches a shared
 * table: the pmap refuses one (its invariant P6).
 *
 * <h2>Concurrency</h2>
 *
 * Lock-free like the pmap; every leaf change is the pmap's compare-and-set, with the bookkeeping
 * around it as above. Callers hold the map lock as each method says; faults under the shared lock
 * call {@link #install}, {@link #replace} and {@link #reserveTable}. A concurrent reader of a wire
 * count may see it lead or lag the leaf by the bookkeeping; every reader that acts on wire counts
 * (pageout, the invariant checker) holds the map lock exclusive, so no change is in flight then.
 *
 * <h2>Invariants</h2>
 *
 * M1. When no call is in flight, a frame's wire count equals the WIRED leaves that map it, plus one
 * if it is pinned ({@link #pin}: the shared page); the implementation's invariant checker verifies
 * it; while calls are in flight it may exceed that, never fall short of it. M2. Every valid leaf
 * was told to the reverse map by {@link ReverseMap#mapped} and not since by {@link
 * ReverseMap#unmapped} (in flight, a record may also stand for a leaf about to be made or just
 * cleared); a reverse map that keeps records verifies it in {@link ReverseMap#checkMapping} and
 * {@link ReverseMap#checkInvariants} (the backing scan keeps none, and checks instead that its scan
 * would find every leaf).
 *
 * <p>Lock order: none of its own; it takes no lock.
 */
public final class Mmu {
  /** 4 KiB pages in a 2 MiB PS leaf. */
  private static final int SEGMENT_PAGES = Pmap.ENTRIES;

  private final PhysMem mem; // (c)
  private final ReverseMap rmap; // (c)
  private final ScalableRwLock lock; // (c) for assertions only
  private final Pmap.Config pmapConfig; // (c)
  private final boolean keepWireOnRepoint; // (c) the injected bug WIRE_KEPT_ON_REPOINT
  private final boolean clearsSharedTables; // (c) the injected bug UNMAP_CLEARS_SHARED_TABLE

  /** The PTE writer over {@code mem}, telling {@code rmap}; pmaps it makes use {@code config}. */
  public Mmu(PhysMem mem, ReverseMap rmap, ScalableRwLock lock, Pmap.Config pmapConfig) {
    this(mem, rmap, lock, pmapConfig, false);
  }

  /**
   * The PTE writer, with the injected bug {@code core.Bug.WIRE_KEPT_ON_REPOINT} when {@code
   * keepWireOnRepoint}: replacing a wired leaf by one of another frame keeps the old frame's wire.
   */
  public Mmu(
      PhysMem mem,
      ReverseMap rmap,
      ScalableRwLock lock,
      Pmap.Config pmapConfig,
      boolean keepWireOnRepoint) {
    this(mem, rmap, lock, pmapConfig, keepWireOnRepoint, false);
  }

  /**
   * The PTE writer, with the injected bugs {@code core.Bug.WIRE_KEPT_ON_REPOINT} ({@code
   * keepWireOnRepoint}) and {@code core.Bug.UNMAP_CLEARS_SHARED_TABLE} ({@code clearsSharedTables}:
   * removing a range clears the leaves of the shared tables it links instead of only unlinking
   * them).
   */
  public Mmu(
      PhysMem mem,
      ReverseMap rmap,
      ScalableRwLock lock,
      Pmap.Config pmapConfig,
      boolean keepWireOnRepoint,
      boolean clearsSharedTables) {
    this.mem = Objects.requireNonNull(mem, "mem");
    this.rmap = Objects.requireNonNull(rmap, "rmap");
    this.lock = Objects.requireNonNull(lock, "lock");
    this.pmapConfig = Objects.requireNonNull(pmapConfig, "pmapConfig");
    this.keepWireOnRepoint = keepWireOnRepoint;
    this.clearsSharedTables = clearsSharedTables;
  }

  /** The reverse map this writer tells. No requirements. */
  public ReverseMap rmap() {
    return rmap;
  }

  // ---------------------------------------------------------------- Page tables

  /**
   * A new, empty pmap, or null when no frame is free for its top-level page. The caller holds the
   * map lock exclusive.
   */
  public Pmap newPmap() {
    assert lock.heldExclusively() : "Mmu.newPmap: the caller holds the map lock exclusive";
    return Pmap.create(mem, pmapConfig);
  }

  /**
   * Frees every page-table page of {@code sp}'s pmap; it maps nothing any more. The caller holds
   * the map lock exclusive and no one uses {@code sp} again.
   */
  public void release(VmSpace sp) {
    assert lock.heldExclusively() : "Mmu.release: the caller holds the map lock exclusive";
    sp.pmap.release();
  }

  /**
   * Makes sure the page-table page for the leaf at {@code va} of {@code e} exists; false when no
   * frame is free (see {@link Pmap#reserveTable}). The caller holds the map lock.
   */
  public boolean reserveTable(MapEntry e, long va) {
    return e.space.pmap.reserveTable(va);
  }

  /**
   * Makes sure the PD for a 2 MiB leaf at {@code va} of {@code e} exists; false when no frame is
   * free (see {@link Pmap#reserveDirectory}). The caller holds the map lock.
   */
  public boolean reserveDirectory(MapEntry e, long va) {
    return e.space.pmap.reserveDirectory(va);
  }

  /**
   * Frees the page-table pages that [from, to) of {@code e}'s space emptied, and answers how many
   * (FreeBSD's pmap_unuse_pt). The caller holds the map lock exclusive, so no walker holds one.
   */
  public long prune(MapEntry e, long from, long to) {
    assert lock.heldExclusively() : "Mmu.prune: the caller holds the map lock exclusive";
    return e.space.pmap.prune(from, to);
  }

  // ---------------------------------------------------------------- Leaves

  /**
   * The fault handler's install: replaces the leaf at {@code va} of {@code e} with {@code pte} if
   * it is {@code expect} (0: none), allocating missing tables when {@code expect} is 0 ({@link
   * Pmap#install}), keeping wire counts and the reverse map (the class essay). With a reverse map
   * that keeps records the table is made first, since a record names the PTE by it. The caller
   * holds the map lock (either mode) and the frame of {@code pte} busy.
   */
  public Pmap.Install install(MapEntry e, long va, long expect, long pte) {
    if (expect == 0 && rmap.keepsRecords() && !e.space.pmap.reserveTable(va)) {
      return Pmap.Install.NO_MEMORY;
    }
    before(e, va, expect, pte);
    Pmap.Install r = e.space.pmap.install(va, expect, pte);
    if (r == Pmap.Install.INSTALLED) {
      after(e, va, expect, pte);
    } else {
      undo(e, va, expect, pte);
    }
    return r;
  }

  /**
   * The wiring fast path's install (seed 003): maps the 512 frames of {@code pde}, a 2 MiB PS leaf,
   * at {@code va} of {@code e} if its PD entry is 0 ({@link Pmap#enterSuperpage}, which takes
   * {@code deposit} as the table its demotion will link), keeping wire counts and the reverse map
   * for each of the 512 pages as for a 4 KiB leaf. Answers what the pmap answered; on anything but
   * INSTALLED nothing changed and the deposit is freed.
   *
   * <p>The wires go before the CAS, as {@link #before} does. The reverse map hears of the 512 pages
   * after it, once the leaf and with it the deposit that pte chains name the PTEs by are in place
   * ({@link Pmap#ref} names a slot of the deposit): no one can clear one of these PTEs first, since
   * the caller holds the 512 frames busy, so no fault maps or replaces them, and they are the front
   * pages of a chain of one object or the pages of a shared one, which no copy-on-write of another
   * group clears (the race of the class essay needs a deeper level).
   *
   * <p>The caller holds the map lock (either mode) and the 512 frames busy, filled and in their
   * object at the pages {@code e} maps from {@code va}.
   */
  public Pmap.Install installSuperpage(MapEntry e, long va, long pde, int deposit) {
    int base = Pte.frame(pde);
    boolean wired = Pte.isWired(pde);
    if (wired) {
      for (int k = 0; k < SEGMENT_PAGES; k++) {
        mem.wire(base + k);
      }
    }
    Pmap.Install r = e.space.pmap.enterSuperpage(va, pde, deposit);
    if (r != Pmap.Install.INSTALLED) {
      if (wired) {
        for (int k = 0; k < SEGMENT_PAGES; k++) {
          mem.unwire(base + k);
        }
      }
      return r;
    }
    for (int k = 0; k < SEGMENT_PAGES; k++) {
      rmap.mapped(e, va + ((long) k << Pmap.PAGE_SHIFT), Pte.pageOf(pde, k));
    }
    return r;
  }

  /**
   * Replaces the leaf at {@code va} of {@code e} with {@code update} if it is {@code expect} (0 as
   * either: no leaf), never allocating a table; on success keeps wire counts and the reverse map.
   * Answers whether it replaced. This one call clears a PTE ({@code update} 0), maps one where a
   * table exists ({@code expect} 0), re-points one, and sets or clears its WIRED bit. The caller
   * holds the map lock (either mode).
   */
  public boolean replace(MapEntry e, long va, long expect, long update) {
    if (expect == 0 && rmap.keepsRecords() && e.space.pmap.ref(va) == null) {
      return false; // no table, so no leaf: the CAS would fail, and a record would name nothing
    }
    before(e, va, expect, update);
    if (!e.space.pmap.compareAndSet(va, expect, update)) {
      undo(e, va, expect, update);
      return false;
    }
    after(e, va, expect, update);
    return true;
  }

  /**
   * Clears W on every leaf of [from, to) in {@code e}'s space (PROT-2, and fork's write-protect of
   * a group, kernels.md R12). Frames, wires and the reverse map stay as they are. The caller holds
   * the map lock exclusive.
   */
  public void protect(MapEntry e, long from, long to) {
    assert lock.heldExclusively() : "Mmu.protect: the caller holds the map lock exclusive";
    unshare(e, from, to);
    e.space.pmap.protect(from, to);
  }

  // ---------------------------------------------------------------- Shared tables (seed 001)

  /**
   * Links the shared table in frame {@code pt} from the PD entry of {@code e}'s space for the
   * segment at {@code seg} ({@link Pmap#linkShared}). The caller holds the map lock (either mode)
   * and has checked that {@code e} may share it there (SharedTables.shareable).
   */
  public Pmap.Install linkShared(MapEntry e, long seg, int pt) {
    return e.space.pmap.linkShared(seg, pt);
  }

  /**
   * The shared tables {@code e}'s space links in [from, to): how many private copies {@link
   * #unshare} of that range would make, each one frame. The caller holds the map lock.
   */
  public int sharedLinks(MapEntry e, long from, long to) {
    if (!mayLink(e)) {
      return 0;
    }
    int[] n = {0};
    e.space.pmap.forEachSharedLink(from, to, (seg, pt) -> n[0]++);
    return n[0];
  }

  /**
   * Gives {@code e}'s space a private copy of every shared table it links in [from, to), before a
   * change that is this space's alone (mprotect, mlock; seed 001): the copy's leaves are this
   * space's PTEs from then on, told to the reverse map as new ones. The frames come from the free
   * pool, which the caller has made sure holds one per link ({@link #sharedLinks}), so nothing
   * fails halfway. The caller holds the map lock exclusive, so no sharer changes a shared table
   * while it is copied.
   */
  public void unshare(MapEntry e, long from, long to) {
    assert lock.heldExclusively() : "Mmu.unshare: the caller holds the map lock exclusive";
    if (!mayLink(e)) {
      return;
    }
    List<Long> links = new ArrayList<>();
    e.space.pmap.forEachSharedLink(from, to, (seg, pt) -> links.add(seg));
    for (long seg : links) {
      int fresh = mem.allocate();
      if (fresh < 0) {
        throw new IllegalStateException("no frame reserved for a private copy of a shared table");
      }
      List<long[]> copied = new ArrayList<>();
      if (e.space.pmap.unshare(seg, fresh, (va, leaf) -> copied.add(new long[] {va, leaf}))) {
        // Told after the table is in place (the class essay says why that is safe here).
        for (long[] c : copied) {
          before(e, c[0], 0, c[1]);
        }
      }
    }
  }

  /**
   * Drops every link to a shared table in [from, to) of {@code e}'s space, before its leaves are
   * removed: the leaves are the object's and every sharer's, so this space only stops linking them
   * (seed 001). With the injected bug UNMAP_CLEARS_SHARED_TABLE it clears them first, behind the
   * object's pmap's back. The caller holds the map lock exclusive, or shared in the second half of
   * an munmap (then no link is in the range: Teardown defers only private entries).
   */
  private void unlinkShared(MapEntry e, long from, long to) {
    if (!mayLink(e)) {
      return;
    }
    e.space.pmap.forEachSharedLink(
        from,
        to,
        (seg, pt) -> {
          if (clearsSharedTables) {
            for (int i = 0; i < Pmap.ENTRIES; i++) {
              mem.getAndSet(pt, i, 0); // injected: the sharers' leaves, as if they were ours
            }
          }
          e.space.pmap.unlinkShared(seg, pt);
        });
  }

  /**
   * Unlinks the shared table in frame {@code pt} from {@code sp}'s PD entry for the segment at
   * {@code seg}, which no entry of {@code sp} may share any more (S2); its leaves are the object's
   * and stay. The caller holds the map lock exclusive.
   */
  public void dropLink(VmSpace sp, long seg, int pt) {
    assert lock.heldExclusively() : "Mmu.dropLink: the caller holds the map lock exclusive";
    sp.pmap.unlinkShared(seg, pt);
  }

  /**
   * Whether {@code e}'s space may link a shared table in {@code e}'s range: its object has some.
   */
  private static boolean mayLink(MapEntry e) {
    VmObject o = e.object != null ? e.object : e.shown();
    return o.tables != null && !o.tables.isPseudo(e); // an object's own pmaps link nothing
  }

  /**
   * Clears every leaf of [from, to) in {@code e}'s space, keeping wire counts and the reverse map
   * (UNMAP-1, UNMAP-6). The caller holds the map lock exclusive, or shared in the second half of an
   * munmap whose entry {@code e} no one else reaches (see {@code Teardown}); in both cases no leaf
   * of the range is filled meanwhile, as {@link Pmap#removeRange}'s early return needs.
   */
  public void removeRange(MapEntry e, long from, long to) {
    unlinkShared(e, from, to);
    e.space.pmap.removeRange(from, to, (va, old) -> after(e, va, old, 0));
  }

  /**
   * The injected bug {@code core.Bug.PV_LEFT_ON_PARTIAL_MUNMAP}'s removal: {@link #removeRange},
   * keeping wire counts but telling the reverse map nothing, so that a design keeping records keeps
   * those of the PTEs removed. Its one caller is munmap of part of an entry, with that bug on.
   */
  public void removeRangeLeavingRecords(MapEntry e, long from, long to) {
    unlinkShared(e, from, to);
    e.space.pmap.removeRange(from, to, (va, old) -> unwireOld(old, 0));
  }

  /**
   * Clears every PTE that maps frame {@code f}, page {@code i} of {@code o}, found through the
   * reverse map (kernels.md R43); answers how many it cleared. The caller holds the map lock
   * exclusive.
   */
  public int unmapAll(VmObject o, long i, int f) {
    assert lock.heldExclusively() : "Mmu.unmapAll: the caller holds the map lock exclusive";
    int[] removed = {0};
    rmap.forEachMapping(
        o,
        i,
        f,
        (e, va, pte) -> {
          if (replace(e, va, pte, 0)) {
            removed[0]++;
          }
        });
    return removed[0];
  }

  /**
   * Takes a wire on frame {@code f} that no PTE stands for: the shared page's, which is never
   * evicted (BOOT-2). The caller holds the map lock exclusive, or is booting.
   */
  public void pin(int f) {
    mem.wire(f);
  }

  /**
   * The first half of a change of the leaf at {@code va} of {@code e} from {@code old} to {@code
   * now}, before its CAS: {@code now}'s wire and record (see the class essay).
   */
  private void before(MapEntry e, long va, long old, long now) {
    if (now != 0 && Pte.isWired(now)) {
      mem.wire(Pte.frame(now));
    }
    if (now != 0 && !sameFrame(old, now)) {
      rmap.mapped(e, va, now);
    }
  }

  /** The second half, after the CAS succeeded: {@code old}'s wire and record go. */
  private void after(MapEntry e, long va, long old, long now) {
    unwireOld(old, now);
    if (old != 0 && !sameFrame(old, now)) {
      rmap.unmapped(e, va, old);
    }
  }

  /** After the CAS failed: what {@link #before} took, given back. */
  private void undo(MapEntry e, long va, long old, long now) {
    if (now != 0 && !sameFrame(old, now)) {
      rmap.unmapped(e, va, now);
    }
    if (now != 0 && Pte.isWired(now)) {
      mem.unwire(Pte.frame(now));
    }
  }

  /**
   * {@code old}'s wire, once the leaf changed to {@code now}; kept, with the injected bug
   * WIRE_KEPT_ON_REPOINT, when the leaf now maps another frame.
   */
  private void unwireOld(long old, long now) {
    if (old != 0 && Pte.isWired(old) && (now == 0 || sameFrame(old, now) || !keepWireOnRepoint)) {
      mem.unwire(Pte.frame(old));
    }
  }

  private static boolean sameFrame(long old, long now) {
    return old != 0 && now != 0 && Pte.frame(old) == Pte.frame(now);
  }
}
