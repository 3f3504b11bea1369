package org.vmoracle.impl.rmap;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.LongAdder;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.phys.PhysMem;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.impl.sched.Sched;
import org.vmoracle.impl.sync.ScalableRwLock;

/**
 * The reverse map of FreeBSD, and of DragonFly before 2019: one pv entry per mapped PTE, on a list
 * per page under that page's lock (kernels.md §2; seed 000's "each vm_page entered into the MMU's
 * pmap used to be tracked with a 'pv_entry' structure").
 *
 * <h2>Overview</h2>
 *
 * A pv entry names a PTE by its address space and address, as FreeBSD's {@code pv_entry} names it
 * by pmap and {@code pv_va}. Every PTE made allocates one ({@link #mapped}, from the one PTE
 * writer), every PTE removed frees one ({@link #unmapped}): faults, copy-on-write, collapse, fork's
 * copies, munmap, exit and pageout all pay a list operation under the page's lock for each PTE they
 * touch. Pageout, truncation and collapse find a page's PTEs by walking its list ({@link
 * #forEachMapping}: FreeBSD's {@code pmap_remove_all}, which {@code vm_object_page_remove} calls
 * page by page; see {@link #keepsRecords}); copy-on-write walks its group ({@link
 * #forEachInGroup}), as every design here does, since it must reach members whatever frame they
 * map; fork write-protects by range, as FreeBSD's {@code pmap_protect} does, which changes no list.
 * Every PTE they remove leaves its list through {@link #unmapped}.
 *
 * <p>The cost model: an entry takes {@link #ENTRY_BYTES} bytes (FreeBSD amd64's {@code pv_entry}:
 * {@code pv_va} and a {@code TAILQ_ENTRY}; its chunk headers, about 1/168 more, are left out), and
 * every list operation one acquisition of the page's lock ({@link PageLocks}).
 *
 * <h2>Concurrency</h2>
 *
 * {@link #mapped} and {@link #unmapped} come under the map lock in either mode: faults under the
 * shared lock in different address spaces may add to one page's list at once (a shared page faulted
 * by two processes), so each list is guarded by its page's lock (legend (p)). The searches come
 * under the exclusive map lock: no PTE is made or removed meanwhile except by the visitor itself,
 * so {@link #forEachMapping} copies the list under the page lock and visits the copy without it
 * (the visitor's removals take the lock again). The checker reads the lists with no page lock:
 * under the exclusive map lock none is held.
 *
 * <h2>Invariants</h2>
 *
 * V1. Every valid leaf at {@code va} of space {@code sp} that maps frame {@code f} has exactly one
 * pv entry {@code (sp, va)} on {@code f}'s list ({@link #checkMapping}). V2. Every pv entry on
 * {@code f}'s list names a live space whose leaf there is valid and maps {@code f}; {@link #live}
 * counts them ({@link #checkInvariants}). V1 and V2 make the lists and the valid leaves one to one.
 * V3. A search of a frame ({@link #forEachMapping}) visits every entry on its list, so by V1 every
 * valid leaf that maps it.
 *
 * <p>Lock order: the map lock, then one page's list lock; no two list locks are held at once.
 */
public final class PvEntries implements ReverseMap {

  /** Bytes of one pv entry in the kernel this follows (FreeBSD amd64: 8 + 16). */
  public static final int ENTRY_BYTES = 24;

  /** One pv entry: a PTE of a page, by space and address. */
  private static final class Pv {
    final VmSpace space; // (c)
    final long va; // (c)
    Pv next; // (p) the page's list

    Pv(VmSpace space, long va, Pv next) {
      this.space = space;
      this.va = va;
      this.next = next;
    }
  }

  private final ScalableRwLock lock; // (c) the map lock, for assertions
  private final Pv[] heads; // (p) each page's list, under its lock
  private final PageLocks locks; // (c)
  private final LongAdder live = new LongAdder(); // (a) entries on all lists
  private final boolean unlockedInsert; // (c) the injected bug PV_UNLOCKED_INSERT

  /**
   * pv lists for {@code frames} frames under map lock {@code lock}; {@code unlockedInsert} is the
   * injected bug {@code core.Bug.PV_UNLOCKED_INSERT}.
   */
  public PvEntries(int frames, ScalableRwLock lock, boolean unlockedInsert) {
    this.lock = lock;
    this.heads = new Pv[frames];
    this.locks = new PageLocks(frames);
    this.unlockedInsert = unlockedInsert;
  }

  @Override
  public void mapped(MapEntry e, long va, long pte) {
    int f = Pte.frame(pte);
    if (unlockedInsert) {
      // Injected bug: the read of the head and the store of the new one race with other inserts.
      link(f, e.space, va);
      live.increment();
      return;
    }
    locks.lock(f);
    try {
      link(f, e.space, va);
    } finally {
      locks.unlock(f);
    }
    live.increment();
  }

