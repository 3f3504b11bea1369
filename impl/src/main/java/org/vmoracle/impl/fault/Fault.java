package org.vmoracle.impl.fault;

import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.Cow;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.SharedTables;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.object.PageMap;
import org.vmoracle.impl.phys.PhysMem;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.impl.sched.Sched;
import org.vmoracle.spec.Boot;

/**
 * The page-fault handler: makes the PTE for one address so that the access can go ahead.
 *
 * <h2>Overview</h2>
 *
 * A shared entry faults its object's page in (zero-filled, read from the file, or swapped in) and
 * maps it. A private entry walks its copy-on-write group's chain front to back: a read maps the
 * first page found, read-only, or zero-fills one into the front; a write copies the page found (or
 * zeros) into the front and maps that writable (COW-1, COW-4). A store into a front that other
 * groups may still see first needs a new front ({@link #shadow}), which changes the chain and so
 * needs the exclusive map lock: the fault then answers {@link Outcome#NEED_SHADOW} and the caller
 * retries with the lock exclusive. Likewise {@link Outcome#NEED_MEMORY} when no frame is free: only
 * the exclusive holder may run pageout.
 *
 * <h2>Concurrency</h2>
 *
 * Faults run under the map lock in either mode; under the shared mode many run at once, on any
 * pages. Two rules keep them apart:
 *
 * <ul>
 *   <li><b>Busy protocol.</b> A frame is inserted into an object while busy, and stays busy until
 *       its contents are valid; a fault busies a frame before mapping it and re-checks that the
 *       object still holds it at that index (a lost race gives the frame back). So two threads
 *       faulting one page never both allocate it, and nobody maps a half-filled page.
 *   <li><b>PTE by compare-and-set.</b> A fault remembers the PTE it saw at the start and installs
 *       its PTE only if that is still there; otherwise it starts over. So a slow read fault can
 *       never put back a deeper page over a copy a concurrent write fault made.
 * </ul>
 *
 * <h2>Copying</h2>
 *
 * A copy-on-write copy must not miss a store that some access of the group has already seen: the
 * page it copies can change under the shared lock (a file or segment page stored into through a
 * shared mapping), and until the copy is mapped, the group's reads go to that page. So a copy runs
 * in four steps (model checking found each window that a shorter order leaves open; see
 * FileCopyRaceLincheckTest):
 *
 * <ol>
 *   <li>the new frame goes into the front while busy, so every fault of the group on that page now
 *       finds it and waits;
 *   <li>every PTE of the group that maps the deeper page is cleared ({@link #unmapDeeper}), so no
 *       access loads from it any more (a load in flight re-checks its PTE: {@code Access.touch});
 *   <li>the copy, holding the source frame busy: a read fault that mapped the deeper page just
 *       before step 1 holds it busy until it has either taken its PTE back or been seen by step 2
 *       ({@link #installDeep});
 *   <li>the PTEs go in: writable for the faulting entry, read-only where step 2 cleared one of
 *       another member ({@link #remap}).
 * </ol>
 *
 * A store that a read saw before step 2 is in the copy; a store after it is invisible to the group.
 * A zero-fill fault (a chain of one level) has nothing below to copy or unmap and skips 2 to 4.
 *
 * <p>Frames are freed only under the exclusive lock, or by the second half of an munmap, and then
 * only frames of objects that no entry reaches any more ({@code Teardown}); so a frame a fault has
 * found through its entry stays a frame.
 *
 * <h2>Invariants</h2>
 *
 * A writable PTE maps a page of its entry's own object: the shared object, or the front of a group
 * with {@code needsCopy} false (never a page another group or chain level may see: kernels.md R8).
 */
public final class Fault {
  private Fault() {}

  /** How a fault ended. */
  public enum Outcome {
    /** The PTE is in place (or was put there meanwhile): retry the access. */
    DONE,
    SEGV,
    BUS,
    /** A store needs a new front for a copy-on-write group: retry with the lock exclusive. */
    NEED_SHADOW,
    /** No frame could be had: retry with the lock exclusive, after pageout. */
    NEED_MEMORY
  }

  private static final int ABSENT = -1;
  private static final int NO_MEMORY = -2;

