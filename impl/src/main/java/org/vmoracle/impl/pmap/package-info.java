/**
 * Page tables: the x86-64-like entry layout ({@link org.vmoracle.impl.pmap.Pte}) and the per
 * address space 4-level radix tree ({@link org.vmoracle.impl.pmap.Pmap}), whose tables are frames
 * of {@link org.vmoracle.impl.phys.PhysMem} and are counted as resident (FreeBSD D32569).
 *
 * <p>Lock-free: lookups walk with acquire loads, tables are installed and leaves changed by CAS,
 * and table pages are never freed while the pmap lives, so this package adds no lock to the package
 * order of {@code org.vmoracle.impl}. It depends on {@code phys} and {@code spec} only.
 */
package org.vmoracle.impl.pmap;
