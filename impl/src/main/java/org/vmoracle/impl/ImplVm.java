package org.vmoracle.impl;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.vmoracle.impl.collapse.Collapse;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.impl.core.Counters;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.fault.Fault;
import org.vmoracle.impl.map.Cow;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.object.PageMap;
import org.vmoracle.impl.object.VmObject;
import org.vmoracle.impl.pageout.Pageout;
import org.vmoracle.impl.pmap.Pmap;
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
 * The lock order is in {@code package-info.java}. The names ({@link Registry}) change under the
 * exclusive lock only; reads and writes look their pid up under the shared one ({@link Access}).
 */
public final class ImplVm implements VmSystem {
  private final Machine m; // (c)
  private final Registry reg = new Registry(); // (c) the maps; their contents (x)
  private final Pageout pageout = new Pageout(); // (x)
  private final Teardown teardown; // (c)
  private final Access access; // (c)

  /** A booted system with default settings (BOOT-1). */
  public ImplVm() {
    this(Config.defaults());
  }

  /** A booted system (BOOT-1). */
  public ImplVm(Config config) {
    this.m = new Machine(config);
    this.teardown = new Teardown(m, reg.files, reg.segments);
    this.access = new Access(m, reg, pageout);
    int f = m.mem.allocate();
    if (f < 0) {
      throw new IllegalArgumentException("no frame for the shared page");
    }
    m.fillSharedPage(f); // BOOT-2
    m.own(f, m.sharedPage, 0);
    m.mem.wire(f); // pinned: the shared page is never evicted
    m.sharedPage.pages.put(0, f);
    for (Boot.BootFile b : Boot.BOOT_FILES) {
      reg.files.put(b.name(), m.newFile(b.name(), b.pages(), b.number()));
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
      return access.read((Op.Read) op);
    }
    if (op instanceof Op.Write) {
      return access.write((Op.Write) op);
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

  // ---------------------------------------------------------------- everything else

  /** Every operation but read and write, under the exclusive map lock. */
  private final class Exclusive implements Op.Visitor<Result> {

    @Override
    public Result spawn(Op.Spawn op) {
      if (reg.processes.containsKey(op.pid())) {
        return Result.of(Errno.EEXIST); // PROC-1
      }
      VmSpace sp = newSpace();
      if (sp == null) {
        return Result.of(Errno.ENOMEM);
      }
      reg.processes.put(op.pid(), sp);
      return Result.OK;
    }

    @Override
    public Result fork(Op.Fork op) {
      VmSpace parent = reg.processes.get(op.parent());
      if (parent == null) {
        return Result.of(Errno.ESRCH); // PROC-3
      }
      if (reg.processes.containsKey(op.child())) {
        return Result.of(Errno.EEXIST);
      }
      VmSpace child = Forks.fork(m, pageout, parent, ImplVm.this::newSpace, teardown);
      if (child == null) {
        return Result.of(Errno.ENOMEM); // MEM-1
      }
      reg.processes.put(op.child(), child);
      return Result.OK;
    }

    @Override
    public Result clone(Op.Clone op) {
      VmSpace parent = reg.processes.get(op.parent());
      if (parent == null) {
        return Result.of(Errno.ESRCH); // PROC-3
      }
      if (reg.processes.containsKey(op.child())) {
        return Result.of(Errno.EEXIST);
      }
      parent.users++; // PROC-4
      reg.processes.put(op.child(), parent);
      return Result.OK;
    }

    @Override
    public Result exec(Op.Exec op) {
      VmSpace old = reg.processes.get(op.pid());
      if (old == null) {
        return Result.of(Errno.ESRCH);
      }
      Optional<Boot.Image> image = Boot.image(op.image());
      if (image.isEmpty()) {
        return Result.of(Errno.ENOENT); // EXEC-1
      }
      for (Boot.Segment seg : image.get().segments()) {
        if (!reg.sourceExists(seg.source())) {
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
      reg.processes.put(op.pid(), sp);
      teardown.leave(old); // EXEC-4: the old space goes only with its last user
      return Result.OK;
    }

    @Override
    public Result exit(Op.Exit op) {
      VmSpace sp = reg.processes.remove(op.pid());
      if (sp == null) {
        return Result.of(Errno.ESRCH);
      }
      teardown.leave(sp); // PROC-5
      return Result.OK;
    }

    @Override
    public Result mmap(Op.Mmap op) {
      VmSpace sp = reg.processes.get(op.pid());
      if (sp == null) {
        return Result.of(Errno.ESRCH);
      }
      if (!aligned(op.addr()) || op.pages() == 0) {
        return Result.of(Errno.EINVAL); // MMAP-2
      }
      if (!reg.sourceExists(op.source())) {
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
      VmSpace sp = reg.processes.get(op.pid());
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
      VmSpace sp = reg.processes.get(op.pid());
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
          sp.pmap.protect(e.start, e.end); // PROT-2: at once
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
      VmSpace sp = reg.processes.get(op.pid());
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
      VmSpace sp = reg.processes.get(op.pid());
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
      VmSpace sp = reg.processes.get(op.pid());
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
      VmObject f = reg.files.get(op.name());
      if (f == null) {
        reg.files.put(op.name(), m.newFile(op.name(), op.pages(), 0)); // FILE-1
        return Result.OK;
      }
      teardown.resize(f, op.pages()); // FILE-1, FILE-8, FILE-9
      return Result.OK;
    }

    @Override
    public Result fwrite(Op.Fwrite op) {
      VmObject f = reg.files.get(op.name());
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
      VmObject f = reg.files.get(op.name());
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
      if (reg.segments.containsKey(op.key())) {
        return Result.of(Errno.EEXIST);
      }
      reg.segments.put(op.key(), m.newSegment(op.key(), op.pages()));
      return Result.OK;
    }

    @Override
    public Result shmrm(Op.Shmrm op) {
      VmObject s = reg.segments.remove(op.key());
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
      VmSpace sp = reg.processes.get(op.pid());
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
    Pmap.Config pc =
        new Pmap.Config(m.config.pmapEarlyReturn(), m.config.has(Bug.DOUBLE_COUNTED_PT_PAGES));
    Pmap p = Pmap.create(m.mem, pc);
    if (p == null && pageout.run(m, Pageout.NEW_SPACE_PAGES) > 0) {
      p = Pmap.create(m.mem, pc);
    }
    if (p == null) {
      return null;
    }
    VmSpace sp = new VmSpace(m.newId(), p, m.config.placementHint());
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
      target = reg.files.get(((Source.FileRange) src).name());
      pgoff = ((Source.FileRange) src).pgoff();
    } else if (src instanceof Source.Shm) {
      target = reg.segments.get(((Source.Shm) src).key());
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
      return Views.of(m, reg.processes, reg.files, reg.segments);
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
      Invariants.check(m, reg.processes, reg.files, reg.segments);
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
      for (VmSpace sp : new java.util.HashSet<>(reg.processes.values())) {
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
    return new ArrayList<>(reg.processes.keySet());
  }

  Map<Integer, VmSpace> processes() {
    return reg.processes;
  }
}