  /**
   * Handles a fault at {@code va} for a read or a write. The caller holds the map lock (shared or
   * exclusive); with it exclusive, a needed shadow is made here rather than answered.
   */
  public static Outcome fault(Machine m, VmSpace sp, long va, boolean write) {
    MapEntry e = sp.entryAt(va);
    if (e == null) {
      return Outcome.SEGV; // ACC-1
    }
    long page = va & -Boot.PAGE_SIZE;
    return fault(m, e, page, write, sp.pmap.lookup(page));
  }

  /**
   * Handles a fault at page {@code page} of entry {@code e}, whose PTE was {@code seen} when the
   * access looked. The caller holds the map lock (shared or exclusive) and found {@code e} under
   * it.
   */
  public static Outcome fault(Machine m, MapEntry e, long page, boolean write, long seen) {
    if (write ? !e.prot.canWrite() : !e.prot.canRead()) {
      return Outcome.SEGV; // ACC-2
    }
    long i = e.index(page);
    if (e.object != null) {
      return faultShared(m, e, page, i, seen);
    }
    return write ? writePrivate(m, e, page, i, seen) : readPrivate(m, e, page, i, seen);
  }

  private static Outcome faultShared(Machine m, MapEntry e, long va, long i, long seen) {
    VmObject o = e.object;
    if (o.pastEnd(i)) {
      return Outcome.BUS; // FILE-5, SHM-4
    }
    int f = obtain(m, o, i);
    if (f == NO_MEMORY) {
      return Outcome.NEED_MEMORY;
    }
    try {
      long seg = va & -Boot.SEGMENT_SIZE;
      SharedTables t = o.tables;
      if (t != null && SharedTables.shareable(e, seg)) {
        Outcome s = installShared(m, e, t.forProt(e.prot.canWrite()), va, seg, i, f);
        if (s != null) {
          return s;
        }
      }
      return install(m, e, va, seen, f, e.prot.canWrite());
    } finally {
      m.mem.unbusy(f);
    }
  }

  /**
   * Seed 001: maps busy frame {@code f}, page {@code i} of {@code e}'s object, in the object's
   * shared table for the segment at {@code seg}, which the pseudo-entry {@code owner} holds,
   * linking that table from {@code e}'s PD first if it is not yet: one fault serves every sharer.
   * Answers null when {@code e}'s space has a table of its own there (a private copy made earlier,
   * or a table left from before it could share): the caller installs there instead. The caller
   * holds the map lock (either mode) and {@code f} busy.
   */
  private static Outcome installShared(
      Machine m, MapEntry e, MapEntry owner, long va, long seg, long i, int f) {
    long at = owner.addressOf(i);
    Pmap shared = owner.space.pmap;
    Pmap mine = e.space.pmap;
    if (!m.mmu.reserveTable(owner, at)) {
      return Outcome.NEED_MEMORY;
    }
    int pt = shared.ref(at).table();
    int linked = mine.sharedTableAt(seg);
    if (linked != pt) {
      if (linked >= 0) {
        throw new IllegalStateException(
            "S2: "
                + e
                + " links table frame "
                + linked
                + " at "
                + Long.toHexString(seg)
                + ", not its object's table "
                + pt);
      }
      switch (m.mmu.linkShared(e, seg, pt)) {
        case NO_MEMORY:
          return Outcome.NEED_MEMORY;
        case CHANGED:
          if (mine.sharedTableAt(seg) != pt) {
            return null; // a table of its own is there: not shared in this space
          }
          break;
        default:
          break;
      }
    }
    return install(m, owner, at, shared.lookup(at), f, owner.prot.canWrite());
  }

