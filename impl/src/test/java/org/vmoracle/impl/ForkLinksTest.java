package org.vmoracle.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.Map;
import org.junit.jupiter.api.Test;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * fork links the child's entries to their objects once each, and nothing else: the backing scan's
 * lock operations, which experiment E1 counts, are one link a mapping inherited and one unlink a
 * mapping let go.
 */
class ForkLinksTest {

  @Test
  void fork_sharedRegionAndSharedPage_linksTwoAndUnlinksNone() {
    ImplVm vm = new ImplVm();
    vm.apply(new Op.Spawn(1));
    vm.apply(new Op.Mmap(1, 0, 4, Prot.RW, Sharing.SHARED, new Source.Anon(), false));
    Map<String, Long> before = vm.stats();
    assertEquals(2, before.get("rmapLockOps"), before.toString()); // the shared page, the region
    vm.apply(new Op.Fork(1, 2));
    Map<String, Long> after = vm.stats();
    assertEquals(4, after.get("rmapLockOps"), after.toString());
    assertEquals(4, after.get("rmapRecords"), after.toString());
    assertEquals(
        new Result.Value(Boot.sharedPageWord(0)), vm.apply(new Op.Read(2, Boot.SHARED_PAGE)));
    vm.apply(new Op.Exit(2));
    assertEquals(6, vm.stats().get("rmapLockOps"));
    vm.checkInvariants();
  }
}
