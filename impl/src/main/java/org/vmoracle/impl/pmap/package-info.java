/**
 * Page tables: the x86-64-like entry layout ({@link org.vmoracle.impl.pmap.Pte}) and the per
 * address space 4-level radix tree ({@link org.vmoracle.impl.pmap.Pmap}), whose tables are frames
 * of {@link org.vmoracle.impl.phys.PhysMem} and are counted as resident (FreeBSD D32569).
 *
 * <p>The files: {@code Pte} the entry bits; {@code Level} the four levels (shift, bytes an entry
 * maps, which entries may be leaves); {@code Pmap} the tree and its operations; {@code PmapChecker}
 * its structural invariant checker; {@code PmapArgs} the argument checks of its public methods. A
 * PD entry may be a 2 MiB PS leaf with its deposit (seed 003, Pmap's invariant P7) or a link to a
 * page table that someone else owns and other pmaps link too (seed 001, P6).
 *
 * <p>Lock-free: lookups walk with acquire loads, tables are installed and leaves changed by CAS,
 * and table pages are freed only while no other call is in flight, so this package adds no lock to
 * the package order of {@code org.vmoracle.impl}. It depends on {@code phys} and {@code spec} only.
 */
package org.vmoracle.impl.pmap;
