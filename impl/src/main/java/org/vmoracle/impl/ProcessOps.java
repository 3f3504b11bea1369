package org.vmoracle.impl;

import java.util.Optional;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.pageout.Pageout;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;

/**
 * The operations that make and end processes: spawn, fork, clone, exec and exit, and the new
 * address space they start from ({@link #newSpace}).
 *
 * <h2>Overview</h2>
 *
 * A process is a pid in {@link Registry#processes} naming an address space. spawn and exec give it
 * a new space holding only the shared page (BOOT-2), exec then the image's segments; fork builds
 * the child's space from the parent's, starting from an empty one ({@link Forks}); clone names the
 * parent's space again (PROC-4). exit and exec let go of a space with {@code Teardown.leave}, which
 * tears it down when its last user goes (PROC-5, EXEC-4).
 *
 * <h2>Concurrency</h2>
 *
 * Every method requires the map lock exclusive, and asserts it.
 *
 * <h2>Invariants</h2>
 *
 * A space's {@code users} is the number of pids naming it: one for a new space, one more for each
 * clone, one less for each exit or exec. A failed operation changes nothing (ERR-1): every check,
 * and every allocation that can fail, comes before the registry changes; a fork that runs out of
 * memory has torn its half-built child down itself (MEM-1).
 */
final class ProcessOps {
  private final Machine m; // (c)
  private final Registry reg; // (c)
  private final Pageout pageout; // (c)
  private final Teardown teardown; // (c)
  private final MapOps maps; // (c) for exec's segments

  ProcessOps(Machine m, Registry reg, Pageout pageout, Teardown teardown, MapOps maps) {
    this.m = m;
    this.reg = reg;
    this.pageout = pageout;
    this.teardown = teardown;
    this.maps = maps;
  }

  /** spawn (PROC-1). The caller holds the map lock exclusive. */
  Result spawn(Op.Spawn op) {
    assert m.lock.heldExclusively() : "ProcessOps.spawn: the caller holds the map lock exclusive";
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

  /** fork (FORK-*, INH-*). The caller holds the map lock exclusive. */
  Result fork(Op.Fork op) {
    assert m.lock.heldExclusively() : "ProcessOps.fork: the caller holds the map lock exclusive";
    VmSpace parent = reg.processes.get(op.parent());
    if (parent == null) {
      return Result.of(Errno.ESRCH); // PROC-3
    }
    if (reg.processes.containsKey(op.child())) {
      return Result.of(Errno.EEXIST);
    }
    VmSpace child = Forks.fork(m, pageout, parent, this::emptySpace, teardown);
    if (child == null) {
      return Result.of(Errno.ENOMEM); // MEM-1
    }
    reg.processes.put(op.child(), child);
    return Result.OK;
  }

  /** clone (PROC-4). The caller holds the map lock exclusive. */
  Result clone(Op.Clone op) {
    assert m.lock.heldExclusively() : "ProcessOps.clone: the caller holds the map lock exclusive";
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

  /** exec (EXEC-*). The caller holds the map lock exclusive. */
  Result exec(Op.Exec op) {
    assert m.lock.heldExclusively() : "ProcessOps.exec: the caller holds the map lock exclusive";
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
      maps.insert(sp, seg.start(), seg.pages(), seg.prot(), seg.sharing(), seg.source());
    }
    reg.processes.put(op.pid(), sp);
    teardown.leave(old); // EXEC-4: the old space goes only with its last user
    return Result.OK;
  }

  /** exit (PROC-5). The caller holds the map lock exclusive. */
  Result exit(Op.Exit op) {
    assert m.lock.heldExclusively() : "ProcessOps.exit: the caller holds the map lock exclusive";
    VmSpace sp = reg.processes.remove(op.pid());
    if (sp == null) {
      return Result.of(Errno.ESRCH);
    }
    teardown.leave(sp); // PROC-5
    return Result.OK;
  }

  /**
   * A new address space holding nothing, with one user; or null without memory (pageout has been
   * asked once for the frames its tables need): fork's start, which inherits the shared page's
   * entry with the others. The caller holds the map lock exclusive.
   */
  VmSpace emptySpace() {
    assert m.lock.heldExclusively()
        : "ProcessOps.emptySpace: the caller holds the map lock exclusive";
    Pmap p = m.mmu.newPmap();
    if (p == null && pageout.run(m, Pageout.NEW_SPACE_PAGES) > 0) {
      p = m.mmu.newPmap();
    }
    if (p == null) {
      return null;
    }
    VmSpace sp = m.newSpace(p);
    sp.users = 1;
    return sp;
  }

  /**
   * A new address space holding the shared page, with one user; or null without memory (see {@link
   * #emptySpace}): the start of spawn and exec. The caller holds the map lock exclusive.
   */
  VmSpace newSpace() {
    VmSpace sp = emptySpace();
    if (sp == null) {
      return null;
    }
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
}
