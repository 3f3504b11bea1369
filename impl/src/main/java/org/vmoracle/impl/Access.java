package org.vmoracle.impl;

import java.lang.invoke.VarHandle;
import java.util.concurrent.ConcurrentHashMap;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.fault.Fault;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.pageout.Pageout;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;

/**
 * Reads and writes: the access path, the hot path of the system.
 *
 * <h2>Overview</h2>
 *
 * An access looks its pid up, then its entry, and checks the entry's protection (ACC-1, ACC-2).
 * Then it looks the PTE up: one that allows the access is used at once ({@link #touch}); otherwise
 * the page is faulted in ({@link Fault}) and the PTE looked up again. A fault that needs more than
 * the shared lock allows, a new copy-on-write front or pageout for a frame, makes the whole access
 * start over under the exclusive lock, where the fault does that itself.
 *
 * <h2>Concurrency</h2>
 *
 * {@link #access} takes the map lock itself: shared first, then exclusive if need be. Under the
 * shared lock the entry cannot change, but PTEs can: other threads' faults install and replace them
 * with compare-and-set (see {@link #touch} for what that means for a load).
 *
 * <h2>Invariants</h2>
 *
 * An access changes nothing a process can see but the word it stores; a failed one (SEGV, BUS, OOM)
 * stores no word (MEM-2: the fault stored nothing). Implementation note: this path itself allocates
 * nothing but its answer (a fault may allocate what it installs) and looks the pid and the entry up
 * once per try; keep it so, since every load and store of every trace runs it.
 */
final class Access {
  private final Machine m; // (c)
  private final Pageout pageout; // (c)

  /** {@link Registry#processes} itself, held here to save a load on every access. */
  private final ConcurrentHashMap<Integer, VmSpace> processes; // (c) the map; its contents (x)

  Access(Machine m, Registry reg, Pageout pageout) {
    this.m = m;
    this.pageout = pageout;
    this.processes = reg.processes;
  }

  /** read (ACC-*). No requirements (takes the map lock). */
  Result read(Op.Read op) {
    return access(op.pid(), op.addr(), false, 0);
  }

  /** write (ACC-*). No requirements (takes the map lock). */
  Result write(Op.Write op) {
    return access(op.pid(), op.addr(), true, op.value());
  }

  /**
   * One load or store: first under the shared lock; if a fault needs more (a new copy-on-write
   * front, or pageout for a frame), again under the exclusive lock. No requirements.
   */
  private Result access(int pid, long va, boolean write, long value) {
    int token = m.lock.readLock();
    m.counters.sharedLocks.increment();
    try {
      Result r = attempt(pid, va, write, value, false);
      if (r != null) {
        return r;
      }
    } finally {
      m.lock.readUnlock(token);
    }
    m.lock.writeLock();
    m.counters.exclusiveLocks.increment();
    try {
      return attempt(pid, va, write, value, true);
    } finally {
      m.lock.writeUnlock();
    }
  }

  /**
   * The access, faulting the page in as often as needed. Protection is checked against the entry
   * first (ACC-1, ACC-2); the entry cannot change while the caller holds the lock. Answers null
   * when the fault needs the exclusive lock and the caller holds the shared one. With the lock
   * exclusive, a fault short of frames runs pageout once before the answer is OOM (MEM-2: the fault
   * stored nothing). The caller holds the map lock: exclusive if {@code exclusive}, else shared.
   */
  private Result attempt(int pid, long va, boolean write, long value, boolean exclusive) {
    assert !exclusive || m.lock.heldExclusively()
        : "Access.attempt: the caller holds the map lock exclusive";
    VmSpace sp = processes.get(pid);
    if (sp == null) {
      return Result.of(Errno.ESRCH);
    }
    MapEntry e = va < Boot.USER_MAX ? sp.entryAt(va) : null;
    if (e == null || (write ? !e.prot.canWrite() : !e.prot.canRead())) {
      return Result.of(Errno.SEGV); // ACC-1, ACC-2
    }
    long page = va & -Boot.PAGE_SIZE;
    boolean pagedOut = false;
    while (true) {
      long pte = sp.pmap.lookup(page);
      if (Pte.isPresent(pte) && (!write || Pte.isWritable(pte))) {
        Result r = touch(sp, page, pte, va, write, value);
        if (r != null) {
          return r;
        }
        continue; // the read-only PTE was replaced during the load: look again
      }
      switch (Fault.fault(m, e, page, write, pte)) {
        case SEGV:
          return Result.of(Errno.SEGV);
        case BUS:
          return Result.of(Errno.BUS);
        case DONE:
          continue;
        case NEED_SHADOW:
          if (!exclusive) {
            return null;
          }
          continue; // under the exclusive lock the fault made the shadow itself
        case NEED_MEMORY:
          if (!exclusive) {
            return null;
          }
          if (pagedOut || pageout.run(m, Pageout.BATCH) == 0) {
            m.counters.outOfMemory.increment();
            return Result.of(Errno.OOM);
          }
          pagedOut = true;
          continue;
      }
    }
  }

  /**
   * The load or store itself, through PTE {@code pte} of page {@code page} of {@code sp}, which
   * allows it; or null when a load through a read-only PTE must be done again.
   *
   * <p>Between the lookup of the PTE and the load there is a window: another thread under the
   * shared lock may replace a read-only PTE, by a copy-on-write fault of this entry (which copies
   * the page into the front and maps the copy writable) or of another member of its group ({@link
   * Fault}'s unmapDeeper, which clears the PTE before the copy). The frame stays a frame (the
   * caller holds the lock, and the frames live entries reach are not freed under the shared lock),
   * but it is no longer what this address shows: a store into it through a shared mapping of the
   * object the chain ends in (a file, say), made after the copy, is not in the copy. Loading such a
   * store would answer a value the address never held in any sequential order (FILE-7: once copied,
   * the page never shows the file again). So after a load through a read-only PTE the PTE is looked
   * up again, ordered after the load by a load-load fence: if it is still the same, it was in place
   * while the load ran, and the load is the answer (the same PTE still means the same page: its
   * frame cannot have been freed and used again meanwhile); if not, the access starts over with the
   * new PTE. When the copy, its new PTE included, came before the shared store and the load saw
   * that store, the fence makes the second lookup see the new PTE. This is what a TLB shootdown
   * gives a kernel: the copier's new PTE takes effect only once no access in flight can still go
   * through the old one.
   *
   * <p>Stores, and loads through a writable PTE, need no check: a writable PTE maps the entry's own
   * page (its shared object's, or its group's front), which nobody copies or replaces under the
   * shared lock.
   *
   * <p>The caller holds the map lock, in either mode.
   */
  private Result touch(VmSpace sp, long page, long pte, long va, boolean write, long value) {
    int word = (int) ((va & (Boot.PAGE_SIZE - 1)) >>> 3);
    if (write) {
      m.mem.store(Pte.frame(pte), word, value);
      return Result.OK;
    }
    long v = m.mem.load(Pte.frame(pte), word);
    if (!Pte.isWritable(pte)) {
      VarHandle.loadLoadFence();
      if (sp.pmap.lookup(page) != pte) {
        return null;
      }
    }
    return Result.value(v);
  }
}
