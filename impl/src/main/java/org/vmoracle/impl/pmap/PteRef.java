package org.vmoracle.impl.pmap;

import org.vmoracle.impl.phys.PhysMem;

/**
 * The identity of one PTE: the frame of the page-table page that holds it and its index there, the
 * way Linux 2.5's pte chains name a PTE by its address (seed 004). Unlike (pmap, va), it survives
 * shared page tables (seed 001): a PTE of a table several pmaps link is one PTE, with one identity,
 * whoever looks it up. Who the PTE belongs to is the table's owner label ({@link PhysMem#owner}): a
 * {@link Pmap} for its own tables, the VM object that holds a shared one; the address follows from
 * the label's index ({@link #va}), as Linux's {@code ptep_to_mm} and {@code ptep_to_address} found
 * the mm and the address from the PT page's {@code struct page}.
 *
 * <p>A value: no requirements. It stays meaningful while the table lives (for an own table, until
 * the pmap prunes or releases it; the callers that keep refs hold the map lock).
 *
 * @param table the frame of the page-table page (a PT)
 * @param index the entry's index in it, 0 to {@link Pmap#ENTRIES} - 1
 */
public record PteRef(int table, int index) {
  public PteRef {
    if (table < 0 || index < 0 || index >= Pmap.ENTRIES) {
      throw new IllegalArgumentException(
          "PTE ref (table " + table + ", index " + index + "): want a frame and 0 <= index < 512");
    }
  }

  /** The table's owner label: the pmap that owns it, or a shared table's VM object. */
  public Object owner(PhysMem mem) {
    return mem.owner(table);
  }

  /**
   * The address the PTE maps in its owner's numbering: for a pmap's own table, the user address;
   * for a shared table, the owner's page index times the page size (each sharer maps it at its own
   * address).
   */
  public long va(PhysMem mem) {
    return (mem.ownerIndex(table) + index) << Pmap.PAGE_SHIFT;
  }

  /** The PTE itself, as loaded with acquire. */
  public long load(PhysMem mem) {
    return mem.loadAcquire(table, index);
  }
}
