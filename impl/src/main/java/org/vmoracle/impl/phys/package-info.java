/**
 * Physical memory: frames with real 4 KiB contents, the striped lock-free free pool, and the
 * per-frame state (flags with BUSY, DIRTY, REFERENCED, FREE and PTPAGE; wire count; owner object
 * and page index). See {@link org.vmoracle.impl.phys.PhysMem}.
 *
 * <p>Nothing in this package blocks or takes a lock. The frame busy bit ({@code tryBusy}) is the
 * one exclusion it offers, a try-lock that callers rank in the package order of {@code
 * org.vmoracle.impl}. It depends on nothing but the JDK.
 */
package org.vmoracle.impl.phys;
