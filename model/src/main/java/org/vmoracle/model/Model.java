package org.vmoracle.model;

import static org.vmoracle.spec.Boot.PAGE_SIZE;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.pcollections.IntTreePMap;
import org.pcollections.TreePMap;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;
import org.vmoracle.spec.View;

/**
 * The reference model: {@code step(State, Op) -> Outcome}, a pure function that states what a VM
 * must do, rule by rule (spec/SEMANTICS.md). It is meant to be read: obviously right before fast.
 *
 * <p>How memory is represented: every mapping shows pages of an object ({@link Obj}). Shared
 * mappings show the object itself; private mappings show their own overlay, which holds the pages
 * they copied and reads everything else through to the object they map. Copy-on-write is then
 * nothing but persistent-map sharing: a fork gives the child a new overlay holding the same page
 * map, and a store replaces one page in one overlay.
 *
 * <p>Errors are checked in the order of ERR-2 before anything is changed, so a failure returns the
 * state it was given (ERR-1). The only exception is mprotect, which follows Linux in keeping what
 * it changed before a hole (PROT-3).
 */
public final class Model {
  private Model() {}

  /** The booted system: the boot files, the shared page, no processes (BOOT-1). */
  public static State boot() {
    IntTreePMap<Obj> objects = IntTreePMap.<Obj>empty().plus(State.SHARED_PAGE, Obj.sharedPage());
    TreePMap<String, Integer> files = TreePMap.empty();
    int id = State.SHARED_PAGE + 1;
    for (Boot.BootFile f : Boot.BOOT_FILES) {
      objects = objects.plus(id, Obj.file(f.name(), f.pages(), f.number()));
      files = files.plus(f.name(), id);
      id++;
    }
    return new State(
        IntTreePMap.empty(),
        IntTreePMap.empty(),
        IntTreePMap.empty(),
        objects,
        files,
        TreePMap.empty(),
        id,
        64);
  }

  /** Carries out {@code op} on {@code s}. */
  public static Outcome step(State s, Op op) {
    return op.accept(new Step(s));
  }

  /** What can be observed in {@code s} (VIEW-1). */
  public static View view(State s) {
    return Views.of(s);
  }

  /** The visitor that is one step; {@code s} is the state before the operation. */
  private static final class Step implements Op.Visitor<Outcome> {
    private final State s;

    Step(State s) {
      this.s = s;
    }

    private boolean alive(int pid) {
      return s.processes().containsKey(pid);
    }

    // ------------------------------------------------------------ processes

    @Override
    public Outcome spawn(Op.Spawn op) {
      if (alive(op.pid())) {
        return Outcome.fail(s, Errno.EEXIST); // PROC-1
      }
      int space = s.nextId();
      return Outcome.ok(
          s.withNextId(space + 1)
              .withNewSpace(space, freshSpace())
              .withProcesses(s.processes().plus(op.pid(), space)));
    }

    @Override
    public Outcome fork(Op.Fork op) {
      if (!alive(op.parent())) {
        return Outcome.fail(s, Errno.ESRCH); // PROC-3
      }
      if (alive(op.child())) {
        return Outcome.fail(s, Errno.EEXIST);
      }
      State t = s;
      TreePMap<Long, Region> child = TreePMap.empty();
      for (Region r : s.regionsOf(op.parent()).values()) {
        Region c = r.withWired(false); // FORK-1: wiring is never inherited
        switch (r.inherit()) {
          case NONE: // INH-5
            continue;
          case SHARE: // INH-2: the same object, private overlays included
            break;
          case COPY:
            if (r.sharing() == Sharing.SHARED) {
              // INH-4: a private view of the shared object, reading through until copied.
              c = c.withObj(t.nextId(), Sharing.PRIVATE);
              t = t.withObject(t.nextId(), Obj.overlay(r.obj(), TreePMap.empty()));
            } else {
              // INH-3, COW-1, FORK-3: the child's overlay starts as a copy of the parent's.
              Obj o = t.obj(r.obj());
              c = c.withObj(t.nextId(), Sharing.PRIVATE);
              t = t.withObject(t.nextId(), Obj.overlay(o.backing(), o.pages()));
            }
            t = t.withNextId(t.nextId() + 1);
            break;
          case ZERO: // INH-6: fresh zero-filled private anonymous memory
            c = c.withObj(t.nextId(), Sharing.PRIVATE);
            t = t.withObject(t.nextId(), Obj.overlay(Obj.NONE, TreePMap.empty()));
            t = t.withNextId(t.nextId() + 1);
            break;
        }
        child = child.plus(c.start(), c);
      }
      int space = t.nextId();
      TreePMap<Long, Region> parent = s.regionsOf(op.parent());
      // The child maps what the parent maps but for the ranges inherited as none: with none of
      // those, the parent's runs are the child's.
      State u =
          child.size() == parent.size()
              ? t.withNewSpace(space, child, s.runsOf(spaceOf(op.parent())))
              : t.withNewSpace(space, child);
      return Outcome.ok(
          u.withNextId(space + 1).withProcesses(t.processes().plus(op.child(), space)));
    }

