package org.vmoracle.impl;

import java.util.List;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.fault.Fault;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.pageout.Pageout;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;

/**
 * mlock and munlock (WIRE-*). Requires the map lock exclusive.
 *
 * <p>Wiring faults every page of the range in (a store fault for writable private ranges, which
 * breaks copy-on-write now, WIRE-2) and sets the WIRED bit of its PTE, taking a wire count on the
 * frame; pageout never evicts a wired frame. Implementation note: before changing anything, the
 * frames the range could need are made free (by pageout if need be); with the lock exclusive no one
 * else can take them, so wiring then cannot fail halfway, and EAGAIN leaves everything as it was
 * (WIRE-7) without a rollback.
 */
final class Wiring {
  private Wiring() {}

  /** Table levels under the PML4 (PDP, PD, PT): what a new leaf may need allocated above it. */
  private static final int TABLE_LEVELS_BELOW_ROOT = 3;

  /** Wires [start, end), which is mapped; false (nothing changed) without memory. */
  static boolean wire(Machine m, Pageout pageout, VmSpace sp, long start, long end) {
    assert m.lock.heldExclusively() : "Wiring.wire: the caller holds the map lock exclusive";
    List<MapEntry> range = sp.overlapping(start, end);
    if (surelyTooLarge(m, sp, range, start, end)) {
      return false;
    }
    long need = 0;
    for (MapEntry e : range) {
      long from = Math.max(start, e.start);
      long to = Math.min(end, e.end);
      need += framesNeeded(e, from, to, e.prot);
    }
    if (!reserve(m, pageout, need)) {
      return false;
    }
    for (MapEntry e : sp.clipRange(start, end)) {
      // WIRE-9: a flag, not a count. An entry wired already is still faulted in again: pages a
      // truncation took away and a regrowth brought back must be copied now (WIRE-2), as
      // Linux populates a VM_LOCKED range on every mlock.
      e.wired = true;
      if (!wirePages(m, pageout, e)) {
        throw new IllegalStateException("wiring ran out of reserved frames at " + e);
      }
    }
    return true;
  }

  /**
   * Faults in and wires every page of wired entry {@code e} (WIRE-1, WIRE-2, WIRE-10); pages of an
   * inaccessible entry are left alone (WIRE-12). False if frames ran out.
   */
  static boolean wirePages(Machine m, Pageout pageout, MapEntry e) {
    assert m.lock.heldExclusively() : "Wiring.wirePages: the caller holds the map lock exclusive";
    if (e.prot == Prot.NONE) {
      return true;
    }
    boolean store = e.sharing == Sharing.PRIVATE && e.prot.canWrite();
    Pmap p = e.space.pmap;
    for (long va = e.start; va < e.end; va += Boot.PAGE_SIZE) {
      if (e.shown().pastEnd(e.index(va))) {
        continue; // truncated away under the mapping: nothing to fault in (FILE-8)
      }
      while (true) {
        long pte = p.lookup(va);
        if (Pte.isPresent(pte) && (!store || Pte.isWritable(pte))) {
          if (!Pte.isWired(pte)) {
            long wired = Pte.make(Pte.frame(pte), Pte.isWritable(pte), true);
            if (!m.mmu.replace(e, va, pte, wired)) {
              continue; // the PTE writer takes the frame's wire
            }
          }
          break;
        }
        Fault.Outcome o = Fault.fault(m, e.space, va, store);
        if (o == Fault.Outcome.NEED_MEMORY) {
          if (pageout.run(m, Pageout.BATCH) == 0) {
            return false;
          }
        } else if (o != Fault.Outcome.DONE && o != Fault.Outcome.NEED_SHADOW) {
          throw new IllegalStateException("wiring " + Long.toHexString(va) + ": " + o);
        }
      }
    }
    return true;
  }

