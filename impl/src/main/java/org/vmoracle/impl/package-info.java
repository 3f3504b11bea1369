/**
 * The optimized concurrent VM, built the way the seeds describe: physical frames ({@code phys}),
 * 4-level page tables ({@code pmap}), address spaces and their entries ({@code map}), objects and
 * swap ({@code object}), copy-on-write groups whose backing chains hang off the mappings (DragonFly
 * 2019, no per-page pv entries), the fault handler ({@code fault}), the reverse map that walks the
 * objects' users ({@code rmap}), pageout ({@code pageout}) and collapse ({@code collapse}). {@link
 * org.vmoracle.impl.ImplVm} is the {@link org.vmoracle.spec.VmSystem} over all of it.
 *
 * <p>This package holds that facade and the operations it hands work to: {@code Registry} (pids,
 * file names, segment keys), {@code Access} (read and write), {@code MapOps} and the argument
 * checks it shares ({@code RangeCheck}), {@code ProcessOps}, {@code FileOps}, {@code SysOps},
 * {@code Stats}; beside them what those operations share: {@code Forks}, {@code Wiring}, {@code
 * Teardown}, {@code Views} and {@code Invariants}. They stay in one package: the operations call
 * Forks, Wiring and Teardown, and ImplVm calls the operations, so a subpackage of operations would
 * make a package cycle.
 *
 * <p>It depends on {@code spec} only, never on {@code model}: model and implementation share no
 * logic, so that comparing them checks two independent answers (an ArchUnit test in {@code checks}
 * enforces this).
 *
 * <h2>Lock order</h2>
 *
 * <pre>
 *   map lock (core.Machine.lock, a ScalableRwLock)
 *     shared:    read, write (Access.access), and the faults they take (Fault.fault); the
 *                second half of munmap (Teardown.unmap), entered by downgrading the exclusive
 *                hold of its first half (ScalableRwLock.downgrade), so no writer comes between;
 *                its reclaim (Teardown.reclaim) then runs under no lock, announced to PhysMem,
 *                and pageout and checkInvariants wait for it (PhysMem.awaitReclaims)
 *     exclusive: every other operation (ImplVm.apply; MapOps, ProcessOps, FileOps, SysOps),
 *                faults that need a new copy-on-write front or pageout (Access.access slow
 *                path), pageout, collapse, truncation, teardown, stats, views and
 *                checkInvariants
 *       frame busy bit (PhysMem.tryBusy; Fault.acquire, Fault.obtain, Pageout.run)
 *         held across installing one PTE; spinning, not blocking; never two at once, except
 *         that a copy-on-write holds its new front frame while it takes the frame it copies
 *         (Fault.fill): front before deeper, and no one waits for a front frame holding a deeper
 *           PTE compare-and-set (Pmap; Fault.install, Fault.unmapDeeper, Fault.remap,
 *           Rmap.removeAll)
 *       swap free-list lock (Swap.put, Swap.free): a leaf
 *       free-frame stripes (PhysMem.allocate, PhysMem.free): lock-free
 * </pre>
 *
 * <p>Legend of field tags: {@code (c)} constant after construction; {@code (x)} changed only under
 * the exclusive map lock, read under either mode; {@code (a)} atomic only; {@code (l)} the owning
 * class's own lock.
 *
 * <h2>Switches</h2>
 *
 * Every optimization can be turned off through {@link org.vmoracle.impl.core.Config}: the early
 * return of {@code pmap_remove} on an empty pmap (seed 002), the striped map lock, the collapse
 * depth (seed 000), munmap's second half under the shared lock (Linux 4.20), the pruning of emptied
 * page-table pages (FreeBSD).
 */
package org.vmoracle.impl;