    @Override
    public Outcome clone(Op.Clone op) {
      if (!alive(op.parent())) {
        return Outcome.fail(s, Errno.ESRCH); // PROC-3
      }
      if (alive(op.child())) {
        return Outcome.fail(s, Errno.EEXIST);
      }
      // PROC-4: the child names the parent's address space itself.
      return Outcome.ok(
          s.withProcesses(s.processes().plus(op.child(), s.processes().get(op.parent()))));
    }

    @Override
    public Outcome exec(Op.Exec op) {
      if (!alive(op.pid())) {
        return Outcome.fail(s, Errno.ESRCH);
      }
      Optional<Boot.Image> image = Boot.image(op.image());
      if (image.isEmpty()) {
        return Outcome.fail(s, Errno.ENOENT); // EXEC-1
      }
      for (Boot.Segment seg : image.get().segments()) {
        if (seg.source() instanceof Source.FileRange
            && !s.files().containsKey(((Source.FileRange) seg.source()).name())) {
          return Outcome.fail(s, Errno.ENOENT);
        }
      }
      // EXEC-1, EXEC-4: only this process leaves its old address space.
      State t = leaveSpace(s, op.pid());
      TreePMap<Long, Region> regions = freshSpace();
      for (Boot.Segment seg : image.get().segments()) {
        Made m = make(t, seg.start(), seg.pages(), seg.prot(), seg.sharing(), seg.source());
        t = m.state;
        regions = regions.plus(m.region.start(), m.region);
      }
      int space = t.nextId();
      return Outcome.ok(
          sweep(
              t.withNextId(space + 1)
                  .withNewSpace(space, regions)
                  .withProcesses(t.processes().plus(op.pid(), space))));
    }

    @Override
    public Outcome exit(Op.Exit op) {
      if (!alive(op.pid())) {
        return Outcome.fail(s, Errno.ESRCH);
      }
      State t = leaveSpace(s, op.pid()); // PROC-5
      return Outcome.ok(sweep(t.withProcesses(t.processes().minus(op.pid()))));
    }

    // ------------------------------------------------------------ mappings

    @Override
    public Outcome mmap(Op.Mmap op) {
      if (!alive(op.pid())) {
        return Outcome.fail(s, Errno.ESRCH);
      }
      if (!pageAligned(op.addr()) || op.pages() == 0) {
        return Outcome.fail(s, Errno.EINVAL); // MMAP-2
      }
      if (!sourceExists(s, op.source())) {
        return Outcome.fail(s, Errno.ENOENT); // MMAP-3, MMAP-4
      }
      long bytes = op.pages() * PAGE_SIZE;
      TreePMap<Long, Region> regions = s.regionsOf(op.pid());
      long start;
      if (op.fixed()) {
        if (!inUserSpace(op.addr(), bytes)) {
          return Outcome.fail(s, Errno.ENOMEM); // MMAP-7, DEV-5
        }
        start = op.addr();
        regions = removeRange(regions, start, start + bytes); // MMAP-7: replace
      } else if (op.addr() != 0
          && inUserSpace(op.addr(), bytes)
          && isFree(regions, op.addr(), op.addr() + bytes)) {
        start = op.addr(); // MMAP-6, PLACE-4
      } else {
        start = Runs.place(s.runsOf(spaceOf(op.pid())), bytes); // PLACE-1, PLACE-2
        if (start < 0) {
          return Outcome.fail(s, Errno.ENOMEM); // PLACE-3
        }
      }
      Made m = make(s, start, op.pages(), op.prot(), op.sharing(), op.source());
      State t =
          m.state.withMapped(
              spaceOf(op.pid()), regions.plus(start, m.region), start, start + bytes);
      return Outcome.value(op.fixed() ? sweep(t) : t, start);
    }