  private static Outcome readPrivate(Machine m, MapEntry e, long va, long i, long seen) {
    Cow c = e.cow;
    VmObject[] chain = c.chain();
    if (chain[chain.length - 1].pastEnd(i)) {
      return Outcome.BUS; // FILE-5, FILE-8: copied or not
    }
    for (int level = 0; level < chain.length; level++) {
      int f = acquire(m, chain[level], i);
      if (f == NO_MEMORY) {
        return Outcome.NEED_MEMORY;
      }
      if (f != ABSENT) {
        m.counters.mappedFaults.increment();
        return installDeep(m, e, va, seen, f, chain, level, i); // R14: reads never copy
      }
    }
    VmObject terminal = chain[chain.length - 1];
    // Nobody has the page. It comes from what the mapping maps (the file, the segment, shared
    // memory, shared anonymous memory, the shared page), so that later stores through shared
    // mappings of it show here (FILE-7, INH-4); only for private anonymous memory is it a zero
    // page in the front (ACC-4).
    boolean privateAnon =
        terminal.kind == VmObject.Kind.ANON
            && (!terminal.sharedAnon || m.config.has(Bug.SHARED_ANON_COPY_FILLS_PRIVATELY));
    int level = privateAnon ? 0 : chain.length - 1;
    int f = obtain(m, chain[level], i);
    if (f == NO_MEMORY) {
      return Outcome.NEED_MEMORY;
    }
    return installDeep(m, e, va, seen, f, chain, level, i);
  }

  /**
   * Maps busy frame {@code f}, found at {@code level} of the chain, read-only, and releases it. A
   * level above may have gained the page meanwhile (a concurrent copy-on-write by another member of
   * the group): then this PTE would show the shadowed page, so it is taken back and the access
   * retries. Either the copier's {@link #unmapDeeper} sees this PTE, or this check sees the copy.
   */
  private static Outcome installDeep(
      Machine m, MapEntry e, long va, long seen, int f, VmObject[] chain, int level, long i) {
    try {
      // A copy above that is already made (its copier took f busy for the copy before this fault
      // could, and is done) must not be shadowed even for a moment: a PTE of f published now and
      // taken back below would let another thread's load of this page, after the copier's store
      // into the copy, read f's older words (ACC-3). So look before mapping, and again after.
      if (level > 0 && above(chain, level, i)) {
        return Outcome.DONE; // the access retries and finds the copy
      }
      Outcome o = install(m, e, va, seen, f, false);
      if (level == 0 || o != Outcome.DONE || m.config.has(Bug.DEEP_INSTALL_SKIPS_RECHECK)) {
        return o; // injected bug: no look above, so a copy made meanwhile stays shadowed here
      }
      // Still holding f busy, so a copy of f waits until this PTE is back out or seen by the
      // copier's unmapDeeper. The fence orders this PTE's CAS before the reads below, as the
      // copier's orders its putIfAbsent before its PTE reads (Dekker): one of us sees the other.
      VarHandle.fullFence();
      if (above(chain, level, i)) {
        m.mmu.replace(e, va, Pte.make(f, false, e.wired), 0);
      }
      return o;
    } finally {
      m.mem.unbusy(f);
    }
  }

  /** Whether a level of {@code chain} above {@code level} has page {@code i}. */
  private static boolean above(VmObject[] chain, int level, long i) {
    for (int up = 0; up < level; up++) {
      if (chain[up].pages.containsKey(i)) {
        return true;
      }
    }
    return false;
  }

