package org.vmoracle.impl;

import org.vmoracle.impl.collapse.Collapse;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.pageout.Pageout;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;

/**
 * The operations no program could tell from doing nothing: pageout (SYS-1) and collapse (SYS-2).
 * Both only move pages (to swap or a file, or down a backing chain). pageout always answers {@code
 * ok}; collapse answers ESRCH for an unknown pid, ENOMEM for an address no mapping holds (SYS-2),
 * and ENOMEM, having changed nothing, when the collapse needs frames it cannot get (MEM-1).
 *
 * <p>Every method requires the map lock exclusive, and asserts it; {@link Pageout} and {@link
 * Collapse} assert it again.
 */
final class SysOps {
  private final Machine m; // (c)
  private final Registry reg; // (c)
  private final Pageout pageout; // (c)
  private final Teardown teardown; // (c)

  SysOps(Machine m, Registry reg, Pageout pageout, Teardown teardown) {
    this.m = m;
    this.reg = reg;
    this.pageout = pageout;
    this.teardown = teardown;
  }

  /** pageout (SYS-1). The caller holds the map lock exclusive. */
  Result pageout(Op.Pageout op) {
    assert m.lock.heldExclusively() : "SysOps.pageout: the caller holds the map lock exclusive";
    pageout.run(m, op.count()); // SYS-1
    return Result.OK;
  }

  /** collapse (SYS-2). The caller holds the map lock exclusive. */
  Result collapse(Op.Collapse op) {
    assert m.lock.heldExclusively() : "SysOps.collapse: the caller holds the map lock exclusive";
    VmSpace sp = reg.processes.get(op.pid());
    if (sp == null) {
      return Result.of(Errno.ESRCH); // PROC-3
    }
    MapEntry e = op.addr() < Boot.USER_MAX ? sp.entryAt(op.addr()) : null;
    if (e == null) {
      return Result.of(Errno.ENOMEM); // SYS-2
    }
    if (e.cow != null && !Collapse.collapse(m, pageout, e.cow, teardown)) {
      return Result.of(Errno.ENOMEM); // MEM-1
    }
    return Result.OK;
  }
}
