package org.vmoracle.impl.pageout;

import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.phys.PhysMem;
import org.vmoracle.spec.Boot;

/**
 * Pageout: a clock over the frames that evicts pages no one has wired.
 *
 * <h2>Overview</h2>
 *
 * The hand sweeps frame numbers in order. A frame that is free, a page-table page, busy or wired is
 * skipped (wired pages are never evicted, SYS-3). Otherwise the page is unmapped everywhere through
 * the reverse map ({@code core.Machine.rmap}), by the PTE writer ({@code mmu.Mmu#unmapAll}), its
 * contents go to the file it belongs to or to swap, and the frame is freed; the next fault brings
 * the page back (SYS-1).
 *
 * <h2>Concurrency</h2>
 *
 * Runs under the exclusive map lock: no fault or access is in progress, so no thread can still be
 * using a PTE the reverse map removed (the lock stands for a TLB shootdown).
 */
public final class Pageout {
  /**
   * Pages a fault, a fork's eager copy or wiring asks pageout for when no frame is free, in pages:
   * the callers need one frame at a time, and a batch of 64 (256 KiB) saves running the clock again
   * for each of the next ones, while staying small beside any memory size a profile uses (128
   * frames at the least).
   */
  public static final int BATCH = 64;

  /**
   * Pages asked for when a new address space finds no frame for its top-level table and the shared
   * page's tables: at most four (PML4, PDP, PD, PT).
   */
  public static final int NEW_SPACE_PAGES = 4;

  private int hand; // (x)

  /**
   * Evicts up to {@code n} pages; answers how many it evicted. The caller holds the map lock
   * exclusive.
   */
  public int run(Machine m, long n) {
    assert m.lock.heldExclusively() : "Pageout.run: the caller holds the map lock exclusive";
    PhysMem mem = m.mem;
    mem.awaitReclaims(); // the clock must not meet a frame that an munmap is freeing
    int frames = m.config.frames();
    int evicted = 0;
    long[] page = new long[Boot.WORDS_PER_PAGE];
    for (int seen = 0; seen < frames && evicted < n; seen++) {
      int f = hand;
      hand = (hand + 1) % frames;
      if (mem.testFlag(f, PhysMem.FREE)
          || mem.testFlag(f, PhysMem.PTPAGE)
          || (mem.wireCount(f) > 0 && !m.config.has(Bug.PAGEOUT_EVICTS_WIRED)) // SYS-3
          || !(mem.owner(f) instanceof VmObject)) {
        continue;
      }
      VmObject o = (VmObject) mem.owner(f);
      long i = mem.ownerIndex(f);
      if (o.kind == VmObject.Kind.SHARED_PAGE || o.pages.get(i) != f) {
        continue;
      }
      if (!mem.tryBusy(f)) {
        continue;
      }
      mem.loadPage(f, page);
      if (o.kind == VmObject.Kind.VNODE) {
        m.counters.invalidations.add(m.mmu.unmapAll(o, i, f));
        o.disk.write(i, page);
        o.pages.remove(i);
        m.counters.fileWritebacks.increment();
      } else {
        long s = m.swap.put(page);
        if (s < 0) {
          mem.unbusy(f); // swap is full: keep the page
          continue;
        }
        m.counters.invalidations.add(m.mmu.unmapAll(o, i, f));
        o.pages.put(i, VmObject.swapMarker(s));
        m.counters.swapOuts.increment();
      }
      mem.unbusy(f);
      mem.free(f);
      evicted++;
    }
    return evicted;
  }
}
