package org.vmoracle.impl.rmap;

import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.Cow;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.object.VmObject;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.impl.pmap.Pte;

/**
 * The reverse map: every PTE that maps a given page, found without per-page records.
 *
 * <h2>Overview</h2>
 *
 * Page {@code i} of object {@code o} can only be mapped by the users of {@code o}: shared entries
 * that map {@code o} itself, and the members of copy-on-write groups whose chains include {@code
 * o}. Each such entry shows page {@code i} at exactly one address, {@link MapEntry#addressOf}; the
 * PTE there maps the page if it holds the page's frame. This is DragonFly's 2019 backing scan
 * (kernels.md §1.4, R45): the work is one probe per mapping of the object, not per page.
 *
 * <h2>Concurrency</h2>
 *
 * Callers hold the map lock exclusive, so users, members and ranges are stable and no fault
 * installs a PTE meanwhile.
 */
public final class Rmap {
  private Rmap() {}

  /** Called for each PTE that maps the page. */
  public interface Visitor {
    void visit(MapEntry e, long va, long pte);
  }

  /** Calls {@code v} for every PTE mapping frame {@code f}, page {@code i} of {@code o}. */
  public static void forEachMapping(Machine m, VmObject o, long i, int f, Visitor v) {
    m.counters.rmapWalks.increment();
    for (Object u : o.users) {
      if (u instanceof MapEntry) {
        probe(m, (MapEntry) u, i, f, v);
      } else {
        for (MapEntry e : ((Cow) u).members) {
          probe(m, e, i, f, v);
        }
      }
    }
  }

  private static void probe(Machine m, MapEntry e, long i, int f, Visitor v) {
    m.counters.rmapVisits.increment();
    long va = e.addressOf(i);
    if (va < 0) {
      return;
    }
    long pte = e.space.pmap.lookup(va);
    if (Pte.isPresent(pte) && Pte.frame(pte) == f) {
      v.visit(e, va, pte);
    }
  }

  /**
   * Removes every PTE that maps frame {@code f}, page {@code i} of {@code o} (kernels.md R43).
   * Answers how many were removed. The caller holds the map lock exclusive.
   */
  public static int removeAll(Machine m, VmObject o, long i, int f) {
    assert m.lock.heldExclusively() : "Rmap.removeAll: the caller holds the map lock exclusive";
    int[] removed = {0};
    forEachMapping(
        m,
        o,
        i,
        f,
        (e, va, pte) -> {
          Pmap p = e.space.pmap;
          if (p.compareAndSet(va, pte, 0)) {
            if (Pte.isWired(pte)) {
              m.mem.unwire(f);
            }
            removed[0]++;
            m.counters.invalidations.increment();
          }
        });
    return removed[0];
  }
}