    @Override
    public Outcome munmap(Op.Munmap op) {
      if (!alive(op.pid())) {
        return Outcome.fail(s, Errno.ESRCH);
      }
      if (!pageAligned(op.addr())
          || op.pages() == 0
          || op.addr() > Boot.USER_MAX
          || op.addr() + op.pages() * PAGE_SIZE > Boot.USER_MAX) {
        return Outcome.fail(s, Errno.EINVAL); // UNMAP-4
      }
      long end = op.addr() + op.pages() * PAGE_SIZE;
      // UNMAP-1, UNMAP-3, UNMAP-6: holes are fine; wiring goes with the mapping.
      return Outcome.ok(
          sweep(
              s.withUnmapped(
                  spaceOf(op.pid()),
                  removeRange(s.regionsOf(op.pid()), op.addr(), end),
                  op.addr(),
                  end)));
    }

    @Override
    public Outcome mprotect(Op.Mprotect op) {
      if (!alive(op.pid())) {
        return Outcome.fail(s, Errno.ESRCH);
      }
      if (!pageAligned(op.addr()) || op.pages() == 0) {
        return Outcome.fail(s, Errno.EINVAL); // PROT-4
      }
      if (op.addr() >= Boot.USER_MAX) {
        return Outcome.fail(s, Errno.ENOMEM);
      }
      long end = op.addr() + op.pages() * PAGE_SIZE;
      // PROT-3: walk the range front to back like Linux; stop at the first hole or at the shared
      // page (PROT-6), keeping what was changed before it.
      TreePMap<Long, Region> regions = clip(clip(s.regionsOf(op.pid()), op.addr()), end);
      State t = s;
      long at = op.addr();
      Errno stop = null;
      while (at < end) {
        Region r = regions.get(at);
        if (r == null) {
          stop = Errno.ENOMEM;
          break;
        }
        if (op.prot().canWrite() && mapsSharedPage(t, r)) {
          stop = Errno.EACCES;
          break;
        }
        Region changed = r.withProt(op.prot());
        if (r.wired() && !r.prot().canWrite() && op.prot().canWrite()) {
          t = copyIn(t, changed); // WIRE-10
        }
        regions = regions.plus(at, changed);
        at = r.end();
      }
      if (at == op.addr()) {
        return Outcome.fail(s, stop); // nothing changed: the range starts in a hole
      }
      t = t.withSpace(spaceOf(op.pid()), regions);
      return stop == null ? Outcome.ok(t) : Outcome.fail(t, stop);
    }

    @Override
    public Outcome minherit(Op.Minherit op) {
      if (!alive(op.pid())) {
        return Outcome.fail(s, Errno.ESRCH);
      }
      if (!pageAligned(op.addr()) || op.pages() == 0) {
        return Outcome.fail(s, Errno.EINVAL); // INH-7
      }
      if (op.addr() >= Boot.USER_MAX) {
        return Outcome.fail(s, Errno.ENOMEM); // nothing is mapped up there
      }
      long end = op.addr() + op.pages() * PAGE_SIZE;
      TreePMap<Long, Region> regions = s.regionsOf(op.pid());
      if (op.inherit() == Inherit.ZERO) {
        for (Region r : overlapping(regions, op.addr(), end)) {
          if (!isPrivateAnon(s, r)) {
            return Outcome.fail(s, Errno.EINVAL); // INH-6
          }
        }
      }
      if (!isMapped(regions, op.addr(), end)) {
        return Outcome.fail(s, Errno.ENOMEM); // INH-7, DEV-6
      }
      regions = clip(clip(regions, op.addr()), end);
      for (Region r : regions.subMap(op.addr(), end).values()) {
        regions = regions.plus(r.start(), r.withInherit(op.inherit())); // INH-8: splits
      }
      return Outcome.ok(s.withSpace(spaceOf(op.pid()), regions));
    }

