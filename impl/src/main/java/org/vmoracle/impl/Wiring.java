package org.vmoracle.impl;

import java.util.ArrayList;
import java.util.List;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.fault.Fault;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.object.PageMap;
import org.vmoracle.impl.pageout.Pageout;
import org.vmoracle.impl.phys.PhysMem;
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
 *
 * <h2>The fast path (seed 003, switch WIRE_SUPERPAGES)</h2>
 *
 * A 2 MiB-aligned segment of the range that its entry maps whole, from private anonymous memory (a
 * chain of one object, no copy pending) or from a shared anonymous or shm object, none of whose 512
 * pages exists yet (resident or swapped), and whose PD entry is 0 (an empty table left there is
 * pruned first), is not faulted in page by page. Instead, with the lock exclusive:
 *
 * <ol>
 *   <li>claim: the free pool gives 512 contiguous, aligned frames at once ({@code
 *       PhysMem.allocateRun}: BUSY and INVALID, contents as their last user left them); one frame
 *       more becomes the PS leaf's deposit; the PDP and PD are made; the 512 frames go into the
 *       object, still busy;
 * </ol>
 *
 * and then, in mlock, with the lock downgraded to shared (ImplVm), so that faults elsewhere go on
 * during the part that takes time:
 *
 * <ol start="2">
 *   <li>fill: the 512 frames are zeroed in one pass and lose INVALID;
 *   <li>map: one 2 MiB PS leaf, WIRED, maps them (Mmu.installSuperpage), or, if a fault of another
 *       thread built a table there meanwhile, 512 4 KiB leaves do;
 *   <li>release: the frames are unbusied.
 * </ol>
 *
 * W1, the review's objection to D43594 as an invariant: no page is ever visible to collapse,
 * pageout or a fault while it is invalid, or wired but invalid, or unbusied but invalid. A frame is
 * INVALID only between claim and fill, and busy from claim to release; every path that finds a page
 * in an object (Fault.acquire, pageout's clock, collapse) takes the frame busy before it uses it,
 * so it waits until release; and pageout and collapse, which take the lock exclusive, cannot even
 * run before release. PhysMem.checkInvariants checks that no frame is INVALID when nothing is in
 * flight; the Lincheck class FastWireLincheckTest races mlock against faults, and
 * FAST_WIRE_EXPOSES_INVALID is the bug it must catch. Every frame the segment takes (512 pages and
 * 3 tables) is counted in wire()'s reservation, as if faulted in, so the fast path never needs more
 * than the slow one; where the pool has no whole run, the segment is faulted in 4 KiB at a time as
 * before.
 */
final class Wiring {
  private Wiring() {}

  /** 4 KiB pages in a 2 MiB segment. */
  private static final int SEGMENT_PAGES = (int) (Boot.SEGMENT_SIZE / Boot.PAGE_SIZE);

  /** A segment the fast path claimed: its entry, address, first frame and deposit. */
  private record Segment(MapEntry e, long va, int base, int deposit) {}

  /**
   * The segments an mlock claimed, filled and mapped later with the lock downgraded ({@link
   * #populate}). Confined to the mlock's thread.
   */
  static final class Populate {
    private final List<Segment> segments = new ArrayList<>();

    /** Whether nothing was claimed. */
    boolean isEmpty() {
      return segments.isEmpty();
    }
  }

  /** Table levels under the PML4 (PDP, PD, PT): what a new leaf may need allocated above it. */
  private static final int TABLE_LEVELS_BELOW_ROOT = 3;

  /**
   * Wires [start, end), which is mapped; false (nothing changed) without memory. Segments the fast
   * path claims are filled and mapped at once when {@code later} is null, else added to it for
   * {@link #populate}.
   */
  static boolean wire(
      Machine m, Pageout pageout, VmSpace sp, long start, long end, Populate later) {
    assert m.lock.heldExclusively() : "Wiring.wire: the caller holds the map lock exclusive";
    List<MapEntry> range = sp.overlapping(start, end);
    if (surelyTooLarge(m, sp, range, start, end)) {
      return false;
    }
    if (!reserveForWire(m, pageout, range, start, end)) {
      return false;
    }
    for (MapEntry e : sp.clipRange(start, end)) {
      // WIRE-9: a flag, not a count. An entry wired already is still faulted in again: pages a
      // truncation took away and a regrowth brought back must be copied now (WIRE-2), as
      // Linux populates a VM_LOCKED range on every mlock.
      e.wired = true;
      m.mmu.unshare(e, e.start, e.end); // seed 001: wiring is this space's alone (reserved)
      if (!wirePages(m, pageout, e, later)) {
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
    return wirePages(m, pageout, e, null);
  }

  /**
   * {@link #wirePages(Machine, Pageout, MapEntry)}, taking the fast path where it applies: its
   * segments filled at once when {@code later} is null, else added to it.
   */
  private static boolean wirePages(Machine m, Pageout pageout, MapEntry e, Populate later) {
    assert m.lock.heldExclusively() : "Wiring.wirePages: the caller holds the map lock exclusive";
    if (e.prot == Prot.NONE) {
      return true;
    }
    boolean store = e.sharing == Sharing.PRIVATE && e.prot.canWrite();
    Pmap p = e.space.pmap;
    for (long va = e.start; va < e.end; va += Boot.PAGE_SIZE) {
      if (m.config.wireSuperpages()
          && va % Boot.SEGMENT_SIZE == 0
          && va + Boot.SEGMENT_SIZE <= e.end) {
        Segment s = claim(m, e, va);
        if (s != null) {
          if (later != null) {
            later.segments.add(s);
          } else {
            fill(m, s);
          }
          va += Boot.SEGMENT_SIZE - Boot.PAGE_SIZE;
          continue;
        }
      }
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
   * The object whose pages {@code e} would wire by the fast path, or null where it does not apply:
   * a shared anonymous or shm object of a shared entry, or the one anonymous object of a private
   * entry's chain (no copy pending, nothing below it). Files are never wired this way: their pages
   * come from the disk, not zeroed.
   */
  private static VmObject fastObject(MapEntry e) {
    if (e.object != null) {
      VmObject.Kind k = e.object.kind;
      return k == VmObject.Kind.ANON || k == VmObject.Kind.SHM ? e.object : null;
    }
    if (e.cow.needsCopy) {
      return null;
    }
    VmObject[] chain = e.cow.chain();
    VmObject o = chain[0];
    return chain.length == 1 && o.kind == VmObject.Kind.ANON ? o : null;
  }

  /**
   * Step 1 of the fast path (the class essay) for the segment at {@code va} of {@code e}, which
   * {@code e} maps whole: answers the claimed segment, or null (nothing changed, but an empty table
   * there may have been pruned) where the fast path does not apply or no run is free. The caller
   * holds the map lock exclusive.
   */
  private static Segment claim(Machine m, MapEntry e, long va) {
    VmObject o = fastObject(e);
    if (o == null) {
      return null;
    }
    long first = e.index(va);
    for (int k = 0; k < SEGMENT_PAGES; k++) {
      if (o.pastEnd(first + k) || o.pages.get(first + k) != PageMap.NONE) {
        return null; // a page exists (or cannot): it keeps its frame, 4 KiB at a time
      }
    }
    Pmap p = e.space.pmap;
    if (!p.segmentIsEmpty(va)) {
      m.mmu.prune(e, va, va + Boot.SEGMENT_SIZE); // no page exists, so a table here is empty
      if (!p.segmentIsEmpty(va)) {
        return null;
      }
    }
    int base = m.mem.allocateRun();
    if (base < 0) {
      return null;
    }
    int deposit = m.mem.allocate();
    if (deposit < 0 || !m.mmu.reserveDirectory(e, va)) {
      if (deposit >= 0) {
        m.mem.free(deposit);
      }
      freeRun(m, base);
      return null;
    }
    boolean expose = m.config.has(Bug.FAST_WIRE_EXPOSES_INVALID);
    for (int k = 0; k < SEGMENT_PAGES; k++) {
      m.mem.setOwner(base + k, o, first + k);
      if (!o.pages.putIfAbsent(first + k, base + k)) {
        throw new IllegalStateException("page " + (first + k) + " of " + o + " appeared meanwhile");
      }
      if (expose) {
        m.mem.unbusy(base + k); // injected: in the object, not busy, not yet zeroed (W1)
      }
    }
    return new Segment(e, va, base, deposit);
  }

  /** Gives a claimed run back, its frames busy and INVALID, in no object. */
  private static void freeRun(Machine m, int base) {
    for (int k = 0; k < SEGMENT_PAGES; k++) {
      m.mem.free(base + k); // drops BUSY and INVALID with every other flag
    }
  }

  /**
   * Steps 2 to 4 of the fast path (the class essay) for every segment {@code later} holds: zero,
   * map, unbusy. The caller holds the map lock, shared (the mlock that claimed them, downgraded) or
   * exclusive.
   */
  static void populate(Machine m, Populate later) {
    for (Segment s : later.segments) {
      fill(m, s);
    }
    later.segments.clear();
  }

  /** Steps 2 to 4 for one segment. The caller holds the map lock (either mode). */
  private static void fill(Machine m, Segment s) {
    MapEntry e = s.e();
    boolean writable = e.prot.canWrite();
    m.mem.zeroRun(s.base());
    for (int k = 0; k < SEGMENT_PAGES; k++) {
      m.mem.clearFlag(s.base() + k, PhysMem.INVALID);
    }
    long pde = Pte.superpage(s.base(), writable, true);
    if (m.mmu.installSuperpage(e, s.va(), pde, s.deposit()) == Pmap.Install.INSTALLED) {
      m.counters.superpageWires.increment();
    } else {
      // A fault of another thread built a table here since the claim (it waits for our frames):
      // map them as 4 KiB leaves instead. The PD exists, so the tables cannot run out.
      m.counters.superpageFallbacks.increment();
      for (int k = 0; k < SEGMENT_PAGES; k++) {
        long va = s.va() + (long) k * Boot.PAGE_SIZE;
        long pte = Pte.make(s.base() + k, writable, true);
        if (m.mmu.install(e, va, 0, pte) == Pmap.Install.NO_MEMORY) {
          throw new IllegalStateException("no frame for a page table under a reserved PD at " + e);
        }
      }
    }
    if (!m.config.has(Bug.FAST_WIRE_EXPOSES_INVALID)) {
      for (int k = 0; k < SEGMENT_PAGES; k++) {
        m.mem.unbusy(s.base() + k);
      }
    }
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
      // Seed 001: a private copy of each shared table the change touches. The copy is of the
      // whole entry's range: clipping may leave one segment's table to each piece.
      need += m.mmu.sharedLinks(e, e.start, e.end);
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
    return need + tablesBound(from, to);
  }

  /**
   * The page-table pages wiring [from, to) may take: the range spans at most segments + 1 PT pages
   * (one per 2 MiB it touches; a fast-path segment's deposit is its PT), and each could need a PD
   * and a PDP above it as well; a loose bound, three per segment.
   */
  private static long tablesBound(long from, long to) {
    long segments = (to - from + Boot.SEGMENT_SIZE - 1) / Boot.SEGMENT_SIZE;
    return TABLE_LEVELS_BELOW_ROOT * (segments + 1);
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

  /**
   * Makes free the frames that wiring [start, end) of {@code range} may take; false if it cannot.
   * The count leaves out the pages of the range that are mapped already, and pageout, which makes
   * frames free, may evict exactly those (they are not wired yet): so after a pageout the count is
   * taken again, until it holds with no pageout since. A pressure hunt found the single count
   * short: the wiring then faulted the evicted pages back in and ran out halfway. After {@link
   * #RECOUNTS} rounds it counts every accessible page of the range, mapped or not, which no pageout
   * can make too small. The caller holds the map lock exclusive.
   */
  private static boolean reserveForWire(
      Machine m, Pageout pageout, List<MapEntry> range, long start, long end) {
    for (int round = 0; ; round++) {
      boolean everyPage = round == RECOUNTS;
      long need = 0;
      for (MapEntry e : range) {
        long from = Math.max(start, e.start);
        long to = Math.min(end, e.end);
        need += everyPage ? framesBound(e, from, to) : framesNeeded(e, from, to, e.prot);
        need += m.mmu.sharedLinks(e, e.start, e.end); // seed 001: their private copies
      }
      if (m.mem.freeFrames() >= need) {
        return true;
      }
      if (everyPage) {
        return reserve(m, pageout, need);
      }
      if (pageout.run(m, need - m.mem.freeFrames()) == 0) {
        return false; // nothing more to evict: the count cannot be met
      }
    }
  }

  /** Rounds of counting and pageout {@link #reserveForWire} tries before it counts every page. */
  private static final int RECOUNTS = 3;

  /**
   * The frames wiring [from, to) of {@code e} can take at most, whatever is mapped now: one per
   * accessible page, and {@link #tablesBound}.
   */
  private static long framesBound(MapEntry e, long from, long to) {
    if (e.prot == Prot.NONE) {
      return 0;
    }
    return (to - from) / Boot.PAGE_SIZE + tablesBound(from, to);
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
