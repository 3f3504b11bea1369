package org.vmoracle.impl;

import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import org.vmoracle.impl.core.Counters;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.rmap.ReverseMap;

/**
 * Every counter and gauge of a system, by name, for {@link ImplVm#stats()}: the counters of {@link
 * Counters} ({@code Counters.snapshot}), then these gauges, the first five summed over the live
 * address spaces (each counted once, however many processes use it):
 *
 * <pre>
 *   residentPages          valid leaves plus page-table pages (Pmap.residentCount)
 *   wiredPages             valid leaves with the WIRED bit     (Pmap.wiredCount)
 *   pageTablePages         page-table pages                    (Pmap.tablePages)
 *   pmapEarlyReturnsLive   early returns of pmap_remove so far (Pmap.earlyReturns, seed 002)
 *   superpagesLive         2 MiB PS leaves mapped now (Pmap.superpages, seed 003)
 *   pmapDemotionsLive      PS leaves demoted so far            (Pmap.demotions, seed 003)
 *   sharedTablePages       page-table pages the live objects keep for their sharers (seed 001)
 *   sharedTableLeaves      the valid leaves in them
 *   upperTablePages        PML4, PDP and PD pages of the live spaces and of those objects' pmaps
 *                          (Pmap.upperTablePages): the rest of the table pages are PTs (E4)
 *   mapEntries             map entries
 *   framesFree             free frames, once no munmap is still freeing any
 *   swapUsed               swap slots in use
 *   rmapLockOps .. rmapToDirect   the reverse map's figures (rmap.ReverseMap.Figures): lock
 *                          acquisitions, records live, their bytes, PTEs recorded, direct
 *                          pointers, conversions to a chain and back (E1, E7)
 * </pre>
 *
 * Requires the map lock exclusive, so that the numbers are one moment's.
 */
final class Stats {
  private Stats() {}

  /**
   * The counters and gauges of {@code m} and of the spaces in {@code processes}. The caller holds
   * the map lock exclusive.
   */
  static Map<String, Long> of(Machine m, Map<Integer, VmSpace> processes) {
    assert m.lock.heldExclusively() : "Stats.of: the caller holds the map lock exclusive";
    Map<String, Long> s = new LinkedHashMap<>(m.counters.snapshot());
    long resident = 0;
    long wired = 0;
    long tables = 0;
    long early = 0;
    long superpages = 0;
    long demotions = 0;
    long upper = 0;
    long entries = 0;
    for (VmSpace sp : new HashSet<>(processes.values())) {
      entries += sp.entries.size();
      resident += sp.pmap.residentCount();
      wired += sp.pmap.wiredCount();
      tables += sp.pmap.tablePages();
      early += sp.pmap.earlyReturns();
      superpages += sp.pmap.superpages();
      demotions += sp.pmap.demotions();
      upper += sp.pmap.upperTablePages();
    }
    s.put("residentPages", resident);
    s.put("wiredPages", wired);
    s.put("pageTablePages", tables);
    s.put("pmapEarlyReturnsLive", early);
    s.put("superpagesLive", superpages);
    s.put("pmapDemotionsLive", demotions);
    s.put("mapEntries", entries);
    long[] shared = sharedTables(processes);
    s.put("sharedTablePages", shared[0]);
    s.put("sharedTableLeaves", shared[1]);
    s.put("upperTablePages", upper + shared[2]);
    m.mem.awaitReclaims(); // so that the count is exact when nothing else runs
    s.put("framesFree", (long) m.mem.freeFrames());
    s.put("swapUsed", (long) m.swap.used());
    ReverseMap.Figures r = m.rmap.figures();
    s.put("rmapLockOps", r.lockOps());
    s.put("rmapRecords", r.records());
    s.put("rmapBytes", r.bytes());
    s.put("rmapPtes", r.ptes());
    s.put("rmapDirect", r.direct());
    s.put("rmapToChain", r.toChain());
    s.put("rmapToDirect", r.toDirect());
    return s;
  }

  /**
   * The table pages and valid leaves of the shared tables of every object a live space maps
   * directly (seed 001); objects only a name keeps hold tables too but are left out here.
   */
  private static long[] sharedTables(Map<Integer, VmSpace> processes) {
    Set<VmObject> seen = java.util.Collections.newSetFromMap(new IdentityHashMap<>());
    long[] n = {0, 0, 0};
    for (VmSpace sp : new HashSet<>(processes.values())) {
      for (MapEntry e : sp.entries.values()) {
        VmObject o = e.object;
        if (o != null && o.tables != null && seen.add(o)) {
          for (MapEntry pseudo : new MapEntry[] {o.tables.rw, o.tables.ro}) {
            n[0] += pseudo.space.pmap.tablePages();
            n[1] += pseudo.space.pmap.residentCount() - pseudo.space.pmap.tablePages();
            n[2] += pseudo.space.pmap.upperTablePages();
          }
        }
      }
    }
    return n;
  }
}