    @Override
    public Outcome mlock(Op.Mlock op) {
      if (!alive(op.pid())) {
        return Outcome.fail(s, Errno.ESRCH);
      }
      if (!pageAligned(op.addr()) || op.pages() == 0) {
        return Outcome.fail(s, Errno.EINVAL); // WIRE-6, DEV-9
      }
      if (op.addr() >= Boot.USER_MAX) {
        return Outcome.fail(s, Errno.ENOMEM); // nothing is mapped up there
      }
      long end = op.addr() + op.pages() * PAGE_SIZE;
      TreePMap<Long, Region> regions = s.regionsOf(op.pid());
      if (!isMapped(regions, op.addr(), end)) {
        return Outcome.fail(s, Errno.ENOMEM); // WIRE-4, DEV-4
      }
      regions = clip(clip(regions, op.addr()), end);
      for (Region r : regions.subMap(op.addr(), end).values()) {
        // Pages that cannot be faulted in: inaccessible ones (WIRE-12), and those past the end
        // of their file or segment (WIRE-5). Nothing is wired then (DEV-4).
        if (r.prot() == Prot.NONE || anyPastEnd(s, r)) {
          return Outcome.fail(s, Errno.ENOMEM);
        }
      }
      State t = s;
      for (Region r : regions.subMap(op.addr(), end).values()) {
        if (r.sharing() == Sharing.PRIVATE && r.prot().canWrite()) {
          t = copyIn(t, r); // WIRE-2: break copy-on-write now
        }
        regions = regions.plus(r.start(), r.withWired(true)); // WIRE-1, WIRE-9: a flag
      }
      return Outcome.ok(t.withSpace(spaceOf(op.pid()), regions));
    }

    @Override
    public Outcome munlock(Op.Munlock op) {
      if (!alive(op.pid())) {
        return Outcome.fail(s, Errno.ESRCH);
      }
      if (!pageAligned(op.addr()) || op.pages() == 0) {
        return Outcome.fail(s, Errno.EINVAL); // WIRE-6
      }
      if (op.addr() >= Boot.USER_MAX) {
        return Outcome.fail(s, Errno.ENOMEM); // nothing is mapped up there
      }
      long end = op.addr() + op.pages() * PAGE_SIZE;
      TreePMap<Long, Region> regions = s.regionsOf(op.pid());
      if (!isMapped(regions, op.addr(), end)) {
        return Outcome.fail(s, Errno.ENOMEM); // WIRE-8
      }
      regions = clip(clip(regions, op.addr()), end);
      for (Region r : regions.subMap(op.addr(), end).values()) {
        regions = regions.plus(r.start(), r.withWired(false));
      }
      return Outcome.ok(s.withSpace(spaceOf(op.pid()), regions));
    }

    // ------------------------------------------------------------ access

    @Override
    public Outcome read(Op.Read op) {
      if (!alive(op.pid())) {
        return Outcome.fail(s, Errno.ESRCH);
      }
      Region r = regionAt(s.regionsOf(op.pid()), op.addr());
      if (r == null || !r.prot().canRead()) {
        return Outcome.fail(s, Errno.SEGV); // ACC-1, ACC-2
      }
      Page p = resolve(s, s.obj(r.obj()), r.pageIndex(op.addr()));
      if (p == null) {
        return Outcome.fail(s, Errno.BUS); // FILE-5, SHM-4
      }
      return Outcome.value(s, p.word(wordIndex(op.addr()))); // ACC-3, ACC-4
    }

    @Override
    public Outcome write(Op.Write op) {
      if (!alive(op.pid())) {
        return Outcome.fail(s, Errno.ESRCH);
      }
      Region r = regionAt(s.regionsOf(op.pid()), op.addr());
      if (r == null || !r.prot().canWrite()) {
        return Outcome.fail(s, Errno.SEGV); // ACC-1, ACC-2
      }
      Obj o = s.obj(r.obj());
      long i = r.pageIndex(op.addr());
      Page p = resolve(s, o, i);
      if (p == null) {
        return Outcome.fail(s, Errno.BUS); // FILE-5
      }
      // A shared mapping stores into the object (FILE-6); a private one into its overlay, which
      // copies the page it read through to first (COW-2, COW-4).
      return Outcome.ok(
          s.withObject(r.obj(), o.withPage(i, p.with(wordIndex(op.addr()), op.value()))));
    }