  private static Outcome writePrivate(Machine m, MapEntry e, long va, long i, long seen) {
    Cow c = e.cow;
    if (c.needsCopy) {
      if (m.config.has(Bug.COW_FRONT_UNDER_SHARED_LOCK)) {
        push(m, c); // injected: under whatever mode the caller holds, the shared one too
      } else if (!m.lock.heldExclusively()) {
        return Outcome.NEED_SHADOW;
      } else {
        shadow(m, c);
      }
    }
    VmObject[] chain = c.chain();
    if (chain[chain.length - 1].pastEnd(i)) {
      return Outcome.BUS;
    }
    VmObject front = chain[0];
    int f = acquire(m, front, i);
    if (f == NO_MEMORY) {
      return Outcome.NEED_MEMORY;
    }
    if (f != ABSENT) {
      try {
        return install(m, e, va, seen, f, true); // the front's own page: store in place
      } finally {
        m.mem.unbusy(f);
      }
    }
    // Copy-on-write: a new frame of the front takes the page from the first level below that has
    // it, or the terminal's source, or zeros (COW-2: the whole page). See "Copying" above for why
    // in this order. The table for the PTE comes first: once the copy is in the front the group
    // sees it, so a fault that then ran out of memory for the table would have changed what the
    // group sees and still answer OOM (MEM-1, MEM-2). A PTE seen at va means its table is there,
    // and only the exclusive lock prunes tables.
    if (chain.length > 1 && seen == 0 && !m.mmu.reserveTable(e, va)) {
      return Outcome.NEED_MEMORY;
    }
    int nf = m.mem.allocateBusy();
    if (nf < 0) {
      return Outcome.NEED_MEMORY;
    }
    m.mem.setOwner(nf, front, i);
    if (m.config.has(Bug.LOST_ZERO_FILL_RACE)) {
      front.pages.put(i, nf); // injected: overwrites a page a concurrent fault put there
    } else if (!front.pages.putIfAbsent(i, nf)) { // (1) every fault of the group now waits
      m.mem.unbusy(nf);
      m.mem.free(nf); // another fault put the page there first: use theirs
      return Outcome.DONE;
    }
    try {
      if (chain.length == 1) {
        m.counters.zeroFillFaults.increment(); // nothing below: no PTE maps anything here
        return install(m, e, va, seen, nf, true);
      }
      VarHandle.fullFence(); // (1) before (2): see installDeep
      List<Cleared> cleared = unmapDeeper(m, c, i, nf); // (2)
      if (m.config.has(Bug.COPY_PUBLISHED_BEFORE_FILL)) {
        // injected: (4) before (3), the PTEs made before the copy is in the frame
        remap(m, e, nf, cleared);
        Outcome early = install(m, e, va, 0, nf, true);
        fill(m, chain, i, nf);
        return early;
      }
      if (fill(m, chain, i, nf)) { // (3)
        m.counters.cowFaults.increment();
      } else {
        m.counters.zeroFillFaults.increment();
      }
      remap(m, e, nf, cleared); // (4) R19
      return install(m, e, va, 0, nf, true); // (2) cleared this entry's PTE, if it had one
    } finally {
      m.mem.unbusy(nf);
    }
  }

  /**
   * Fills fresh frame {@code nf} with page {@code i} as the chain below the front shows it; answers
   * whether anything was copied (false: zero-filled). A frame is copied while held busy.
   */
  private static boolean fill(Machine m, VmObject[] chain, long i, int nf) {
    for (int level = 1; level < chain.length; level++) {
      VmObject o = chain[level];
      while (true) {
        long slot = o.pages.get(i);
        if (slot == PageMap.NONE) {
          break;
        }
        if (VmObject.isFrame(slot)) {
          int source = (int) slot;
          if (!m.mem.tryBusy(source)) {
            Sched.waiting(Sched.Step.BUSY, source); // a read fault is mapping it (installDeep)
            continue;
          }
          try {
            if (o.pages.get(i) != slot) {
              continue; // the page moved meanwhile: look again
            }
            // A store through a shared mapping of the terminal object may land meanwhile; the
            // copy takes each word as it is when copied, and no access of this group can see
            // the source any more (step 2), so the copy is what the group sees next.
            m.mem.copyFrame(source, nf);
            return true;
          } finally {
            m.mem.unbusy(source);
          }
        }
        long[] data = m.swap.get(VmObject.swapSlot(slot));
        if (data == null) {
          checkSlotInUse(o, i, slot);
          continue; // swapped in meanwhile: read the frame instead
        }
        m.mem.storePage(nf, data);
        return true;
      }
      if (o.kind == VmObject.Kind.VNODE) {
        readDisk(m, o, i, nf);
        return true;
      }
      if (o.kind == VmObject.Kind.SHARED_PAGE) {
        m.fillSharedPage(nf);
        return true;
      }
    }
    return false; // frames come zeroed
  }

  /** A PTE that step (2) of a copy cleared: entry, address and the PTE as it was. */
  private record Cleared(MapEntry member, long va, long pte) {}

