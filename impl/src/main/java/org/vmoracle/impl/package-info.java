/**
 * The optimized concurrent VM, built the way the seeds describe. {@link org.vmoracle.impl.ImplVm}
 * is the {@link org.vmoracle.spec.VmSystem} over all of it.
 *
 * <h2>Packages</h2>
 *
 * Each line: what the package holds; what it may depend on (besides the JDK and {@code spec}). The
 * ArchUnit tests in {@code checks} (ModuleDependencyTest) enforce the rows marked *, and that no
 * two packages depend on each other.
 *
 * <pre>
 *   sched     named scheduling points for controlled runs (Sched), free otherwise    JDK only *
 *   phys      frames: contents, per-frame state, the striped free pool, reclaims    sched *
 *   pmap      4-level page tables in frames (levels, PS leaves, shared tables),
 *             PTE identities (PteRef), the tree checker                              phys, sched *
 *   sync      the striped map lock, striped counters                                 nothing
 *   object    page slots (PageMap), swap, file contents                              nothing
 *   map       address spaces, entries, copy-on-write groups, VM objects and their
 *             users (the sealed User: MapEntry or Cow)                               object, pmap, sync
 *   rmap      the reverse map behind a sealed interface: BackingScan (seed 000),
 *             PvEntries (FreeBSD), PteChains (seed 004); per-page locks              map and below *
 *   mmu       the one writer of page tables: leaves, wire counts, rmap hooks         rmap, map and below *
 *   core      settings and switches, injected bugs, counters, the Machine            all of the above
 *   fault     the page-fault handler                                                 core and below
 *   pageout   the clock that evicts pages through the reverse map                    core and below
 *   collapse  chain collapse and the reclaim of shadowed pages                       core, pageout and below
 *   (this)    the facade and its operations                                          everything in impl
 * </pre>
 *
 * Only {@code mmu} calls Pmap's mutators and PhysMem's wire and unwire (ArchUnit), so every PTE
 * made or removed reaches the wire counts and the reverse map.
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
 *           PTE compare-and-set (Pmap, through mmu.Mmu; Fault.install, Fault.unmapDeeper,
 *           Fault.remap, Mmu.unmapAll)
 *             a page's reverse-map list lock (rmap.PageLocks; PvEntries, PteChains): taken by
 *             the PTE writer around the CAS, and by the searches; a leaf, one at a time
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
 * Every optimization can be turned off through {@link org.vmoracle.impl.core.Config.Switch}: the
 * early return of {@code pmap_remove} on an empty pmap (seed 002), the striped map lock, munmap's
 * second half under the shared lock (Linux 4.20), the pruning of emptied page-table pages
 * (FreeBSD), the placement floor, the per-thread lookup hints, the free pool's batch stealing and
 * busy-on-allocate (seed 000); the collapse depth (seed 000) is a size. The reverse-map design is
 * {@code Config.rmap}: the backing scan (the default), pv entries or pte chains, whose collapse of
 * a one-PTE chain back to a direct pointer is the one switch off by default (seed 004).
 */
package org.vmoracle.impl;
