package org.vmoracle.impl;

import java.lang.invoke.VarHandle;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.vmoracle.impl.collapse.Collapse;
import org.vmoracle.impl.core.Config;
import org.vmoracle.impl.core.Counters;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.fault.Fault;
import org.vmoracle.impl.map.Cow;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.object.PageMap;
import org.vmoracle.impl.pageout.Pageout;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;
import org.vmoracle.spec.View;
import org.vmoracle.spec.VmSystem;

/**
 * The implementation as a {@link VmSystem}: every operation, callable from any thread at any time.
 *
 * <h2>Overview</h2>
 *
 * Reads and writes take the map lock shared: they find the PTE, and fault it in when it is missing
 * or does not allow the access ({@link Fault}). Everything else takes the map lock exclusive. A
 * fault that needs more than the shared lock allows (a new copy-on-write front, or pageout for a
 * frame) is retried with the lock exclusive.
 *
 * <h2>Concurrency</h2>
 *
 * The lock order is in {@code package-info.java}. {@code processes}, {@code files} and {@code
 * segments} change under the exclusive lock only (legend (x)); being concurrent maps, they can be
 * read under the shared one.
 */
public final class ImplVm implements VmSystem {
  private final Machine m;
  private final ConcurrentHashMap<Integer, VmSpace> processes = new ConcurrentHashMap<>(); // (x)
  private final ConcurrentHashMap<String, VmObject> files = new ConcurrentHashMap<>(); // (x)
  private final ConcurrentHashMap<Long, VmObject> segments = new ConcurrentHashMap<>(); // (x)
  private final Pageout pageout = new Pageout(); // (x)
  private final Teardown teardown;

  /** A booted system with default settings (BOOT-1). */
  public ImplVm() {
    this(Config.defaults());
  }

  /** A booted system (BOOT-1). */
  public ImplVm(Config config) {
    this.m = new Machine(config);
    this.teardown = new Teardown(m, files, segments);
    int f = m.mem.allocate();
    if (f < 0) {
      throw new IllegalArgumentException("no frame for the shared page");
    }
    m.fillSharedPage(f); // BOOT-2
    m.own(f, m.sharedPage, 0);
    m.mmu.pin(f); // the shared page is never evicted
    m.sharedPage.pages.put(0, f);
    for (Boot.BootFile b : Boot.BOOT_FILES) {
      files.put(b.name(), m.newFile(b.name(), b.pages(), b.number()));
    }
  }

  public Machine machine() {
    return m;
  }

  public Counters counters() {
    return m.counters;
  }

  @Override
  public Result apply(Op op) {
    if (op instanceof Op.Read) {
      return read((Op.Read) op);
    }
    if (op instanceof Op.Write) {
      return write((Op.Write) op);
    }
    m.lock.writeLock();
    m.counters.exclusiveLocks.increment();
    Teardown.Zap later = null;
    try {
      if (op instanceof Op.Munmap && m.config.unmapUnderSharedLock()) {
        later = new Teardown.Zap();
        return new Exclusive().munmap((Op.Munmap) op, later);
      }
      return op.accept(new Exclusive());
    } finally {
      if (later == null || later.isEmpty()) {
        m.lock.writeUnlock();
      } else {
        unmapSecondHalf(later);
      }
    }
  }

  /**
   * The second half of munmap (see Teardown): entered holding the map lock exclusive, clears the
   * PTEs with it downgraded to shared, announces the reclaim before letting it go, and frees the
   * pages under no lock.
   */
  private void unmapSecondHalf(Teardown.Zap later) {
    int token = m.lock.downgrade();
    try {
      teardown.unmap(later);
      m.mem.beginReclaim(); // under the lock: whoever takes it next sees the reclaim
    } finally {
      m.lock.readUnlock(token);
    }
    try {
      teardown.reclaim(later);
    } finally {
      m.mem.endReclaim();
    }
  }

  // ---------------------------------------------------------------- reads and writes

  private Result read(Op.Read op) {
    return access(op.pid(), op.addr(), false, 0);
  }

