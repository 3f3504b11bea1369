package org.vmoracle.impl;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;
import org.vmoracle.impl.core.Config;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.pageout.Pageout;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * The operation classes behind {@link ImplVm} assert that their caller holds the map lock
 * exclusive, so a call that skips {@link ImplVm#apply} fails at once under {@code -ea} (as the
 * tests run): one operation of each class, called with no lock at all, in either lock mode.
 */
class FacadeLockRulesTest {

  @Test
  void operations_withoutTheExclusiveLock_assertionFails() {
    boolean enabled = false;
    assert enabled = true; // assertions on, or this test shows nothing
    assertTrue(enabled, "the tests run with -ea");
    for (boolean scalable : new boolean[] {true, false}) {
      Machine m = new Machine(Config.defaults().withFrames(64).withScalableReads(scalable));
      Registry reg = new Registry();
      Pageout pageout = new Pageout();
      Teardown teardown = new Teardown(m, reg.files, reg.segments);
      MapOps maps = new MapOps(m, reg, pageout, teardown);
      ProcessOps processes = new ProcessOps(m, reg, pageout, teardown, maps);
      FileOps files = new FileOps(m, reg, teardown);
      SysOps sys = new SysOps(m, reg, pageout, teardown);
      List<Executable> calls =
          List.of(
              () ->
                  maps.mmap(
                      new Op.Mmap(1, 0, 1, Prot.RW, Sharing.PRIVATE, new Source.Anon(), false)),
              () -> maps.mlock(new Op.Mlock(1, 0x10000000L, 1), null),
              () -> processes.spawn(new Op.Spawn(1)),
              () -> files.shmget(new Op.Shmget(1, 1)),
              () -> sys.pageout(new Op.Pageout(1)),
              () -> Stats.of(m, reg.processes));
      for (Executable call : calls) {
        AssertionError e = assertThrows(AssertionError.class, call);
        assertTrue(e.getMessage().contains("map lock exclusive"), e.getMessage());
      }
    }
  }
}