  /**
   * Pushes a pv entry for {@code space} at {@code va} onto frame {@code f}'s list: a read of the
   * head, then a store of the new one, with a scheduling point between (the step an unlocked insert
   * races on). The caller holds {@code f}'s list lock (but for the injected bug).
   */
  private void link(int f, VmSpace space, long va) {
    Pv head = heads[f];
    Sched.point(Sched.Step.RMAP, f);
    heads[f] = new Pv(space, va, head);
  }

  @Override
  public void unmapped(MapEntry e, long va, long pte) {
    int f = Pte.frame(pte);
    boolean found = false;
    locks.lock(f);
    try {
      Pv prev = null;
      for (Pv p = heads[f]; p != null; prev = p, p = p.next) {
        if (p.space == e.space && p.va == va) {
          if (prev == null) {
            heads[f] = p.next;
          } else {
            prev.next = p.next;
          }
          found = true;
          break;
        }
      }
    } finally {
      locks.unlock(f);
    }
    if (!found) {
      // FreeBSD panics here ("pmap_pvh_remove: pv not found"): a PTE was made without its entry.
      throw new IllegalStateException(
          "V1: no pv entry for the PTE at va "
              + Long.toHexString(va)
              + " of "
              + e
              + " on frame "
              + f
              + "'s list");
    }
    live.decrement();
  }

  @Override
  public void forEachMapping(VmObject o, long i, int f, Visitor v) {
    assert lock.heldExclusively() : "forEachMapping: the caller holds the map lock exclusive";
    List<Pv> copy;
    locks.lock(f);
    try {
      copy = listed(f);
    } finally {
      locks.unlock(f);
    }
    visit(f, copy, v);
  }

  /**
   * The entries on frame {@code f}'s list, in order. The caller holds {@code f}'s lock, or the map
   * lock exclusive with no page lock held (the checker).
   */
  private List<Pv> listed(int f) {
    List<Pv> copy = new ArrayList<>();
    for (Pv p = heads[f]; p != null; p = p.next) {
      copy.add(p);
    }
    return copy;
  }

  /**
   * Calls {@code v} for each of {@code entries} that names a valid leaf of {@code f} in an entry.
   */
  private static void visit(int f, List<Pv> entries, Visitor v) {
    for (Pv p : entries) {
      long pte = p.space.pmap.lookup(p.va);
      MapEntry e = p.space.entryAt(p.va);
      if (e != null && Pte.isPresent(pte) && Pte.frame(pte) == f) {
        v.visit(e, p.va, pte);
      }
    }
  }

  @Override
  public void checkMapping(MapEntry e, long va, long pte, PhysMem mem) {
    int f = Pte.frame(pte);
    long n = listed(f).stream().filter(p -> p.space == e.space && p.va == va).count();
    if (n != 1) {
      throw new IllegalStateException(
          "V1: PTE at va "
              + Long.toHexString(va)
              + " of "
              + e
              + " maps frame "
              + f
              + ", whose pv list has "
              + n
              + " entries for it, not 1");
    }
  }

  @Override
  public void checkInvariants() {
    long n = 0;
    for (int f = 0; f < heads.length; f++) {
      if (locks.held(f)) {
        throw new IllegalStateException(
            "frame " + f + "'s pv list lock is held with nothing running");
      }
      for (Pv p = heads[f]; p != null; p = p.next) {
        n++;
        long pte = p.space.users > 0 ? p.space.pmap.lookup(p.va) : 0;
        if (!Pte.isPresent(pte) || Pte.frame(pte) != f) {
          throw new IllegalStateException(
              "V2: frame "
                  + f
                  + "'s pv list names va "
                  + Long.toHexString(p.va)
                  + " of space "
                  + p.space.id
                  + ", which "
                  + (p.space.users > 0 ? "does not map the frame" : "is gone"));
        }
      }
      if (heads[f] == null) {
        continue;
      }
      int[] found = {0};
      List<Pv> here = listed(f);
      visit(f, here, (e, va, pte) -> found[0]++); // what a search of f would visit
      if (found[0] != here.size()) {
        throw new IllegalStateException(
            "V3: a search of frame "
                + f
                + " visits "
                + found[0]
                + " of its "
                + here.size()
                + " PTEs");
      }
    }
    if (n != live.sum()) {
      throw new IllegalStateException(
          "V2: the pv lists hold " + n + " entries, counted " + live.sum());
    }
  }

  @Override
  public boolean keepsRecords() {
    return true;
  }

  @Override
  public Figures figures() {
    long n = live.sum();
    return new Figures(locks.acquisitions(), n, n * ENTRY_BYTES, n, 0, 0, 0);
  }
}
