package org.vmoracle.impl;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.vmoracle.impl.collapse.Collapse;
import org.vmoracle.impl.collapse.Shadowed;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.Cow;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.User;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.spec.Boot;

/**
 * Taking mappings, address spaces and objects apart, and truncating files: everything that frees
 * frames and swap slots. Every method requires the map lock exclusive, except {@link #unmap}, which
 * requires it shared, and {@link #reclaim}, which requires none.
 *
 * <p>Invariant kept: an object lives while it has a user or a name (a file, a keyed segment, the
 * shared page); when the last goes, its frames and swap slots are freed, and no PTE can still map
 * them, because only its users' entries ever did.
 *
 * <h2>Unmapping in two halves</h2>
 *
 * With {@link org.vmoracle.impl.core.Config#unmapUnderSharedLock}, munmap does only the part that
 * changes what others can see under the exclusive lock: the entries leave the map, their groups
 * leave their objects' user lists. Clearing the PTEs and freeing the pages, the bulk of the work
 * (one PTE and one frame a page), it records in a {@link Zap}. It clears the PTEs in {@link
 * #unmap}, after the caller has downgraded the map lock to shared, so that faults in other mappings
 * go on meanwhile (Linux's munmap since 4.20 zaps with mmap_lock downgraded to read). It frees the
 * pages in {@link #reclaim}, with no lock at all, so that a thread waiting to map does not wait for
 * them: the frames are announced to {@code PhysMem} as a reclaim in flight before the lock goes,
 * and whoever must see every frame settled (pageout's clock, the invariant checker, an allocation
 * about to fail) waits for the reclaim to end.
 *
 * <p>The second half does not prune page-table pages (other threads' faults may be walking them):
 * those it empties stay until an exclusive unmap or exit there.
 *
 * <p>It is sound only for a mapping that nothing else reaches once it is out, and {@link
 * #removeEntry(MapEntry, Zap)} defers nothing else: a private, unwired mapping alone in its
 * copy-on-write group, whose chain objects have that group as their only user. Then, under the
 * shared lock, (1) no access uses the stale PTEs, because every access looks its entry up first and
 * finds none (ACC-1); (2) no fault reaches the pages, because faults reach objects only through
 * entries, and no other group's chain holds these objects; (3) no one maps the range anew before
 * the PTEs are gone, because mmap needs the lock exclusive; (4) the frames are not wired, so
 * freeing them after the group has left breaks no wire count. Everything that walks objects or
 * frames from the other side (pageout, the reverse map, collapse, truncation, views, invariants)
 * runs under the exclusive lock and so waits for {@link #unmap}; those that walk frames wait for
 * {@link #reclaim} too ({@code PhysMem.awaitReclaims}). Pages and swap slots of objects no one
 * reaches can be freed with no lock: the free pool and the swap map are safe for any thread, and no
 * one else looks at those objects.
 */
final class Teardown implements Collapse.Releaser {
  private final Machine m;
  private final Map<String, VmObject> files;
  private final Map<Long, VmObject> segments;

  Teardown(Machine m, Map<String, VmObject> files, Map<Long, VmObject> segments) {
    this.m = m;
    this.files = files;
    this.segments = segments;
  }

  /**
   * Removes the PTEs of [from, to) of entry {@code e}, unwiring their frames, and with {@link
   * org.vmoracle.impl.core.Config#prunePageTables} frees the page-table pages that this empties
   * (the map lock is exclusive here: no walker can hold one).
   */
  void unmapPtes(MapEntry e, long from, long to) {
    assert m.lock.heldExclusively() : "Teardown.unmapPtes: the caller holds the map lock exclusive";
    m.mmu.removeRange(e, from, to);
    if (m.config.prunePageTables()) {
      m.counters.pageTablesPruned.add(m.mmu.prune(e, from, to));
    }
  }

  /**
   * The work an munmap leaves for after its exclusive half: the PTE ranges of the entries it took
   * out and the objects that lost their last user (see the class comment).
   */
  static final class Zap {
    private record Range(MapEntry entry, long from, long to) {}

    private final List<Range> ranges = new ArrayList<>();
    private final List<VmObject> unused = new ArrayList<>();

    boolean isEmpty() {
      return ranges.isEmpty();
    }
  }

