package org.vmoracle.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.vmoracle.impl.collapse.Collapse;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.Cow;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.object.PageMap;
import org.vmoracle.impl.pageout.Pageout;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Sharing;

/**
 * fork: a new address space built from the parent's, entry by entry by inheritance (FORK-*, INH-*).
 * Requires the map lock exclusive.
 *
 * <ul>
 *   <li>{@code share}: the child's entry joins the same object or copy-on-write group (INH-2).
 *   <li>{@code copy} of a private entry: the child gets a new group with the same chain; both
 *       groups are marked {@code needsCopy} and every PTE of the parent's group is write-protected,
 *       so the next store on either side pushes a new front (BSD's NEEDS_COPY; kernels.md R12). A
 *       chain deeper than the collapse limit is collapsed first (seed 000). A wired, writable entry
 *       is copied at once instead, so the parent's wired pages stay writable (FORK-3, R31).
 *   <li>{@code copy} of a shared entry: the child gets a private group over the object (INH-4).
 *   <li>{@code zero}: the child gets fresh anonymous memory (INH-6); {@code none}: nothing (INH-5).
 * </ul>
 *
 * Wiring is never inherited (FORK-1). When memory runs out the child is torn down and fork answers
 * ENOMEM, the parent as it was (MEM-1).
 */
final class Forks {
  private Forks() {}

  static VmSpace fork(
      Machine m, Pageout pageout, VmSpace parent, Supplier<VmSpace> emptySpace, Teardown teardown) {
    assert m.lock.heldExclusively() : "Forks.fork: the caller holds the map lock exclusive";
    VmSpace child = emptySpace.get();
    if (child == null) {
      return null;
    }
    // The new space starts empty: the parent's shared page entry (if it still has one) is
    // inherited like any other entry below. (A space made with its own entry and stripped of it
    // here would link and unlink the shared page's object for nothing: two backing-list lock
    // operations a fork that DragonFly's vmspace_fork does not make, counted by E1.)
    List<MapEntry> entries = new ArrayList<>(parent.entries.values());
    for (MapEntry e : entries) {
      if (e.inherit == Inherit.NONE) {
        continue; // INH-5
      }
      MapEntry c =
          new MapEntry(child, e.start, e.end, e.pgoff, e.prot, e.sharing, e.inherit, null, null);
      switch (e.inherit) {
        case SHARE:
          if (e.object != null) {
            c.object = e.object;
            e.object.users.add(c);
            Segments.prepare(m, c); // seed 001: the child links the parent's tables
          } else {
            c.cow = e.cow;
            e.cow.members.add(c);
          }
          break;
        case COPY:
          if (e.object != null) {
            c.sharing = Sharing.PRIVATE; // INH-4
            c.cow = join(new Cow(new VmObject[] {e.object}, true), c);
          } else if (e.wired && e.prot.canWrite() && !m.config.has(Bug.FORK_SKIPS_WIRED_COPY)) {
            Cow copy = eagerCopy(m, pageout, e, teardown);
            if (copy == null) {
              teardown.leave(child);
              return null;
            }
            c.cow = join(copy, c);
          } else {
            if (e.cow.chain().length > m.config.collapseDepth()) {
              Collapse.collapse(m, pageout, e.cow, teardown); // best effort: fork works without
            }
            if (!m.config.has(Bug.FORK_NO_WRITE_PROTECT)) {
              protectGroup(m, e.cow);
            }
            e.cow.needsCopy = true;
            c.cow = join(new Cow(e.cow.chain(), true), c);
          }
          break;
        case ZERO:
          c.sharing = Sharing.PRIVATE;
          c.cow = join(new Cow(new VmObject[] {m.newAnon()}, false), c); // INH-6
          break;
        case NONE:
          throw new AssertionError();
      }
      child.entries.put(c.start, c);
    }
    return child;
  }

  /** Makes {@code e} the first member of {@code c} and registers {@code c} with its objects. */
  private static Cow join(Cow c, MapEntry e) {
    c.members.add(e);
    for (VmObject o : c.chain()) {
      o.users.add(c);
    }
    return c;
  }

  /** Write-protects every PTE of every member of {@code c} (kernels.md R12). */
  private static void protectGroup(Machine m, Cow c) {
    for (MapEntry e : c.members) {
      if (e.wired && m.config.has(Bug.FORK_SKIPS_WIRED_COPY)) {
        continue; // injected: a wired page must not fault, so its PTE stays writable
      }
      m.mmu.protect(e, e.start, e.end);
    }
  }

  /**
   * A new group for the child of wired, writable entry {@code e}: a front holding a copy of every
   * page the parent's front has in {@code e}'s range, over the rest of the parent's chain (FORK-3).
   * Null when frames run out (every frame taken is given back).
   */
  private static Cow eagerCopy(Machine m, Pageout pageout, MapEntry e, Teardown teardown) {
    VmObject[] chain = e.cow.chain();
    VmObject front = m.newAnon();
    VmObject src = chain[0];
    for (long i = e.pgoff; i < e.pgoff + e.pages(); i++) {
      long slot = src.pages.get(i);
      if (slot == PageMap.NONE) {
        continue;
      }
      int nf = m.mem.allocate();
      if (nf < 0 && pageout.run(m, Pageout.BATCH) > 0) {
        nf = m.mem.allocate();
      }
      if (nf < 0) {
        teardown.dropPages(front, 0);
        return null;
      }
      if (VmObject.isFrame(slot)) {
        m.mem.copyFrame((int) slot, nf);
      } else {
        long[] data = m.swap.get(VmObject.swapSlot(slot));
        m.mem.storePage(nf, data);
      }
      m.own(nf, front, i);
      front.pages.put(i, nf);
    }
    VmObject[] copy = chain.clone();
    copy[0] = front;
    return new Cow(copy, false);
  }
}
