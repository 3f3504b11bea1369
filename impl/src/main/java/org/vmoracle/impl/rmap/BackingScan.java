package org.vmoracle.impl.rmap;

import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.User;
import org.vmoracle.impl.map.Users;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.phys.PhysMem;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.impl.sync.ScalableRwLock;
import org.vmoracle.spec.Boot;

/**
 * The reverse map without per-page records: DragonFly BSD 2019's backing scan (seed 000; kernels.md
 * §1.4, R45).
 *
 * <h2>Overview</h2>
 *
 * Page {@code i} of object {@code o} can only be mapped by the users of {@code o} ({@link User}):
 * shared entries that map {@code o} itself, and the members of copy-on-write groups whose chains
 * include {@code o}. Each such entry shows page {@code i} at exactly one address, {@link
 * MapEntry#addressOf}; the PTE there maps the page if it holds the page's frame. The work is one
 * probe per mapping of the object, not one record per page: mapping and unmapping cost the reverse
 * map nothing, which is why {@link #mapped} and {@link #unmapped} are empty.
 *
 * <h2>Concurrency</h2>
 *
 * Stateless apart from two statistics counters ({@link LongAdder}s). The searches rely on their
 * callers' locks as {@link ReverseMap} says.
 *
 * <h2>Invariants</h2>
 *
 * B1. Every valid leaf at {@code va} of entry {@code e} that maps page {@code i} of object {@code
 * o} has {@code e} (a shared entry) or {@code e}'s group among {@code o}'s users, and {@code
 * e.addressOf(i) == va}; so {@link #forEachMapping} finds it ({@link #checkMapping}).
 */
public final class BackingScan implements ReverseMap {
  private final ScalableRwLock lock; // (c) the map lock, for the assertions of the lock rules
  private final LongAdder walks; // (a) forEachMapping calls
  private final LongAdder visits; // (a) entries probed
  private final LongAdder entryWalks = new LongAdder(); // (a) forEachEntry calls
  private final Users.Tally links; // (a) the system's object-user links

  /**
   * DragonFly's {@code struct vm_map_backing} on amd64: two addresses, three pointers, a list link
   * (two), an offset and two ints.
   */
  public static final int BACKING_BYTES = 80;

  /**
   * A backing scan under map lock {@code lock} that counts its walks and probes in the two given;
   * {@code links} counts the system's object-user links, its records.
   */
  public BackingScan(ScalableRwLock lock, LongAdder walks, LongAdder visits, Users.Tally links) {
    this.lock = lock;
    this.walks = walks;
    this.visits = visits;
    this.links = links;
  }

  @Override
  public boolean keepsRecords() {
    return false;
  }

  @Override
  public Figures figures() {
    // DragonFly locks an object's backing list to link or unlink a vm_map_backing and once a walk.
    long lockOps = links.links.sum() + links.unlinks.sum() + walks.sum() + entryWalks.sum();
    long live = links.live();
    return new Figures(lockOps, live, live * BACKING_BYTES, 0, 0, 0, 0);
  }

  @Override
  public void mapped(MapEntry e, long va, long pte) {
    // No record per PTE: the users of the object find it.
  }

  @Override
  public void unmapped(MapEntry e, long va, long pte) {
    // No record per PTE.
  }

  @Override
  public void forEachMapping(VmObject o, long i, int f, Visitor v) {
    assert lock.heldExclusively() : "forEachMapping: the caller holds the map lock exclusive";
    walks.increment();
    for (User u : o.users) {
      u.forEachEntry(e -> probe(e, i, f, v));
    }
  }

  private void probe(MapEntry e, long i, int f, Visitor v) {
    visits.increment();
    long va = e.addressOf(i);
    if (va < 0) {
      return;
    }
    if (e.object != null
        && e.object.tables != null
        && e.space.pmap.sharedTableAt(va & -Boot.SEGMENT_SIZE) >= 0) {
      return; // a shared table (seed 001): its PTE is found once, through the object's pseudo-entry
    }
    long pte = e.space.pmap.lookup(va);
    if (Pte.isPresent(pte) && Pte.frame(pte) == f) {
      v.visit(e, va, pte);
    }
  }

  @Override
  public void forEachEntry(VmObject o, Consumer<MapEntry> visit) {
    assert lock.heldExclusively() : "forEachEntry: the caller holds the map lock exclusive";
    entryWalks.increment();
    o.forEachEntry(visit);
  }

  @Override
  public void checkMapping(MapEntry e, long va, long pte, PhysMem mem) {
    int f = Pte.frame(pte);
    if (!(mem.owner(f) instanceof VmObject)) {
      throw new IllegalStateException(
          "PTE at va " + Long.toHexString(va) + " maps frame " + f + ", which no object owns");
    }
    VmObject o = (VmObject) mem.owner(f);
    long i = mem.ownerIndex(f);
    User u = e.cow != null ? e.cow : e;
    if (!o.users.contains(u) || e.addressOf(i) != va) {
      throw new IllegalStateException(
          "B1: PTE at va "
              + Long.toHexString(va)
              + " of "
              + e
              + " maps page "
              + i
              + " of "
              + o
              + ", but the backing scan of that page would not find it");
    }
  }

  @Override
  public void checkInvariants() {
    // No records of its own: B1 is checked leaf by leaf.
  }
}
