/**
 * Physical memory: frames with real 4 KiB contents, the striped lock-free free pool, and the
 * per-frame state (flags with BUSY, DIRTY, REFERENCED, FREE, PTPAGE and INVALID; wire count; owner
 * object and page index). {@link org.vmoracle.impl.phys.PhysMem} is the whole public face; behind
 * it each structure is a class of its own, with its essay and the invariants it keeps:
 *
 * <pre>
 *   PhysMem     the facade; allocate, allocateRun and free, which cross the structures (I1, I4)
 *   FrameWords  frame contents: plain, acquire/release and CAS access to one long[]
 *   FrameState  flags, wire count, owner and owner index, the BUSY try-lock (I2, I5, I6)
 *   FreePool    stamped Treiber stacks in stripes, home stripes, batch stealing, the run stack
 *               of whole 2 MiB runs and their reassembly, counts (I3)
 *   Reclaims    munmap's announcement of frames on their way back to the pool
 * </pre>
 *
 * <p>Nothing in this package blocks or takes a lock. The frame busy bit ({@code tryBusy}) is the
 * one exclusion it offers, a try-lock that callers rank in the package order of {@code
 * org.vmoracle.impl}. It depends on nothing but the JDK.
 */
package org.vmoracle.impl.phys;
