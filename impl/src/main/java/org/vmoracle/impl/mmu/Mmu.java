package org.vmoracle.impl.mmu;

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
 * The rule for a successful change of a leaf from {@code old} to {@code now} (each 0 or a valid
 * leaf) is the same for every caller ({@link #settle}): a wire is taken for {@code now} if it is
 * WIRED, then one dropped for {@code old} if it was (so a frame that stays wired never drops to
 * zero wires on the way); the reverse map hears "unmapped" for {@code old} and "mapped" for {@code
 * now} when the frame changes. A change that keeps the frame (a write-protect, a new WIRED bit)
 * tells the reverse map nothing.
 *
 * <h2>Concurrency</h2>
 *
 * Lock-free like the pmap; every leaf change is the pmap's compare-and-set, and the bookkeeping
 * follows the successful CAS. Callers hold the map lock as each method says; faults under the
 * shared lock call {@link #install}, {@link #replace} and {@link #reserveTable}. A concurrent
 * reader of a wire count may see it lag the leaf by the bookkeeping; every reader that acts on wire
 * counts (pageout, the invariant checker) holds the map lock exclusive, so no change is in flight
 * then.
 *
 * <h2>Invariants</h2>
 *
 * M1. When no call is in flight, a frame's wire count equals the WIRED leaves that map it, plus one
 * if it is pinned ({@link #pin}: the shared page); the implementation's invariant checker verifies
 * it. M2. Every valid leaf was told to the reverse map by {@link ReverseMap#mapped} and not since
 * by {@link ReverseMap#unmapped}; a reverse map that keeps records verifies it in {@link
 * ReverseMap#checkMapping} and {@link ReverseMap#checkInvariants} (the backing scan keeps none, and
 * checks instead that its scan would find every leaf).
 *
 * <p>Lock order: none of its own; it takes no lock.
 */
public final class Mmu {
  private final PhysMem mem; // (c)
  private final ReverseMap rmap; // (c)
  private final ScalableRwLock lock; // (c) for assertions only
  private final Pmap.Config pmapConfig; // (c)
  private final boolean keepWireOnRepoint; // (c) the injected bug WIRE_KEPT_ON_REPOINT

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
    this.mem = Objects.requireNonNull(mem, "mem");
    this.rmap = Objects.requireNonNull(rmap, "rmap");
    this.lock = Objects.requireNonNull(lock, "lock");
    this.pmapConfig = Objects.requireNonNull(pmapConfig, "pmapConfig");
    this.keepWireOnRepoint = keepWireOnRepoint;
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
   * Pmap#install}), and on success keeps wire counts and the reverse map ({@link #settle}). The
   * caller holds the map lock (either mode) and the frame of {@code pte} busy.
   */
  public Pmap.Install install(MapEntry e, long va, long expect, long pte) {
    Pmap.Install r = e.space.pmap.install(va, expect, pte);
    if (r == Pmap.Install.INSTALLED) {
      settle(e, va, expect, pte);
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
    if (!e.space.pmap.compareAndSet(va, expect, update)) {
      return false;
    }
    settle(e, va, expect, update);
    return true;
  }

  /**
   * Clears W on every leaf of [from, to) in {@code e}'s space (PROT-2, and fork's write-protect of
   * a group, kernels.md R12). Frames, wires and the reverse map stay as they are. The caller holds
   * the map lock exclusive.
   */
  public void protect(MapEntry e, long from, long to) {
    assert lock.heldExclusively() : "Mmu.protect: the caller holds the map lock exclusive";
    e.space.pmap.protect(from, to);
  }

  /**
   * Clears every leaf of [from, to) in {@code e}'s space, keeping wire counts and the reverse map
   * (UNMAP-1, UNMAP-6). The caller holds the map lock exclusive, or shared in the second half of an
   * munmap whose entry {@code e} no one else reaches (see {@code Teardown}); in both cases no leaf
   * of the range is filled meanwhile, as {@link Pmap#removeRange}'s early return needs.
   */
  public void removeRange(MapEntry e, long from, long to) {
    e.space.pmap.removeRange(from, to, (va, old) -> settle(e, va, old, 0));
  }

  /**
   * The injected bug {@code core.Bug.PV_LEFT_ON_PARTIAL_MUNMAP}'s removal: {@link #removeRange},
   * keeping wire counts but telling the reverse map nothing, so that a design keeping records keeps
   * those of the PTEs removed. Its one caller is munmap of part of an entry, with that bug on.
   */
  public void removeRangeLeavingRecords(MapEntry e, long from, long to) {
    e.space.pmap.removeRange(from, to, (va, old) -> settleWires(old, 0));
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
   * The wire counts' part of {@link #settle}: a wire for {@code now}, then one less for {@code
   * old}.
   */
  private void settleWires(long old, long now) {
    if (now != 0 && Pte.isWired(now)) {
      mem.wire(Pte.frame(now));
    }
    boolean sameFrame = old != 0 && now != 0 && Pte.frame(old) == Pte.frame(now);
    if (old != 0 && Pte.isWired(old) && (now == 0 || sameFrame || !keepWireOnRepoint)) {
      mem.unwire(Pte.frame(old));
    }
  }

  /**
   * The bookkeeping of one successful leaf change from {@code old} to {@code now} at {@code va} of
   * {@code e}; see the class essay.
   */
  private void settle(MapEntry e, long va, long old, long now) {
    settleWires(old, now);
    boolean sameFrame = old != 0 && now != 0 && Pte.frame(old) == Pte.frame(now);
    if (old != 0 && !sameFrame) {
      rmap.unmapped(e, va, old);
    }
    if (now != 0 && !sameFrame) {
      rmap.mapped(e, va, now);
    }
  }
}