  /**
   * Unwires entry {@code e}: clears WIRED on its PTEs and drops the frames' wire counts. The caller
   * holds the map lock exclusive.
   */
  static void unwire(Machine m, MapEntry e) {
    assert m.lock.heldExclusively() : "Wiring.unwire: the caller holds the map lock exclusive";
    e.wired = false;
    Pmap p = e.space.pmap;
    for (long va = e.start; va < e.end; va += Boot.PAGE_SIZE) {
      while (true) {
        long pte = p.lookup(va);
        if (!Pte.isPresent(pte) || !Pte.isWired(pte)) {
          break;
        }
        if (m.mmu.replace(e, va, pte, Pte.make(Pte.frame(pte), Pte.isWritable(pte), false))) {
          break; // the PTE writer dropped the frame's wire
        }
      }
    }
  }

  /**
   * Makes free the frames that mprotect of [start, end) to {@code prot} may take to keep its wired
   * entries faulted in and wired (WIRE-10: a private one that becomes writable is copied), for the
   * entries its walk reaches (PROT-3: up to the first hole); false if it cannot. With them free and
   * the lock exclusive, the mprotect cannot run out halfway, so its ENOMEM changes nothing (MEM-1).
   */
  static boolean reserveForProtect(
      Machine m, Pageout pageout, VmSpace sp, long start, long end, Prot prot) {
    assert m.lock.heldExclusively()
        : "Wiring.reserveForProtect: the caller holds the map lock exclusive";
    long need = 0;
    long at = start;
    for (MapEntry e : sp.overlapping(start, end)) {
      if (e.start > at) {
        break; // a hole: the walk stops here
      }
      if (e.wired && refaultsOnProtect(e.prot, prot)) {
        need += framesNeeded(e, Math.max(start, e.start), Math.min(end, e.end), prot);
      }
      at = e.end;
    }
    return reserve(m, pageout, need);
  }

  /**
   * Whether mprotect of a wired range from {@code before} to {@code after} faults it in again: when
   * it becomes accessible (its PTEs went with PROT_NONE) or writable (WIRE-10: a private one is
   * copied). A change that keeps it writable, or takes permissions away, faults nothing in. No
   * requirements.
   */
  static boolean refaultsOnProtect(Prot before, Prot after) {
    if (after == Prot.NONE) {
      return false;
    }
    return !before.canRead() || (!before.canWrite() && after.canWrite());
  }

  /**
   * An upper bound of the frames wiring [from, to) of {@code e} may take with protection {@code
   * prot}: one per page that has no suitable PTE yet, plus page-table pages.
   */
  private static long framesNeeded(MapEntry e, long from, long to, Prot prot) {
    if (prot == Prot.NONE) {
      return 0;
    }
    boolean store = e.sharing == Sharing.PRIVATE && prot.canWrite();
    long need = 0;
    for (long va = from; va < to; va += Boot.PAGE_SIZE) {
      long pte = e.space.pmap.lookup(va);
      if (!Pte.isPresent(pte) || (store && !Pte.isWritable(pte))) {
        need++;
      }
    }
    // Page-table pages: the range spans at most segments + 1 PT pages (one per 2 MiB it touches),
    // and each could need a PD and a PDP above it as well; a loose bound, three per segment.
    long segments = (to - from + Boot.SEGMENT_SIZE - 1) / Boot.SEGMENT_SIZE;
    return need + TABLE_LEVELS_BELOW_ROOT * (segments + 1);
  }

  /**
   * Whether wiring [start, end) surely needs more frames than the machine has, told without looking
   * at each page: at most the space's resident pages are present already, so every other accessible
   * page of the range needs a frame. So an mlock of 2^35 pages answers EAGAIN (WIRE-7) at once
   * instead of looking up every PTE first.
   */
  private static boolean surelyTooLarge(
      Machine m, VmSpace sp, List<MapEntry> range, long start, long end) {
    long pages = 0;
    for (MapEntry e : range) {
      if (e.prot != Prot.NONE) {
        pages += (Math.min(end, e.end) - Math.max(start, e.start)) / Boot.PAGE_SIZE;
      }
    }
    return pages - sp.pmap.residentCount() > m.mem.frames();
  }

  /** Makes {@code need} frames free, by pageout if need be; false if it cannot. */
  private static boolean reserve(Machine m, Pageout pageout, long need) {
    if (m.mem.freeFrames() >= need) {
      return true;
    }
    pageout.run(m, need - m.mem.freeFrames());
    return m.mem.freeFrames() >= need;
  }
}
