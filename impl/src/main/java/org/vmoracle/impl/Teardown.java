package org.vmoracle.impl;

import java.util.ArrayList;
import java.util.Map;
import org.vmoracle.impl.collapse.Collapse;
import org.vmoracle.impl.collapse.Shadowed;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.Cow;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.object.VmObject;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.spec.Boot;

/**
 * Taking mappings, address spaces and objects apart, and truncating files: everything that frees
 * frames and swap slots. Every method requires the map lock exclusive.
 *
 * <p>Invariant kept: an object lives while it has a user or a name (a file, a keyed segment, the
 * shared page); when the last goes, its frames and swap slots are freed at once, and no PTE can
 * still map them, because only its users' entries ever did.
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

  /** Removes the PTEs of [from, to) of entry {@code e}, unwiring their frames. */
  void unmapPtes(MapEntry e, long from, long to) {
    e.space.pmap.removeRange(
        from,
        to,
        pte -> {
          if (Pte.isWired(pte)) {
            m.mem.unwire(Pte.frame(pte));
          }
        });
  }

  /** Removes entry {@code e} from its map, with its PTEs and wiring (UNMAP-1, UNMAP-6). */
  void removeEntry(MapEntry e) {
    if (!m.config.has(Bug.STALE_PTE_AFTER_MUNMAP)) {
      unmapPtes(e, e.start, e.end);
    }
    e.space.remove(e);
    if (e.cow != null) {
      Cow c = e.cow;
      c.members.remove(e);
      if (c.members.isEmpty()) {
        for (VmObject o : c.chain()) {
          o.users.remove(c);
          releaseIfUnused(o);
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
    sp.pmap.release();
  }

  /** Frees an object's pages if nothing maps or names it any more. */
  @Override
  public void releaseIfUnused(VmObject o) {
    if (!o.users.isEmpty() || o.kind == VmObject.Kind.SHARED_PAGE) {
      return;
    }
    if (o.kind == VmObject.Kind.VNODE && files.get(o.name) == o) {
      return; // files outlive their mappings (FILE-10); their pages stay cached
    }
    if (o.kind == VmObject.Kind.SHM && segments.get(o.key) == o) {
      return; // SHM-5
    }
    dropPages(o, 0);
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
    long old = f.size();
    if (pages < old) {
      // First every PTE, then the pages: an anonymous level may be shared by several groups,
      // and none of their members may still map a page when it is freed.
      for (Object u : f.users) {
        if (u instanceof MapEntry) {
          unmapFrom((MapEntry) u, pages);
        } else {
          for (MapEntry e : ((Cow) u).members) {
            unmapFrom(e, pages);
          }
        }
      }
      for (Object u : f.users) {
        if (u instanceof Cow) {
          for (VmObject o : ((Cow) u).chain()) {
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
