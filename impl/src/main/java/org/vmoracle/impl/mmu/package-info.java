/**
 * The one writer of page tables ({@link org.vmoracle.impl.mmu.Mmu}): every leaf PTE the VM makes,
 * changes or removes goes through it, so that frame wire counts and the reverse map hear of each
 * (FreeBSD's pmap_enter / pmap_remove boundary). Depends on {@code pmap}, {@code phys}, {@code
 * rmap}, {@code map} and {@code sync}; only this package calls {@code Pmap}'s mutators.
 */
package org.vmoracle.impl.mmu;