  /**
   * Clears the PTEs that {@code later} holds. The caller holds the map lock shared, downgraded from
   * the exclusive hold under which it filled {@code later}.
   */
  void unmap(Zap later) {
    for (Zap.Range r : later.ranges) {
      m.mmu.removeRange(r.entry(), r.from(), r.to());
    }
  }

  /**
   * Frees the pages of the objects that {@code later} holds, after {@link #unmap}. The caller holds
   * no lock, and has announced the reclaim ({@code PhysMem.beginReclaim}) under the map lock.
   */
  void reclaim(Zap later) {
    for (VmObject o : later.unused) {
      dropPages(o, 0);
    }
  }

  /**
   * Whether entry {@code e} is private, unwired and alone in its group, and its group the only user
   * of every object of its chain: what {@link #unmap} and {@link #reclaim} may take apart without
   * the exclusive lock.
   */
  private boolean alone(MapEntry e) {
    if (e.cow == null || e.wired || e.cow.members.size() != 1) {
      return false;
    }
    if (m.config.has(Bug.STALE_PTE_AFTER_MUNMAP)) {
      return false; // the injected bug lives in removeEntry(MapEntry)
    }
    for (VmObject o : e.cow.chain()) {
      if (o.users.size() != 1) {
        return false;
      }
    }
    return true;
  }

  /** Removes entry {@code e} from its map, with its PTEs and wiring (UNMAP-1, UNMAP-6). */
  void removeEntry(MapEntry e) {
    removeEntry(e, null);
  }

  /**
   * Removes entry {@code e} from its map, with its PTEs and wiring (UNMAP-1, UNMAP-6); but when
   * {@code later} is not null and nothing else reaches what {@code e} maps ({@link #alone}), leaves
   * its PTEs to {@link #unmap} and the pages of the objects it was the last user of to {@link
   * #reclaim} (see the class comment).
   */
  void removeEntry(MapEntry e, Zap later) {
    removeEntry(e, later, false);
  }

  /**
   * {@link #removeEntry(MapEntry, Zap)}, for munmap; {@code partial} says that the munmap took only
   * part of the entry it clipped {@code e} from, which matters only to the injected bug
   * PV_LEFT_ON_PARTIAL_MUNMAP (then the PTEs go, their reverse-map records stay).
   */
  void removeEntry(MapEntry e, Zap later, boolean partial) {
    assert m.lock.heldExclusively()
        : "Teardown.removeEntry: the caller holds the map lock exclusive";
    boolean leaveRecords = partial && m.config.has(Bug.PV_LEFT_ON_PARTIAL_MUNMAP);
    boolean defer = later != null && !leaveRecords && alone(e);
    if (defer) {
      later.ranges.add(new Zap.Range(e, e.start, e.end));
    } else if (leaveRecords) {
      m.mmu.removeRangeLeavingRecords(e, e.start, e.end); // injected bug
    } else if (!m.config.has(Bug.STALE_PTE_AFTER_MUNMAP)) {
      unmapPtes(e, e.start, e.end);
    }
    e.space.remove(e);
    if (e.cow != null) {
      Cow c = e.cow;
      c.members.remove(e);
      if (c.members.isEmpty()) {
        for (VmObject o : c.chain()) {
          o.users.remove(c);
          if (defer && unused(o)) {
            later.unused.add(o);
          } else {
            releaseIfUnused(o);
          }
          Shadowed.free(m, o); // pages only this group could still read are dead now
        }
      }
    } else {
      e.object.users.remove(e);
      releaseIfUnused(e.object);
    }
  }

  /** One process leaves address space {@code sp}; the last one tears it down (PROC-5, EXEC-4). */
  void leave(VmSpace sp) {
    assert m.lock.heldExclusively() : "Teardown.leave: the caller holds the map lock exclusive";
    if (m.config.has(Bug.SHARED_PAGE_REMOVED_WHILE_SHARED)) {
      MapEntry early = sp.entryAt(Boot.SHARED_PAGE);
      if (early != null && early.object == m.sharedPage) {
        removeEntry(early); // injected: before looking whether others still use the space
      }
    }
    if (--sp.users > 0) {
      return;
    }
    // Seed 002 (FreeBSD D32569): the shared page goes first, so that the teardown that follows
    // finds a pmap with nothing but its own tables when nothing else was ever touched.
    MapEntry shared = sp.entryAt(Boot.SHARED_PAGE);
    if (shared != null && shared.object == m.sharedPage) {
      removeEntry(shared);
    }
    for (MapEntry e : new ArrayList<>(sp.entries.values())) {
      removeEntry(e);
    }
    m.counters.pmapEarlyReturns.add(sp.pmap.earlyReturns());
    m.counters.pmapDemotions.add(sp.pmap.demotions());
    m.mmu.release(sp);
  }