    // ------------------------------------------------------------ files and segments

    @Override
    public Outcome file(Op.File op) {
      Integer id = s.files().get(op.name());
      if (id == null) {
        int n = s.nextId(); // FILE-1: a new zero-filled file
        return Outcome.ok(
            s.withNextId(n + 1)
                .withObject(n, Obj.file(op.name(), op.pages(), 0))
                .withFiles(s.files().plus(op.name(), n)));
      }
      return Outcome.ok(resizeFile(s, id, op.pages()));
    }

    @Override
    public Outcome fwrite(Op.Fwrite op) {
      Integer id = s.files().get(op.name());
      if (id == null) {
        return Outcome.fail(s, Errno.ENOENT); // FILE-2
      }
      long i = op.offset() / PAGE_SIZE;
      if (i >= Op.MAX_PAGES) {
        return Outcome.fail(s, Errno.EFBIG); // FILE-12: no file grows past 2^35 pages
      }
      State t = s;
      if (t.obj(id).pastEnd(i)) {
        t = resizeFile(t, id, i + 1); // FILE-3
      }
      Obj f = t.obj(id);
      return Outcome.ok(
          t.withObject(id, f.withPage(i, f.page(i).with(fileWord(op.offset()), op.value()))));
    }

    @Override
    public Outcome fread(Op.Fread op) {
      Integer id = s.files().get(op.name());
      if (id == null) {
        return Outcome.fail(s, Errno.ENOENT); // FILE-2
      }
      Obj f = s.obj(id);
      long i = op.offset() / PAGE_SIZE;
      if (f.pastEnd(i)) {
        return Outcome.fail(s, Errno.EINVAL); // FILE-4
      }
      return Outcome.value(s, f.page(i).word(fileWord(op.offset())));
    }

    @Override
    public Outcome shmget(Op.Shmget op) {
      if (op.pages() == 0) {
        return Outcome.fail(s, Errno.EINVAL); // SHM-1, ERR-2
      }
      if (s.segments().containsKey(op.key())) {
        return Outcome.fail(s, Errno.EEXIST);
      }
      int n = s.nextId();
      return Outcome.ok(
          s.withNextId(n + 1)
              .withObject(n, Obj.segment(op.key(), op.pages()))
              .withSegments(s.segments().plus(op.key(), n)));
    }

    @Override
    public Outcome shmrm(Op.Shmrm op) {
      if (!s.segments().containsKey(op.key())) {
        return Outcome.fail(s, Errno.ENOENT); // SHM-3, DEV-7
      }
      // SHM-3: the key goes; the segment lives on in its mappings, if any.
      return Outcome.ok(sweep(s.withSegments(s.segments().minus(op.key()))));
    }

    // ------------------------------------------------------------ system

    @Override
    public Outcome pageout(Op.Pageout op) {
      return Outcome.ok(s); // SYS-1: eviction is invisible
    }

    @Override
    public Outcome collapse(Op.Collapse op) {
      if (!alive(op.pid())) {
        return Outcome.fail(s, Errno.ESRCH);
      }
      if (regionAt(s.regionsOf(op.pid()), op.addr()) == null) {
        return Outcome.fail(s, Errno.ENOMEM); // SYS-2
      }
      return Outcome.ok(s); // SYS-2: collapsing is invisible
    }

    private int spaceOf(int pid) {
      return s.processes().get(pid);
    }
  }

  // -------------------------------------------------------------- helpers on states

  /** A region and the state that holds its object. */
  private static final class Made {
    final State state;
    final Region region;

    Made(State state, Region region) {
      this.state = state;
      this.region = region;
    }
  }