  /**
   * Step (2) of a copy: clears every PTE of group {@code c}'s members that maps page {@code i} of a
   * deeper level (the PTE writer unwires its frame), so that no access of the group loads from that
   * page any more. Answers the cleared PTEs, in the order of {@code c.members}, for {@link #remap}.
   * The caller holds the map lock and {@code nf}, already in the front, busy.
   */
  private static List<Cleared> unmapDeeper(Machine m, Cow c, long i, int nf) {
    List<Cleared> cleared = new ArrayList<>(c.members.size());
    m.rmap.forEachInGroup(
        c,
        i,
        (member, va, seen) -> {
          long old = seen;
          while (Pte.isPresent(old) && Pte.frame(old) != nf) {
            if (m.mmu.replace(member, va, old, 0)) {
              m.counters.invalidations.increment();
              cleared.add(new Cleared(member, va, old));
              return;
            }
            old = member.space.pmap.lookup(va); // changed meanwhile: look again
          }
        });
    return cleared;
  }

  /**
   * Step (4) of a copy: maps the new front page {@code nf} read-only, wired as before, where {@link
   * #unmapDeeper} cleared a PTE of another member of the group than {@code self}, unless a fault
   * has mapped it there meanwhile. After this no PTE of the group shows the shadowed page
   * (kernels.md R19, FreeBSD's shared_shadow_inval). The caller holds the map lock; {@code nf} is
   * busy and filled.
   */
  private static void remap(Machine m, MapEntry self, int nf, List<Cleared> cleared) {
    for (Cleared k : cleared) {
      if (k.member() != self) {
        m.mmu.replace(k.member(), k.va(), 0, Pte.make(nf, false, Pte.isWired(k.pte())));
      }
    }
  }

  /**
   * Installs a PTE for frame {@code f} at {@code va} if the PTE is still {@code seen}. The caller
   * holds the map lock and frame {@code f} busy.
   */
  private static Outcome install(
      Machine m, MapEntry e, long va, long seen, int f, boolean writable) {
    if (e.cow != null) {
      // A few plain loads, no set lookup, on a private install when nothing shares (tables null).
      SharedTables t = e.shown().tables;
      long seg = va & -Boot.SEGMENT_SIZE;
      if (t != null
          && m.config.has(Bug.SHARED_TABLE_UNDER_COW)
          && !e.wired
          && SharedTables.mapsWhole(e, seg)) {
        // injected: a private mapping's PTE, a copy-on-write copy's included, in the shared table
        Outcome s = installShared(m, e, t.forProt(writable), va, seg, e.index(va), f);
        if (s != null) {
          return s;
        }
      }
    }
    long pte = Pte.make(f, writable, e.wired);
    if (seen == pte) {
      return Outcome.DONE;
    }
    switch (m.mmu.install(e, va, seen, pte)) {
      case INSTALLED:
        return Outcome.DONE;
      case CHANGED:
        return Outcome.DONE; // someone else changed it: the access retries and looks again
      case NO_MEMORY:
        return Outcome.NEED_MEMORY;
    }
    throw new AssertionError();
  }

  /**
   * Pushes a new, empty anonymous front onto group {@code c}'s chain, so its stores no longer reach
   * what other groups see (the shadow of BSD's copy-on-write). The caller holds the map lock
   * exclusive.
   */
  public static void shadow(Machine m, Cow c) {
    assert m.lock.heldExclusively() : "Fault.shadow: the caller holds the map lock exclusive";
    push(m, c);
  }

  /**
   * {@link #shadow}'s work: reads the chain, makes the front, publishes the new chain. Two pushes
   * at once would both build on the old chain and one front would be lost, which the exclusive lock
   * prevents; only the injected bug COW_FRONT_UNDER_SHARED_LOCK calls it without.
   */
  private static void push(Machine m, Cow c) {
    VmObject[] old = c.chain();
    Sched.point(Sched.Step.SHADOW, old.length);
    VmObject[] chain = new VmObject[old.length + 1];
    chain[0] = m.newAnon();
    System.arraycopy(old, 0, chain, 1, old.length);
    chain[0].users.add(c);
    c.setChain(chain);
    c.needsCopy = false;
    m.counters.shadows.increment();
  }

