package org.vmoracle.impl.rmap;

import java.util.function.Consumer;
import org.vmoracle.impl.map.Cow;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.phys.PhysMem;

/**
 * The reverse map: from a page to the PTEs that map it. The one place the implementation asks "who
 * maps this page"; which design answers is a setting ({@code core.Config.Rmap}).
 *
 * <h2>Overview</h2>
 *
 * Three designs answer the question in the kernels this project follows (kernels.md §1.4):
 *
 * <ul>
 *   <li>{@link BackingScan}, the default: no record per page. The users of an object (shared
 *       entries and copy-on-write groups, {@link VmObject#users}) are the only ones that can map
 *       its pages, each at one address; the scan probes those. DragonFly BSD 2019 (seed 000).
 *   <li>{@link PvEntries} (FreeBSD; DragonFly before 2019): one record per mapped PTE on a per-page
 *       list.
 *   <li>{@link PteChains} (Linux 2.5, seed 004): a direct pointer for a page mapped once, else a
 *       chain of cache-line nodes.
 * </ul>
 *
 * The last two keep per-PTE records, so they must hear of every PTE made and removed: the one PTE
 * writer ({@code mmu.Mmu}) calls {@link #mapped} and {@link #unmapped} for each, and nothing else
 * changes leaves. The backing scan ignores both. A design that keeps records names each PTE by its
 * {@link org.vmoracle.impl.pmap.PteRef} ({@code e.space.pmap.ref(va)}: the table frame and index,
 * whose owner label gives the pmap or, for a table shared through a VM object, the object), which
 * stays one identity when several pmaps link one table (seed 001).
 *
 * <h2>Concurrency</h2>
 *
 * {@link #mapped} and {@link #unmapped} are called under the map lock in either mode, by the PTE
 * writer around the leaf's compare-and-set: {@code mapped} for the new leaf before it, {@code
 * unmapped} for the old leaf after it succeeded, or for the new one when it failed ({@code
 * mmu.Mmu}'s essay). So a record exists from before a leaf is public until after it is gone; an
 * implementation that keeps records synchronizes them itself. The searches are called under the map
 * lock: {@link #forEachMapping} and {@link #forEachEntry} exclusive (users, members and ranges are
 * then stable, and no fault installs a PTE meanwhile), {@link #forEachInGroup} in either mode (a
 * copy-on-write fault under the shared lock holds the new front frame busy, so every fault of the
 * group on that page waits; see {@code fault.Fault}).
 */
public sealed interface ReverseMap permits BackingScan, PvEntries, PteChains {

  /**
   * What a design costs, one moment's figures (experiments E1 and E7): its records live and the
   * bytes they would take in the kernel it follows, the lock acquisitions it made, and for the
   * designs that record PTEs, the PTEs recorded and the conversions between a direct pointer and a
   * chain. A count a design does not keep is 0.
   *
   * @param lockOps acquisitions of the design's own locks so far: per-page list locks (pv, chains),
   *     or the object's backing-list lock, taken once a link, unlink or walk (backing)
   * @param records records live: pv entries; chain nodes (seed 004's ReverseMaps: a direct pointer
   *     is not counted); or object-user links, DragonFly's {@code vm_map_backing}s
   * @param bytes what the records take: 24 a pv entry (FreeBSD amd64: its address and list links),
   *     64 a chain node (one cache line), 80 a {@code vm_map_backing} (DragonFly's struct)
   * @param ptes PTEs recorded now (pv, chains); 0 for the backing scan, which records none
   * @param direct pages whose one PTE is held by a direct pointer (chains only)
   * @param toChain direct pointers turned into chains so far (chains only)
   * @param toDirect chains turned back into direct pointers so far (chains only, with {@code
   *     core.Config.Switch#CHAIN_COLLAPSE_TO_DIRECT})
   */
  record Figures(
      long lockOps,
      long records,
      long bytes,
      long ptes,
      long direct,
      long toChain,
      long toDirect) {}

  /**
   * Whether this design keeps a record per PTE (pv entries, pte chains): then a search for the PTEs
   * of one page costs a walk of that page's records only, and collapse and truncation find their
   * PTEs page by page through {@link #forEachMapping}, as FreeBSD's do through the pv lists ({@code
   * vm_object_page_remove} → {@code pmap_remove_all}). The backing scan keeps none, and they walk
   * the entries instead.
   */
  boolean keepsRecords();

  /**
   * This design's figures. Exact when no call is in flight (the caller holds the map lock
   * exclusive); a statistic otherwise.
   */
  Figures figures();

  /** What the searches call for each PTE they find. */
  @FunctionalInterface
  interface Visitor {
    /**
     * Called with an entry, the address in it, and the PTE there as loaded (acquire). May change
     * that PTE through the PTE writer.
     */
    void visit(MapEntry e, long va, long pte);
  }

  /**
   * A leaf mapping frame {@code Pte.frame(pte)} was installed at {@code va} of entry {@code e}
   * where none mapped that frame before, or is about to be: called by the PTE writer before the CAS
   * that makes it, and undone by {@link #unmapped} if that CAS fails.
   */
  void mapped(MapEntry e, long va, long pte);

  /**
   * The leaf {@code pte} at {@code va} of entry {@code e} was cleared or replaced by one of another
   * frame (called by the PTE writer after the CAS that did it), or was never made (after a failed
   * CAS, undoing {@link #mapped}).
   */
  void unmapped(MapEntry e, long va, long pte);

  /**
   * Calls {@code v} for every PTE that maps frame {@code f}, which is page {@code i} of {@code o}.
   * The caller holds the map lock exclusive.
   */
  void forEachMapping(VmObject o, long i, int f, Visitor v);

  /**
   * Calls {@code v} for every member of group {@code c} that shows page {@code i}, with its address
   * and its PTE there (0 when it has none), in the order of {@code c.members}: copy-on-write's
   * group scans, which must reach members whatever frame they map, so a walk of the map in every
   * design, not a search of the page's records. The caller holds the map lock.
   */
  default void forEachInGroup(Cow c, long i, Visitor v) {
    for (MapEntry e : c.members) {
      long va = e.addressOf(i);
      if (va >= 0) {
        v.visit(e, va, e.space.pmap.lookup(va));
      }
    }
  }

  /**
   * Calls {@code visit} with every entry that may map a page of {@code o} (its shared entries and
   * the members of the groups over it): truncation's walk when the design keeps no records ({@link
   * #keepsRecords}). The caller holds the map lock exclusive.
   */
  default void forEachEntry(VmObject o, Consumer<MapEntry> visit) {
    o.forEachEntry(visit);
  }

  /**
   * Checks that this reverse map would find valid leaf {@code pte} at {@code va} of {@code e}: that
   * {@link #forEachMapping} of the page it maps visits it. Throws {@link IllegalStateException}
   * naming the PTE otherwise. The caller holds the map lock exclusive; nothing moves.
   */
  void checkMapping(MapEntry e, long va, long pte, PhysMem mem);

  /**
   * Checks this reverse map's own records and counts, after {@link #checkMapping} was called for
   * every valid leaf; the backing scan keeps none. The caller holds the map lock exclusive.
   */
  void checkInvariants();
}