  /**
   * A new region at {@code start} for a mapping of {@code source}: shared mappings show the object
   * itself; private ones get a new overlay over it (MMAP-1, MMAP-5). The source must exist.
   */
  private static Made make(
      State s, long start, long pages, Prot prot, Sharing sharing, Source source) {
    int target;
    long pgoff;
    State t = s;
    if (source instanceof Source.FileRange) {
      target = s.files().get(((Source.FileRange) source).name());
      pgoff = ((Source.FileRange) source).pgoff();
    } else if (source instanceof Source.Shm) {
      target = s.segments().get(((Source.Shm) source).key());
      pgoff = 0;
    } else if (sharing == Sharing.SHARED) {
      target = t.nextId();
      t = t.withObject(target, Obj.sharedAnon()).withNextId(target + 1);
      pgoff = 0;
    } else {
      target = Obj.NONE; // private anonymous: an overlay over nothing
      pgoff = 0;
    }
    int obj = target;
    if (sharing == Sharing.PRIVATE) {
      obj = t.nextId();
      t = t.withObject(obj, Obj.overlay(target, TreePMap.empty())).withNextId(obj + 1);
    }
    Region r = new Region(start, pages, prot, sharing, sharing.defaultInherit(), false, obj, pgoff);
    return new Made(t, r);
  }

  /** A fresh address space: only the shared page (BOOT-2, PROC-1). */
  private static TreePMap<Long, Region> freshSpace() {
    Region shared =
        new Region(
            Boot.SHARED_PAGE,
            1,
            Prot.RX,
            Sharing.SHARED,
            Inherit.SHARE,
            false,
            State.SHARED_PAGE,
            0);
    return TreePMap.singleton(Boot.SHARED_PAGE, shared);
  }

  /** {@code pid} stops using its address space, which goes when nobody else uses it (PROC-5). */
  private static State leaveSpace(State s, int pid) {
    int space = s.processes().get(pid);
    for (Map.Entry<Integer, Integer> p : s.processes().entrySet()) {
      if (p.getKey() != pid && p.getValue() == space) {
        return s; // EXEC-4: still in use by a clone
      }
    }
    return s.withoutSpace(space);
  }

  /**
   * The page at index {@code i} of what {@code o} shows, or {@code null} for BUS: an overlay's own
   * page, else its backing's, else zeros (COW-*, FILE-7); past the end of a file or segment is BUS
   * whether copied or not (FILE-5, FILE-8).
   */
  static Page resolve(State s, Obj o, long i) {
    if (o.isOverlay()) {
      Obj b = o.backing() == Obj.NONE ? null : s.obj(o.backing());
      if (b != null && b.pastEnd(i)) {
        return null;
      }
      Page own = o.pages().get(i);
      if (own != null) {
        return own;
      }
      return b == null ? Page.ZERO : b.page(i);
    }
    return o.pastEnd(i) ? null : o.page(i);
  }

  /** The overlay of private region {@code r} with every page of {@code r} copied in (WIRE-2). */
  private static State copyIn(State s, Region r) {
    Obj o = s.obj(r.obj());
    if (o.backing() == Obj.NONE) {
      return s; // private anonymous memory reads through to nothing: there is nothing to copy
    }
    Obj b = s.obj(o.backing());
    TreePMap<Long, Page> pages = o.pages();
    for (long i = r.pgoff(); i < r.pgoff() + r.pages() && !b.pastEnd(i); i++) {
      if (!pages.containsKey(i)) {
        pages = pages.plus(i, b.page(i));
      }
    }
    return s.withObject(r.obj(), o.withPages(pages));
  }

  /** Whether some page of {@code r} lies past the end of its file or segment (WIRE-5). */
  private static boolean anyPastEnd(State s, Region r) {
    Obj o = s.obj(r.obj());
    if (o.isOverlay()) {
      if (o.backing() == Obj.NONE) {
        return false;
      }
      o = s.obj(o.backing());
    }
    return o.pastEnd(r.pgoff() + r.pages() - 1);
  }

  /** Whether {@code r} shows the shared page, directly or through a private copy (PROT-6). */
  private static boolean mapsSharedPage(State s, Region r) {
    Obj o = s.obj(r.obj());
    return r.obj() == State.SHARED_PAGE || (o.isOverlay() && o.backing() == State.SHARED_PAGE);
  }

  /** Private anonymous memory: the only kind that may be inherited as zero (INH-6). */
  private static boolean isPrivateAnon(State s, Region r) {
    return r.sharing() == Sharing.PRIVATE && s.obj(r.obj()).backing() == Obj.NONE;
  }

