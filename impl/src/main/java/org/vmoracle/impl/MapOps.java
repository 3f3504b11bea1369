package org.vmoracle.impl;

import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.Cow;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.pageout.Pageout;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * The operations on one process's map: mmap, munmap, mprotect, minherit, mlock and munlock, and
 * making a mapping ({@link #insert}, which exec uses too).
 *
 * <h2>Overview</h2>
 *
 * Each operation checks its arguments with {@link RangeCheck} (ESRCH, EINVAL, and where the range
 * lies, ERR-2), then its own failures, then changes the map: entries are clipped to the range
 * ({@code VmSpace.clipRange}), changed, and merged again with their neighbours ({@code
 * VmSpace.simplify}). What an entry's PTEs must lose goes through {@link Teardown} (unmapping) or
 * the pmap (write-protecting, PROT-2); wiring through {@link Wiring}.
 *
 * <h2>Concurrency</h2>
 *
 * Every method requires the map lock exclusive, and asserts it. munmap alone may leave part of its
 * work for after the lock is downgraded ({@link Teardown.Zap}; {@link ImplVm} runs that half).
 *
 * <h2>Invariants</h2>
 *
 * Every operation that fails changes nothing (ERR-1), except mprotect, which keeps what it changed
 * before a hole or the shared page (PROT-3, PROT-6). The checks come before the changes; mprotect
 * and mlock reserve every frame they may need first ({@code Wiring.reserveForProtect}, {@code
 * Wiring.wire}), so running out of memory halfway cannot happen.
 */
final class MapOps {
  private final Machine m; // (c)
  private final Registry reg; // (c)
  private final Pageout pageout; // (c)
  private final Teardown teardown; // (c)

  MapOps(Machine m, Registry reg, Pageout pageout, Teardown teardown) {
    this.m = m;
    this.reg = reg;
    this.pageout = pageout;
    this.teardown = teardown;
  }

  /** mmap (MMAP-*, PLACE-*). The caller holds the map lock exclusive. */
  Result mmap(Op.Mmap op) {
    assert m.lock.heldExclusively() : "MapOps.mmap: the caller holds the map lock exclusive";
    RangeCheck r = RangeCheck.check(reg, op.pid(), op.addr(), op.pages(), RangeCheck.Bound.ANY);
    if (r.failed()) {
      return r.failure(); // ESRCH; EINVAL (MMAP-2)
    }
    VmSpace sp = r.space();
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

  /**
   * munmap (UNMAP-*), leaving to {@code later} what may be done under the shared lock, or doing
   * everything now when {@code later} is null. The caller holds the map lock exclusive.
   */
  Result munmap(Op.Munmap op, Teardown.Zap later) {
    assert m.lock.heldExclusively() : "MapOps.munmap: the caller holds the map lock exclusive";
    RangeCheck r =
        RangeCheck.check(reg, op.pid(), op.addr(), op.pages(), RangeCheck.Bound.USER_SPACE);
    if (r.failed()) {
      return r.failure(); // ESRCH; EINVAL (UNMAP-4)
    }
    VmSpace sp = r.space();
    boolean partial = straddles(sp, op.addr()) || straddles(sp, r.end());
    for (MapEntry e : sp.clipRange(op.addr(), r.end())) {
      teardown.removeEntry(e, later, partial); // UNMAP-1, UNMAP-6
    }
    return Result.OK;
  }

  /** Whether an entry of {@code sp} starts before {@code va} and ends after it. */
  private static boolean straddles(VmSpace sp, long va) {
    MapEntry e = sp.entryAt(va);
    return e != null && e.start < va;
  }

  /** mprotect (PROT-*). The caller holds the map lock exclusive. */
  Result mprotect(Op.Mprotect op) {
    assert m.lock.heldExclusively() : "MapOps.mprotect: the caller holds the map lock exclusive";
    RangeCheck r =
        RangeCheck.check(reg, op.pid(), op.addr(), op.pages(), RangeCheck.Bound.MAPPABLE);
    if (r.failed()) {
      return r.failure(); // ESRCH; EINVAL (PROT-4); ENOMEM (PROT-3)
    }
    VmSpace sp = r.space();
    long end = r.end();
    // PROT-3: front to back; stop at a hole or at the shared page (PROT-6), keeping what was
    // done before it.
    Result res = protect(sp, op.addr(), end, op.prot());
    sp.simplify(op.addr(), end);
    Segments.unlinkBroken(m, sp, op.addr(), end); // seed 001: a segment left in pieces
    return res;
  }

  /**
   * The walk of mprotect (PROT-3): front to back, stopping at a hole or the shared page. The caller
   * holds the map lock exclusive.
   */
  private Result protect(VmSpace sp, long start, long end, Prot prot) {
    assert m.lock.heldExclusively() : "MapOps.protect: the caller holds the map lock exclusive";
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
      if (before != prot && prot.canRead()) {
        m.mmu.unshare(e, e.start, e.end); // seed 001: this space's change alone (reserved above)
      }
      if (!prot.canRead()) {
        teardown.unmapPtes(e, e.start, e.end); // nothing may be reached through PTEs now
      } else if (before.canWrite()
          && !prot.canWrite()
          && !(e.wired && m.config.has(Bug.MPROTECT_SKIPS_WIRED))) {
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

  /** minherit (INH-*). The caller holds the map lock exclusive. */
  Result minherit(Op.Minherit op) {
    assert m.lock.heldExclusively() : "MapOps.minherit: the caller holds the map lock exclusive";
    RangeCheck r =
        RangeCheck.check(reg, op.pid(), op.addr(), op.pages(), RangeCheck.Bound.MAPPABLE);
    if (r.failed()) {
      return r.failure(); // ESRCH; EINVAL (INH-7); ENOMEM (INH-7), even before INH-6 below
    }
    VmSpace sp = r.space();
    long end = r.end();
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
    Segments.unlinkBroken(m, sp, op.addr(), end); // seed 001: a segment left in pieces
    return Result.OK;
  }

  /**
   * mlock (WIRE-*). Segments the wiring fast path claims are added to {@code later} for the caller
   * to fill with the lock downgraded (Wiring's essay), or filled here when it is null. The caller
   * holds the map lock exclusive.
   */
  Result mlock(Op.Mlock op, Wiring.Populate later) {
    assert m.lock.heldExclusively() : "MapOps.mlock: the caller holds the map lock exclusive";
    RangeCheck r =
        RangeCheck.check(reg, op.pid(), op.addr(), op.pages(), RangeCheck.Bound.MAPPABLE);
    if (r.failed()) {
      return r.failure(); // ESRCH; EINVAL (WIRE-6, DEV-9); ENOMEM (WIRE-4)
    }
    VmSpace sp = r.space();
    long end = r.end();
    if (!sp.covers(op.addr(), end)) {
      return Result.of(Errno.ENOMEM); // WIRE-4, DEV-4
    }
    for (MapEntry e : sp.overlapping(op.addr(), end)) {
      if (e.prot == Prot.NONE || e.shown().pastEnd(e.index(Math.min(end, e.end) - 1))) {
        if (m.config.has(Bug.MLOCK_NO_ROLLBACK) && e.start > op.addr()) {
          // Injected: the entries before this one are wired and stay so (not DEV-4).
          Wiring.wire(m, pageout, sp, op.addr(), e.start, null);
        }
        return Result.of(Errno.ENOMEM); // WIRE-12, WIRE-5: cannot be faulted in; DEV-4
      }
    }
    if (!Wiring.wire(m, pageout, sp, op.addr(), end, later)) {
      return Result.of(Errno.EAGAIN); // WIRE-7
    }
    sp.simplify(op.addr(), end);
    Segments.unlinkBroken(m, sp, op.addr(), end); // seed 001: a segment left in pieces
    return Result.OK;
  }

  /** munlock (WIRE-8). The caller holds the map lock exclusive. */
  Result munlock(Op.Munlock op) {
    assert m.lock.heldExclusively() : "MapOps.munlock: the caller holds the map lock exclusive";
    RangeCheck r =
        RangeCheck.check(reg, op.pid(), op.addr(), op.pages(), RangeCheck.Bound.MAPPABLE);
    if (r.failed()) {
      return r.failure(); // ESRCH; EINVAL (WIRE-6); ENOMEM (WIRE-8)
    }
    VmSpace sp = r.space();
    long end = r.end();
    if (!sp.covers(op.addr(), end)) {
      return Result.of(Errno.ENOMEM); // WIRE-8
    }
    for (MapEntry e : sp.clipRange(op.addr(), end)) {
      Wiring.unwire(m, e);
    }
    sp.simplify(op.addr(), end);
    Segments.unlinkBroken(m, sp, op.addr(), end); // seed 001: a segment left in pieces
    return Result.OK;
  }

  /**
   * Makes a mapping of {@code pages} pages at {@code start} in {@code sp}, over the object {@code
   * src} names (which exists) or fresh anonymous memory. The range is free. The caller holds the
   * map lock exclusive.
   */
  void insert(VmSpace sp, long start, long pages, Prot prot, Sharing sharing, Source src) {
    assert m.lock.heldExclusively() : "MapOps.insert: the caller holds the map lock exclusive";
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
      Segments.prepare(m, e); // seed 001: its tables, if it can share them
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

  /** Whether {@code e} maps the shared page (PROT-6). No requirements. */
  private static boolean showsSharedPage(MapEntry e) {
    return e.shown().kind == VmObject.Kind.SHARED_PAGE; // PROT-6
  }

  /** Whether [a, a + bytes) lies in user space. No requirements. */
  private static boolean userRange(long a, long bytes) {
    return a >= Boot.USER_MIN && a <= Boot.USER_MAX && a + bytes <= Boot.USER_MAX;
  }
}
