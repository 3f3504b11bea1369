package org.vmoracle.impl;

import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.SharedTables;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;

/**
 * Making and tearing down the page tables an object keeps for its sharers (seed 001, {@link
 * SharedTables}): made when the first mapping that can share them is made, torn down with the
 * object's pages. Requires the map lock exclusive.
 */
final class Segments {
  private Segments() {}

  /**
   * Gives {@code e}'s object its shared tables if segment page-table sharing is on, {@code e} maps
   * an object directly and maps at least one of its segments whole and aligned, and the object has
   * none yet. Two top-level pages are taken for them; without a frame for one the object simply
   * does not share (its mappings fault as before). The caller holds the map lock exclusive.
   */
  static void prepare(Machine m, MapEntry e) {
    assert m.lock.heldExclusively() : "Segments.prepare: the caller holds the map lock exclusive";
    VmObject o = e.object;
    if (!m.config.sharePageTables()
        || o == null
        || o.tables != null
        || o.kind == VmObject.Kind.SHARED_PAGE
        || !mapsAWholeSegment(e)) {
      return;
    }
    Pmap a = m.mmu.newPmap();
    if (a == null) {
      return;
    }
    MapEntry rw = pseudo(m, a, o, Prot.RW);
    Pmap b = m.mmu.newPmap();
    if (b == null) {
      m.mmu.release(rw.space);
      return;
    }
    MapEntry ro = pseudo(m, b, o, Prot.R);
    o.users.add(rw);
    o.users.add(ro);
    o.tables = new SharedTables(rw, ro);
  }

  /**
   * Unlinks every shared table in [start, end) of {@code sp} whose segment its entries no longer
   * map so that they may share it (S2): after minherit or munlock clipped an entry inside the
   * segment and the pieces stayed apart. The space's translations there go; its next faults map the
   * pages in tables of its own. Nothing is allocated, so nothing can fail. The caller holds the map
   * lock exclusive and has merged what it could ({@code VmSpace.simplify}).
   */
  static void unlinkBroken(Machine m, VmSpace sp, long start, long end) {
    assert m.lock.heldExclusively()
        : "Segments.unlinkBroken: the caller holds the map lock exclusive";
    if (!m.config.sharePageTables() || start >= Pmap.USER_VA_LIMIT) {
      return; // no links without sharing; none past user space
    }
    sp.pmap.forEachSharedLink(
        start & -Boot.SEGMENT_SIZE,
        Math.min(end, Pmap.USER_VA_LIMIT), // the operation's range may reach past user space
        (seg, pt) -> {
          MapEntry e = sp.entryAt(seg);
          if (e == null || !SharedTables.shareable(e, seg)) {
            m.mmu.dropLink(sp, seg, pt);
          }
        });
  }

  /** Whether some 2 MiB segment of {@code e} could share its table. */
  private static boolean mapsAWholeSegment(MapEntry e) {
    long first = (e.start + Boot.SEGMENT_SIZE - 1) & -Boot.SEGMENT_SIZE;
    for (long seg = first; seg + Boot.SEGMENT_SIZE <= e.end; seg += Boot.SEGMENT_SIZE) {
      if (SharedTables.mapsWhole(e, seg)) {
        return true;
      }
    }
    return false;
  }

  /** A pseudo-entry: a shared mapping of all of {@code o} from address 0 in its own space. */
  private static MapEntry pseudo(Machine m, Pmap p, VmObject o, Prot prot) {
    VmSpace sp = m.newSpace(p);
    sp.users = 1;
    MapEntry e =
        new MapEntry(sp, 0, Pmap.USER_VA_LIMIT, 0, prot, Sharing.SHARED, Inherit.SHARE, o, null);
    sp.entries.put(0L, e);
    return e;
  }

  /**
   * Tears down {@code o}'s shared tables, which no sharer links any more (every sharer's entry is
   * gone): clears their leaves through the PTE writer, which tells the reverse map, and frees their
   * pages. The caller holds the map lock exclusive and frees the object's pages next.
   */
  static void release(Machine m, VmObject o) {
    assert m.lock.heldExclusively() : "Segments.release: the caller holds the map lock exclusive";
    SharedTables t = o.tables;
    if (t == null) {
      return;
    }
    for (MapEntry e : new MapEntry[] {t.rw, t.ro}) {
      m.mmu.removeRange(e, e.start, e.end);
      o.users.remove(e);
      m.mmu.release(e.space);
    }
    o.tables = null;
  }
}