  /** Frees an object's pages if nothing maps or names it any more. */
  @Override
  public void releaseIfUnused(VmObject o) {
    assert m.lock.heldExclusively()
        : "Teardown.releaseIfUnused: the caller holds the map lock exclusive";
    if (unused(o)) {
      Segments.release(m, o); // seed 001: its shared tables go with its pages
      dropPages(o, 0);
    }
  }

  /**
   * Whether nothing maps or names {@code o}, so that its pages can go. The pseudo-entries of its
   * shared tables (seed 001) are users that map nothing of their own: they do not keep it.
   */
  private boolean unused(VmObject o) {
    int pseudo = o.tables == null ? 0 : 2;
    if (o.users.size() != pseudo || o.kind == VmObject.Kind.SHARED_PAGE) {
      return false;
    }
    if (o.kind == VmObject.Kind.VNODE && files.get(o.name) == o) {
      return false; // files outlive their mappings (FILE-10); their pages stay cached
    }
    return !(o.kind == VmObject.Kind.SHM && segments.get(o.key) == o); // SHM-5
  }

  /** Frees every page of {@code o} at or past index {@code from}; they must be unmapped. */
  void dropPages(VmObject o, long from) {
    o.pages.drain(
        from,
        (i, slot) -> {
          if (VmObject.isFrame(slot)) {
            m.mem.free((int) slot);
          } else {
            m.swap.free(VmObject.swapSlot(slot));
          }
        });
  }

  /**
   * Resizes file {@code f} to {@code pages}. Shrinking unmaps every page past the new end, in every
   * mapping, and drops every private copy of those pages from every chain over the file (FILE-8:
   * Linux's {@code unmap_mapping_range(..., even_cows=1)}). The maps are untouched (FILE-11).
   */
  void resize(VmObject f, long pages) {
    assert m.lock.heldExclusively() : "Teardown.resize: the caller holds the map lock exclusive";
    long old = f.size();
    if (pages < old) {
      // First every PTE, then the pages: an anonymous level may be shared by several groups,
      // and none of their members may still map a page when it is freed. A reverse map that
      // keeps records finds them page by page (FreeBSD's vm_object_page_remove); the backing
      // scan walks the entries that map the file.
      if (m.rmap.keepsRecords()) {
        Set<VmObject> levels = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
        levels.add(f);
        for (User u : f.users) {
          if (u.group() != null) {
            levels.addAll(Arrays.asList(u.group().chain()));
          }
        }
        for (VmObject o : levels) {
          unmapPagesFrom(o, pages);
        }
      } else {
        m.rmap.forEachEntry(f, e -> unmapFrom(e, pages));
      }
      for (User u : f.users) {
        if (u.group() != null && !m.config.has(Bug.TRUNCATE_KEEPS_PRIVATE_COPIES)) {
          for (VmObject o : u.group().chain()) {
            if (o != f) {
              dropPages(o, pages);
            }
          }
        }
      }
      dropPages(f, pages);
      f.disk.truncate(pages);
    }
    f.setSize(pages);
  }

  /** Removes every PTE of every resident page of {@code o} at or past {@code index}. */
  private void unmapPagesFrom(VmObject o, long index) {
    for (long i : o.pages.keys()) {
      long slot = o.pages.get(i);
      if (i >= index && VmObject.isFrame(slot)) {
        m.mmu.unmapAll(o, i, (int) slot);
      }
    }
  }

  /** Removes entry {@code e}'s PTEs of object pages at or past {@code index}. */
  private void unmapFrom(MapEntry e, long index) {
    long lastIndex = e.pgoff + e.pages();
    if (index >= lastIndex) {
      return;
    }
    long from = index <= e.pgoff ? e.start : e.start + (index - e.pgoff) * Boot.PAGE_SIZE;
    unmapPtes(e, from, e.end);
  }
}
