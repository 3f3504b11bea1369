package org.vmoracle.impl.core;

import java.util.concurrent.atomic.AtomicInteger;
import org.vmoracle.impl.map.Users;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.mmu.Mmu;
import org.vmoracle.impl.object.FileStore;
import org.vmoracle.impl.object.Swap;
import org.vmoracle.impl.phys.PhysMem;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.impl.rmap.BackingScan;
import org.vmoracle.impl.rmap.PteChains;
import org.vmoracle.impl.rmap.PvEntries;
import org.vmoracle.impl.rmap.ReverseMap;
import org.vmoracle.impl.sched.Sched;
import org.vmoracle.impl.sync.ScalableRwLock;
import org.vmoracle.spec.Boot;

/**
 * The machine every part of the implementation works on: physical memory, swap, the map lock,
 * counters and settings. One per system.
 *
 * <p>The map lock is one lock for all address spaces: taken shared by faults and accesses,
 * exclusive by every change of a map, a chain, an object's users or size, and by everything that
 * frees a frame (pageout, truncation, teardown). Implementation note: DragonFly and FreeBSD have a
 * lock per map plus object locks; one system-wide lock is the simpler design that still lets faults
 * on different pages run without a common exclusive lock (its readers touch only their own stripe),
 * at the price of serializing changes in different processes.
 */
public final class Machine {
  public final Config config; // (c)
  public final PhysMem mem; // (c)
  public final Swap swap; // (c)
  public final Counters counters = new Counters(); // (c)
  public final ScalableRwLock lock; // (c)
  public final ReverseMap rmap; // (c) the design Config.rmap names
  public final Mmu mmu; // (c) the one writer of page tables
  public final VmObject sharedPage; // (c) frame-backed, wired, never evicted
  public final Users.Tally links = new Users.Tally(); // (a) every object's user links
  private final AtomicInteger nextId = new AtomicInteger(1); // (a)

  /** The shared page's words (BOOT-2), copied into every frame that holds that page. */
  private static final long[] SHARED_PAGE_WORDS = new long[Boot.WORDS_PER_PAGE];

  static {
    for (int w = 0; w < SHARED_PAGE_WORDS.length; w++) {
      SHARED_PAGE_WORDS[w] = Boot.sharedPageWord(w);
    }
  }

  public Machine(Config config) {
    this.config = config;
    this.mem =
        new PhysMem(
            config.frames(),
            PhysMem.Options.defaults()
                .withBatchStealing(config.batchStealing())
                .withBusyOnAllocate(config.busyOnAllocate())
                .withContiguousRuns(config.wireSuperpages()));
    this.swap = new Swap(config.swapSlots());
    this.lock = new ScalableRwLock(config.scalableReads(), config.has(Bug.UNLOCKED_FAULTS));
    this.rmap = newRmap(config, mem, lock, counters, links);
    this.mmu =
        new Mmu(
            mem,
            rmap,
            lock,
            new Pmap.Config(
                config.pmapEarlyReturn(),
                config.has(Bug.DOUBLE_COUNTED_PT_PAGES),
                config.has(Bug.DEMOTION_LOSES_PAGE),
                config.has(Bug.EXIT_LEAKS_ROOT_TABLE)),
            config.has(Bug.WIRE_KEPT_ON_REPOINT),
            config.has(Bug.UNMAP_CLEARS_SHARED_TABLE));
    this.sharedPage = new VmObject(0, VmObject.Kind.SHARED_PAGE, "", -1, 1, null, links);
  }

  private static ReverseMap newRmap(
      Config c, PhysMem mem, ScalableRwLock lock, Counters counters, Users.Tally links) {
    switch (c.rmap()) {
      case BACKING:
        return new BackingScan(lock, counters.rmapWalks, counters.rmapVisits, links);
      case PV:
        return new PvEntries(c.frames(), lock, c.has(Bug.PV_UNLOCKED_INSERT));
      case PTECHAIN:
        return new PteChains(
            mem, lock, c.chainCollapseToDirect(), c.has(Bug.CHAIN_HEAD_MOVE_DROPS));
    }
    throw new AssertionError(c.rmap());
  }

  /**
   * A new, empty address space over pmap {@code p}, with the map switches of {@link #config}. No
   * requirements.
   */
  public VmSpace newSpace(Pmap p) {
    VmSpace sp =
        new VmSpace(
            newId(),
            p,
            lock,
            config.placementHint(),
            config.lookupHints(),
            config.has(Bug.CLIP_LEAVES_USER_OFF_LIST));
    p.serve(sp); // for reverse maps that name PTEs by address (seed 004)
    return sp;
  }

  /** Fills frame {@code f}, which the caller holds, with the shared page's words (BOOT-2). */
  public void fillSharedPage(int f) {
    mem.storePage(f, SHARED_PAGE_WORDS);
  }

  /**
   * Makes freshly allocated frame {@code f} page {@code i} of {@code o}: takes its busy bit, names
   * the owner, releases it. The caller holds the map lock exclusive and has not published {@code
   * f}.
   */
  public void own(int f, Object o, long i) {
    while (!mem.tryBusy(f)) {
      Sched.waiting(Sched.Step.BUSY, f); // a stale tryBusy of the frame's last owner lets go
    }
    mem.setOwner(f, o, i);
    mem.unbusy(f);
  }

  /** A fresh id for an object or address space. No requirements. */
  public int newId() {
    return nextId.getAndIncrement();
  }

  /** A new anonymous object. No requirements. */
  public VmObject newAnon() {
    return new VmObject(newId(), VmObject.Kind.ANON, "", -1, VmObject.UNBOUNDED, null, links);
  }

  /** A new shared anonymous object (MMAP-5). No requirements. */
  public VmObject newSharedAnon() {
    VmObject o = newAnon();
    o.sharedAnon = true;
    return o;
  }

  /** A new file object of {@code pages} pages. No requirements. */
  public VmObject newFile(String name, long pages, int bootNumber) {
    return new VmObject(
        newId(),
        VmObject.Kind.VNODE,
        name,
        -1,
        pages,
        new FileStore(bootNumber, bootNumber > 0 ? pages : 0),
        links);
  }

  /** A new segment of {@code pages} pages. No requirements. */
  public VmObject newSegment(long key, long pages) {
    return new VmObject(newId(), VmObject.Kind.SHM, "", key, pages, null, links);
  }
}