  /**
   * Frame of page {@code i} of {@code o}, busy, creating the page if absent (zero-filled, from the
   * file, or the shared page's words); or NO_MEMORY. The caller holds the map lock; {@code o} must
   * not be past its end at {@code i}.
   */
  public static int obtain(Machine m, VmObject o, long i) {
    while (true) {
      int f = acquire(m, o, i);
      if (f != ABSENT) {
        if (f >= 0) {
          m.counters.mappedFaults.increment();
        }
        return f;
      }
      boolean dirty = o.kind == VmObject.Kind.VNODE && m.config.has(Bug.FILE_READ_ONTO_DIRTY_FRAME);
      int nf = dirty ? m.mem.allocateBusyUnzeroed() : m.mem.allocateBusy();
      if (nf < 0) {
        return NO_MEMORY;
      }
      if (o.kind == VmObject.Kind.VNODE) {
        readDisk(m, o, i, nf); // its zero words only on a zeroed frame
      } else if (o.kind == VmObject.Kind.SHARED_PAGE) {
        m.fillSharedPage(nf);
      }
      m.mem.setOwner(nf, o, i);
      boolean inserted;
      if (m.config.has(Bug.LOST_ZERO_FILL_RACE)) {
        o.pages.put(i, nf); // injected: overwrites a page a concurrent fault put there
        inserted = true;
      } else {
        inserted = o.pages.putIfAbsent(i, nf);
      }
      if (inserted) {
        if (o.kind == VmObject.Kind.VNODE) {
          m.counters.fileFaults.increment();
        } else {
          m.counters.zeroFillFaults.increment();
        }
        return nf;
      }
      m.mem.unbusy(nf);
      m.mem.free(nf); // lost the race: take the winner's page
    }
  }

  /**
   * The frame of page {@code i} of {@code o}, busy, swapping it in if needed; ABSENT when {@code o}
   * has no such page; NO_MEMORY when a swap-in found no frame. The caller holds the map lock.
   */
  public static int acquire(Machine m, VmObject o, long i) {
    PhysMem mem = m.mem;
    while (true) {
      long slot = o.pages.get(i);
      if (slot == PageMap.NONE) {
        return ABSENT;
      }
      if (!VmObject.isFrame(slot)) {
        long swapSlot = VmObject.swapSlot(slot);
        int nf = mem.allocateBusy();
        if (nf < 0) {
          return NO_MEMORY;
        }
        long[] data = m.swap.get(swapSlot);
        if (data == null) {
          mem.unbusy(nf);
          mem.free(nf);
          checkSlotInUse(o, i, slot);
          continue; // another fault swapped it in first
        }
        mem.storePage(nf, data);
        mem.setOwner(nf, o, i);
        if (o.pages.replace(i, slot, nf)) {
          m.swap.free(swapSlot);
          m.counters.swapIns.increment();
          return nf;
        }
        mem.unbusy(nf);
        mem.free(nf);
        continue;
      }
      int f = (int) slot;
      if (!mem.tryBusy(f)) {
        Sched.waiting(Sched.Step.BUSY, f);
        continue;
      }
      if (o.pages.get(i) == f) {
        if (mem.testFlag(f, PhysMem.INVALID)) {
          // W1 (Wiring): the wiring fast path fills its pages busy; one found not busy is
          // exposed before its contents are there (the review of FreeBSD D43594).
          mem.unbusy(f);
          throw new IllegalStateException(
              "W1: page "
                  + i
                  + " of "
                  + o
                  + " (frame "
                  + f
                  + ") is in its object, not busy and"
                  + " still INVALID: a fault would map what the frame's last user left");
        }
        return f;
      }
      mem.unbusy(f); // the page moved meanwhile: look again
    }
  }

  /**
   * Throws if page {@code i} of {@code o} still points to {@code slot}, a swap slot that is not in
   * use: then no other fault swapped it in (that one replaces the slot before freeing it), and
   * looking again would loop for ever. No requirements.
   */
  private static void checkSlotInUse(VmObject o, long i, long slot) {
    if (o.pages.get(i) == slot) {
      throw new IllegalStateException(
          "page "
              + i
              + " of "
              + o
              + " points to swap slot "
              + VmObject.swapSlot(slot)
              + ", which is not in use");
    }
  }

  private static void readDisk(Machine m, VmObject file, long i, int nf) {
    for (int w = 0; w < Boot.WORDS_PER_PAGE; w++) {
      long v = file.disk.word(i, w);
      if (v != 0) {
        m.mem.store(nf, w, v);
      }
    }
  }
}