  /** File {@code id} resized, with every private copy past the new end dropped (FILE-1, FILE-8). */
  private static State resizeFile(State s, int id, long pages) {
    State t = s.withObject(id, s.obj(id).resized(pages));
    for (Map.Entry<Integer, Obj> e : s.objects().entrySet()) {
      Obj o = e.getValue();
      if (o.isOverlay() && o.backing() == id && !o.pages().tailMap(pages).isEmpty()) {
        t = t.withObject(e.getKey(), o.withPages(o.pages().headMap(pages)));
      }
    }
    return t;
  }

  /**
   * Drops objects that nothing can reach any more, when there are enough of them to be worth it.
   * Invisible: an unreachable object can never be read again.
   */
  private static State sweep(State s) {
    if (s.objects().size() < s.sweepAt()) {
      return s;
    }
    java.util.Set<Integer> live = new java.util.HashSet<>();
    live.add(State.SHARED_PAGE);
    live.addAll(s.files().values());
    live.addAll(s.segments().values());
    for (TreePMap<Long, Region> regions : s.spaces().values()) {
      for (Region r : regions.values()) {
        live.add(r.obj());
        live.add(s.obj(r.obj()).backing());
      }
    }
    IntTreePMap<Obj> objects = s.objects();
    for (Integer id : s.objects().keySet()) {
      if (!live.contains(id)) {
        objects = objects.minus(id);
      }
    }
    return s.withObjects(objects).withSweepAt(2 * objects.size() + 64);
  }

  // -------------------------------------------------------------- helpers on address spaces

  private static boolean sourceExists(State s, Source source) {
    if (source instanceof Source.FileRange) {
      return s.files().containsKey(((Source.FileRange) source).name());
    }
    if (source instanceof Source.Shm) {
      return s.segments().containsKey(((Source.Shm) source).key());
    }
    return true;
  }

  static boolean pageAligned(long a) {
    return (a & (PAGE_SIZE - 1)) == 0;
  }

  static int wordIndex(long addr) {
    return (int) ((addr & (PAGE_SIZE - 1)) / Boot.WORD_SIZE);
  }

  private static int fileWord(long offset) {
    return wordIndex(offset);
  }

  /** Whether [a, a + bytes) lies in the user address space [USER_MIN, USER_MAX). */
  private static boolean inUserSpace(long a, long bytes) {
    return a >= Boot.USER_MIN && a <= Boot.USER_MAX && a + bytes <= Boot.USER_MAX;
  }

  /** The region holding address {@code a}, or {@code null}. */
  static Region regionAt(TreePMap<Long, Region> regions, long a) {
    Map.Entry<Long, Region> e = regions.floorEntry(a);
    return e != null && a < e.getValue().end() ? e.getValue() : null;
  }

  /** The regions that overlap [start, end), in address order. */
  private static List<Region> overlapping(TreePMap<Long, Region> regions, long start, long end) {
    List<Region> out = new ArrayList<>();
    Region first = regionAt(regions, start);
    if (first != null) {
      out.add(first);
    }
    out.addAll(regions.subMap(start, end).values());
    if (first != null && first.start() == start) {
      out.remove(0); // counted twice
    }
    return out;
  }

  private static boolean isFree(TreePMap<Long, Region> regions, long start, long end) {
    return overlapping(regions, start, end).isEmpty();
  }

  /** Whether every page of [start, end) is mapped. */
  private static boolean isMapped(TreePMap<Long, Region> regions, long start, long end) {
    long at = start;
    for (Region r : overlapping(regions, start, end)) {
      if (r.start() > at) {
        return false;
      }
      at = r.end();
    }
    return at >= end;
  }

  /** The regions with the one that straddles {@code at} split there (UNMAP-2). */
  private static TreePMap<Long, Region> clip(TreePMap<Long, Region> regions, long at) {
    Region r = regionAt(regions, at);
    if (r == null || r.start() == at) {
      return regions;
    }
    return regions.plus(r.start(), r.slice(r.start(), at)).plus(at, r.slice(at, r.end()));
  }

  /** The regions with [start, end) unmapped (UNMAP-1, UNMAP-2). */
  private static TreePMap<Long, Region> removeRange(
      TreePMap<Long, Region> regions, long start, long end) {
    TreePMap<Long, Region> clipped = clip(clip(regions, start), end);
    return clipped.minusAll(clipped.subMap(start, end).keySet());
  }
}