  private Result write(Op.Write op) {
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
   * stored nothing).
   */
  private Result attempt(int pid, long va, boolean write, long value, boolean exclusive) {
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

  // ---------------------------------------------------------------- everything else

  /** Every operation but read and write, under the exclusive map lock. */
  private final class Exclusive implements Op.Visitor<Result> {

    @Override
    public Result spawn(Op.Spawn op) {
      if (processes.containsKey(op.pid())) {
        return Result.of(Errno.EEXIST); // PROC-1
      }
      VmSpace sp = newSpace();
      if (sp == null) {
        return Result.of(Errno.ENOMEM);
      }
      processes.put(op.pid(), sp);
      return Result.OK;
    }

    @Override
    public Result fork(Op.Fork op) {
      VmSpace parent = processes.get(op.parent());
      if (parent == null) {
        return Result.of(Errno.ESRCH); // PROC-3
      }
      if (processes.containsKey(op.child())) {
        return Result.of(Errno.EEXIST);
      }
      VmSpace child = Forks.fork(m, pageout, parent, ImplVm.this::newSpace, teardown);
      if (child == null) {
        return Result.of(Errno.ENOMEM); // MEM-1
      }
      processes.put(op.child(), child);
      return Result.OK;
    }

    @Override
    public Result clone(Op.Clone op) {
      VmSpace parent = processes.get(op.parent());
      if (parent == null) {
        return Result.of(Errno.ESRCH); // PROC-3
      }
      if (processes.containsKey(op.child())) {
        return Result.of(Errno.EEXIST);
      }
      parent.users++; // PROC-4
      processes.put(op.child(), parent);
      return Result.OK;
    }

    @Override
    public Result exec(Op.Exec op) {
      VmSpace old = processes.get(op.pid());
      if (old == null) {
        return Result.of(Errno.ESRCH);
      }
      Optional<Boot.Image> image = Boot.image(op.image());
      if (image.isEmpty()) {
        return Result.of(Errno.ENOENT); // EXEC-1
      }
      for (Boot.Segment seg : image.get().segments()) {
        if (!sourceExists(seg.source())) {
          return Result.of(Errno.ENOENT);
        }
      }
      VmSpace sp = newSpace();
      if (sp == null) {
        return Result.of(Errno.ENOMEM);
      }
      for (Boot.Segment seg : image.get().segments()) {
        insert(sp, seg.start(), seg.pages(), seg.prot(), seg.sharing(), seg.source());
      }
      processes.put(op.pid(), sp);
      teardown.leave(old); // EXEC-4: the old space goes only with its last user
      return Result.OK;
    }

    @Override
    public Result exit(Op.Exit op) {
      VmSpace sp = processes.remove(op.pid());
      if (sp == null) {
        return Result.of(Errno.ESRCH);
      }
      teardown.leave(sp); // PROC-5
      return Result.OK;
    }

    @Override
    public Result mmap(Op.Mmap op) {
      VmSpace sp = processes.get(op.pid());
      if (sp == null) {
        return Result.of(Errno.ESRCH);
      }
      if (!aligned(op.addr()) || op.pages() == 0) {
        return Result.of(Errno.EINVAL); // MMAP-2
      }
      if (!sourceExists(op.source())) {
        return Result.of(Errno.ENOENT); // MMAP-3, MMAP-4
      }
      long bytes = op.pages() * Boot.PAGE_SIZE;
      long start;
      if (op.fixed()) {
        if (!userRange(op.addr(), bytes)) {
          return Result.of(Errno.ENOMEM); // MMAP-7, DEV-5
        }
        start = op.addr();
        for (MapEntry e : sp.clipRange(start, start + bytes)) {
          teardown.removeEntry(e); // MMAP-7: replace
        }
      } else if (op.addr() != 0
          && userRange(op.addr(), bytes)
          && sp.overlapping(op.addr(), op.addr() + bytes).isEmpty()) {
        start = op.addr(); // MMAP-6, PLACE-4
      } else {
        start = sp.findSpace(bytes); // PLACE-1, PLACE-2
        if (start < 0) {
          return Result.of(Errno.ENOMEM); // PLACE-3
        }
      }
      insert(sp, start, op.pages(), op.prot(), op.sharing(), op.source());
      return Result.value(start);
    }

    @Override
    public Result munmap(Op.Munmap op) {
      return munmap(op, null);
    }

    /** munmap, leaving to {@code later} what may be done under the shared lock (or null). */
    Result munmap(Op.Munmap op, Teardown.Zap later) {
      VmSpace sp = processes.get(op.pid());
      if (sp == null) {
        return Result.of(Errno.ESRCH);
      }
      if (!aligned(op.addr())
          || op.pages() == 0
          || op.addr() > Boot.USER_MAX
          || op.addr() + op.pages() * Boot.PAGE_SIZE > Boot.USER_MAX) {
        return Result.of(Errno.EINVAL); // UNMAP-4
      }
      for (MapEntry e : sp.clipRange(op.addr(), op.addr() + op.pages() * Boot.PAGE_SIZE)) {
        teardown.removeEntry(e, later); // UNMAP-1, UNMAP-6
      }
      return Result.OK;
    }

    @Override
    public Result mprotect(Op.Mprotect op) {
      VmSpace sp = processes.get(op.pid());
      if (sp == null) {
        return Result.of(Errno.ESRCH);
      }
      if (!aligned(op.addr()) || op.pages() == 0) {
        return Result.of(Errno.EINVAL); // PROT-4
      }
      if (op.addr() >= Boot.USER_MAX) {
        return Result.of(Errno.ENOMEM);
      }
      long end = op.addr() + op.pages() * Boot.PAGE_SIZE;
      // PROT-3: front to back; stop at a hole or at the shared page (PROT-6), keeping what was
      // done before it.
      Result r = protect(sp, op.addr(), end, op.prot());
      sp.simplify(op.addr(), end);
      return r;
    }

    /** The walk of mprotect (PROT-3): front to back, stopping at a hole or the shared page. */
    private Result protect(VmSpace sp, long start, long end, Prot prot) {
      if (!Wiring.reserveForProtect(m, pageout, sp, start, end, prot)) {
        return Result.of(Errno.ENOMEM); // MEM-1: before anything changed
      }
      long at = start;
      while (at < end) {
        MapEntry e = sp.entryAt(at);
        if (e == null) {
          return Result.of(Errno.ENOMEM);
        }
        if (prot.canWrite() && showsSharedPage(e)) {
          return Result.of(Errno.EACCES);
        }
        sp.clip(at);
        e = sp.entryAt(at);
        sp.clip(Math.min(end, e.end));
        Prot before = e.prot;
        e.prot = prot;
        if (!prot.canRead()) {
          teardown.unmapPtes(e, e.start, e.end); // nothing may be reached through PTEs now
        } else if (before.canWrite() && !prot.canWrite()) {
          m.mmu.protect(e, e.start, e.end); // PROT-2: at once
        }
        if (e.wired && Wiring.refaultsOnProtect(before, prot) && !Wiring.wirePages(m, pageout, e)) {
          // A wired range that becomes accessible is faulted in and wired again; one that becomes
          // writable and private is copied now (WIRE-10), from the frames reserved above. One
          // that was writable already is left as it is, as Linux's mprotect_fixup populates only
          // a locked range that becomes writable: a page a truncation took from it stays unmapped
          // until touched, and shows the file until then.
          throw new IllegalStateException("mprotect ran out of reserved frames at " + e);
        }
        at = e.end;
      }
      return Result.OK;
    }

    @Override
    public Result minherit(Op.Minherit op) {
      VmSpace sp = processes.get(op.pid());
      if (sp == null) {
        return Result.of(Errno.ESRCH);
      }
      if (!aligned(op.addr()) || op.pages() == 0) {
        return Result.of(Errno.EINVAL); // INH-7
      }
      if (op.addr() >= Boot.USER_MAX) {
        return Result.of(Errno.ENOMEM);
      }
      long end = op.addr() + op.pages() * Boot.PAGE_SIZE;
      if (op.inherit() == Inherit.ZERO) {
        for (MapEntry e : sp.overlapping(op.addr(), end)) {
          VmObject t = e.cow == null ? null : e.cow.terminal();
          if (t == null || t.kind != VmObject.Kind.ANON || t.sharedAnon) {
            return Result.of(Errno.EINVAL); // INH-6: private anonymous memory only
          }
        }
      }
      if (!sp.covers(op.addr(), end)) {
        return Result.of(Errno.ENOMEM); // INH-7, DEV-6
      }
      for (MapEntry e : sp.clipRange(op.addr(), end)) {
        e.inherit = op.inherit(); // INH-8
      }
      sp.simplify(op.addr(), end);
      return Result.OK;
    }

    @Override
    public Result mlock(Op.Mlock op) {
      VmSpace sp = processes.get(op.pid());
      if (sp == null) {
        return Result.of(Errno.ESRCH);
      }
      if (!aligned(op.addr()) || op.pages() == 0) {
        return Result.of(Errno.EINVAL); // WIRE-6, DEV-9
      }
      if (op.addr() >= Boot.USER_MAX) {
        return Result.of(Errno.ENOMEM);
      }
      long end = op.addr() + op.pages() * Boot.PAGE_SIZE;
      if (!sp.covers(op.addr(), end)) {
        return Result.of(Errno.ENOMEM); // WIRE-4, DEV-4
      }
      for (MapEntry e : sp.overlapping(op.addr(), end)) {
        if (e.prot == Prot.NONE || e.shown().pastEnd(e.index(Math.min(end, e.end) - 1))) {
          return Result.of(Errno.ENOMEM); // WIRE-12, WIRE-5: cannot be faulted in; DEV-4
        }
      }
      if (!Wiring.wire(m, pageout, sp, op.addr(), end)) {
        return Result.of(Errno.EAGAIN); // WIRE-7
      }
      sp.simplify(op.addr(), end);
      return Result.OK;
    }

    @Override
    public Result munlock(Op.Munlock op) {
      VmSpace sp = processes.get(op.pid());
      if (sp == null) {
        return Result.of(Errno.ESRCH);
      }
      if (!aligned(op.addr()) || op.pages() == 0) {
        return Result.of(Errno.EINVAL); // WIRE-6
      }
      if (op.addr() >= Boot.USER_MAX) {
        return Result.of(Errno.ENOMEM);
      }
      long end = op.addr() + op.pages() * Boot.PAGE_SIZE;
      if (!sp.covers(op.addr(), end)) {
        return Result.of(Errno.ENOMEM); // WIRE-8
      }
      for (MapEntry e : sp.clipRange(op.addr(), end)) {
        Wiring.unwire(m, e);
      }
      sp.simplify(op.addr(), end);
      return Result.OK;
    }

    @Override
    public Result read(Op.Read op) {
      throw new AssertionError("reads run under the shared lock");
    }

    @Override
    public Result write(Op.Write op) {
      throw new AssertionError("writes run under the shared lock");
    }

    @Override
    public Result file(Op.File op) {
      VmObject f = files.get(op.name());
      if (f == null) {
        files.put(op.name(), m.newFile(op.name(), op.pages(), 0)); // FILE-1
        return Result.OK;
      }
      teardown.resize(f, op.pages()); // FILE-1, FILE-8, FILE-9
      return Result.OK;
    }

    @Override
    public Result fwrite(Op.Fwrite op) {
      VmObject f = files.get(op.name());
      if (f == null) {
        return Result.of(Errno.ENOENT); // FILE-2
      }
      long i = op.offset() / Boot.PAGE_SIZE;
      if (i >= Op.MAX_PAGES) {
        // FILE-12: checked before anything is touched; the page index would also lie past what
        // an object's page map holds (PageMap.LIMIT).
        return Result.of(Errno.EFBIG);
      }
      int w = (int) ((op.offset() & (Boot.PAGE_SIZE - 1)) >>> 3);
      if (f.pastEnd(i)) {
        teardown.resize(f, i + 1); // FILE-3
      }
      long slot = f.pages.get(i);
      if (slot != PageMap.NONE) {
        m.mem.store((int) slot, w, op.value()); // the page every mapping sees (FILE-6)
      } else {
        long[] page = new long[Boot.WORDS_PER_PAGE];
        f.disk.read(i, page);
        page[w] = op.value();
        f.disk.write(i, page);
      }
      return Result.OK;
    }

    @Override
    public Result fread(Op.Fread op) {
      VmObject f = files.get(op.name());
      if (f == null) {
        return Result.of(Errno.ENOENT); // FILE-2
      }
      long i = op.offset() / Boot.PAGE_SIZE;
      if (f.pastEnd(i)) {
        return Result.of(Errno.EINVAL); // FILE-4
      }
      int w = (int) ((op.offset() & (Boot.PAGE_SIZE - 1)) >>> 3);
      long slot = f.pages.get(i);
      return Result.value(slot != PageMap.NONE ? m.mem.load((int) slot, w) : f.disk.word(i, w));
    }

    @Override
    public Result shmget(Op.Shmget op) {
      if (op.pages() == 0) {
        return Result.of(Errno.EINVAL); // SHM-1
      }
      if (segments.containsKey(op.key())) {
        return Result.of(Errno.EEXIST);
      }
      segments.put(op.key(), m.newSegment(op.key(), op.pages()));
      return Result.OK;
    }

    @Override
    public Result shmrm(Op.Shmrm op) {
      VmObject s = segments.remove(op.key());
      if (s == null) {
        return Result.of(Errno.ENOENT); // SHM-3, DEV-7
      }
      teardown.releaseIfUnused(s);
      return Result.OK;
    }

    @Override
    public Result pageout(Op.Pageout op) {
      pageout.run(m, op.count()); // SYS-1
      return Result.OK;
    }

    @Override
    public Result collapse(Op.Collapse op) {
      VmSpace sp = processes.get(op.pid());
      if (sp == null) {
        return Result.of(Errno.ESRCH);
      }
      MapEntry e = op.addr() < Boot.USER_MAX ? sp.entryAt(op.addr()) : null;
      if (e == null) {
        return Result.of(Errno.ENOMEM); // SYS-2
      }
      if (e.cow != null && !Collapse.collapse(m, pageout, e.cow, teardown)) {
        return Result.of(Errno.ENOMEM);
      }
      return Result.OK;
    }
  }

  // ---------------------------------------------------------------- helpers

  /** A new address space holding the shared page, or null without memory. Exclusive lock. */
  VmSpace newSpace() {
    assert m.lock.heldExclusively() : "ImplVm.newSpace: the caller holds the map lock exclusive";
    Pmap p = m.mmu.newPmap();
    if (p == null && pageout.run(m, Pageout.NEW_SPACE_PAGES) > 0) {
      p = m.mmu.newPmap();
    }
    if (p == null) {
      return null;
    }
    VmSpace sp = m.newSpace(p);
    sp.users = 1;
    MapEntry shared =
        new MapEntry(
            sp,
            Boot.SHARED_PAGE,
            Boot.SHARED_PAGE + Boot.PAGE_SIZE,
            0,
            Prot.RX,
            Sharing.SHARED,
            Inherit.SHARE,
            m.sharedPage,
            null);
    sp.entries.put(shared.start, shared);
    m.sharedPage.users.add(shared); // BOOT-2
    return sp;
  }

  /** Makes a mapping; the range is free. Exclusive lock. */
  private void insert(VmSpace sp, long start, long pages, Prot prot, Sharing sharing, Source src) {
    VmObject target;
    long pgoff = 0;
    if (src instanceof Source.FileRange) {
      target = files.get(((Source.FileRange) src).name());
      pgoff = ((Source.FileRange) src).pgoff();
    } else if (src instanceof Source.Shm) {
      target = segments.get(((Source.Shm) src).key());
    } else if (sharing == Sharing.SHARED) {
      target = m.newSharedAnon(); // MMAP-5
    } else {
      target = m.newAnon(); // the start of a private anonymous chain
    }
    long end = start + pages * Boot.PAGE_SIZE;
    MapEntry e;
    if (sharing == Sharing.SHARED) {
      e = new MapEntry(sp, start, end, pgoff, prot, sharing, Inherit.SHARE, target, null);
      target.users.add(e);
    } else {
      VmObject[] chain =
          target.kind == VmObject.Kind.ANON
              ? new VmObject[] {target}
              : new VmObject[] {m.newAnon(), target};
      Cow c = new Cow(chain, false);
      e = new MapEntry(sp, start, end, pgoff, prot, sharing, Inherit.COPY, null, c);
      c.members.add(e);
      for (VmObject o : chain) {
        o.users.add(c);
      }
    }
    sp.entries.put(start, e); // MMAP-1, INH-1
  }

  private boolean sourceExists(Source s) {
    if (s instanceof Source.FileRange) {
      return files.containsKey(((Source.FileRange) s).name());
    }
    if (s instanceof Source.Shm) {
      return segments.containsKey(((Source.Shm) s).key());
    }
    return true;
  }

  private static boolean showsSharedPage(MapEntry e) {
    return e.shown().kind == VmObject.Kind.SHARED_PAGE; // PROT-6
  }

  private static boolean aligned(long a) {
    return (a & (Boot.PAGE_SIZE - 1)) == 0;
  }

  private static boolean userRange(long a, long bytes) {
    return a >= Boot.USER_MIN && a <= Boot.USER_MAX && a + bytes <= Boot.USER_MAX;
  }

  // ---------------------------------------------------------------- observation

  @Override
  public View view() {
    m.lock.writeLock();
    try {
      return Views.of(m, processes, files, segments);
    } finally {
      m.lock.writeUnlock();
    }
  }

  /**
   * Walks every structure and throws {@link IllegalStateException} naming the first broken
   * invariant. Never repairs anything. No requirements (takes the map lock exclusive).
   */
  public void checkInvariants() {
    m.lock.writeLock();
    try {
      Invariants.check(m, processes, files, segments);
    } finally {
      m.lock.writeUnlock();
    }
  }

  /**
   * Every counter and gauge, by name: the counters of {@link Counters}, and the frames free, swap
   * slots used, and the resident, wired and page-table pages and map entries of all live address
   * spaces (each space counted once however many processes use it). No requirements (takes the map
   * lock exclusive).
   */
  public Map<String, Long> stats() {
    m.lock.writeLock();
    try {
      Map<String, Long> s = new java.util.LinkedHashMap<>(m.counters.snapshot());
      long resident = 0;
      long wired = 0;
      long tables = 0;
      long early = 0;
      long entries = 0;
      for (VmSpace sp : new java.util.HashSet<>(processes.values())) {
        entries += sp.entries.size();
        resident += sp.pmap.residentCount();
        wired += sp.pmap.wiredCount();
        tables += sp.pmap.tablePages();
        early += sp.pmap.earlyReturns();
      }
      s.put("residentPages", resident);
      s.put("wiredPages", wired);
      s.put("pageTablePages", tables);
      s.put("pmapEarlyReturnsLive", early);
      s.put("mapEntries", entries);
      m.mem.awaitReclaims(); // so that the count is exact when nothing else runs
      s.put("framesFree", (long) m.mem.freeFrames());
      s.put("swapUsed", (long) m.swap.used());
      return s;
    } finally {
      m.lock.writeUnlock();
    }
  }

  /** Live pids, for tests. */
  public List<Integer> pids() {
    return new ArrayList<>(processes.keySet());
  }

  Map<Integer, VmSpace> processes() {
    return processes;
  }
}
