package org.vmoracle.checks.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.vmoracle.checks.diff.Lockstep;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.trace.Replay;
import org.vmoracle.spec.trace.TraceParser;

/**
 * Collapse and the freeing of shadowed pages (seed 000's "still to do"), checked against the model
 * step by step: they must change nothing visible (SYS-2) while doing their work, which the counters
 * show.
 */
class CollapseTest {

  private static ImplVm run(Config config, String trace) throws Exception {
    ImplVm impl = new ImplVm(config);
    Replay.Report r = Replay.run(TraceParser.parse("test", trace), new Lockstep(impl, 1, 1));
    assertTrue(r.passed(), () -> r.unmet().get().message());
    return impl;
  }

  @Test
  void fork_chainDeeperThanLimit_collapsedKeepingTheFile() throws Exception {
    // SYS-2, FILE-7: seven generations each store into a private file mapping and fork; the
    // chain passes the limit of 5 and is collapsed, and pages never copied still show the file.
    StringBuilder t = new StringBuilder("file f 4\nspawn 1\nmmap 1 0 4 rw private file f 0\n");
    for (int g = 1; g <= 7; g++) {
      t.append("write ").append(g).append(" 0x10000000 ").append(g).append('\n');
      t.append("fork ").append(g).append(' ').append(g + 1).append('\n');
    }
    t.append("fwrite f 0x3000 99\n");
    t.append("read 8 0x10003000 -> 99\n");
    t.append("read 8 0x10000000 -> 7\n");
    t.append("read 1 0x10000000 -> 1\n");
    ImplVm impl = run(Config.defaults().withFrames(512), t.toString());
    assertTrue(impl.counters().collapses.sum() > 0, "no collapse: " + impl.counters().snapshot());
  }

  @Test
  void collapse_deepChainWithLimitOff_explicitCollapsePullsPagesUp() throws Exception {
    // SYS-2: an explicit collapse of a deep chain pulls the pages up and frees dead levels.
    String t =
        """
        spawn 1
        mmap 1 0 2 rw private anon
        write 1 0x10000000 1
        fork 1 2
        write 2 0x10001000 2
        fork 2 3
        write 3 0x10000008 3
        exit 1
        exit 2
        collapse 3 0x10000000 -> ok
        read 3 0x10000000 -> 1
        read 3 0x10001000 -> 2
        read 3 0x10000008 -> 3
        """;
    ImplVm impl = run(Config.defaults().withFrames(512).withCollapseDepth(64), t);
    assertEquals(1, impl.counters().collapses.sum(), impl.counters().snapshot().toString());
    assertTrue(impl.counters().collapsedPages.sum() >= 1, impl.counters().snapshot().toString());
  }

  @Test
  void exit_pageShadowedInTheOnlyOtherGroup_isFreed() throws Exception {
    // After fork both sides store to the page: each gets its own copy, and the original stays in
    // the shared level. When the parent exits, the child's copy shadows it: it is dead and freed.
    String t =
        """
        spawn 1
        mmap 1 0 1 rw private anon
        write 1 0x10000000 1
        fork 1 2
        write 1 0x10000000 2
        write 2 0x10000000 3
        exit 1
        read 2 0x10000000 -> 3
        """;
    ImplVm impl = run(Config.defaults().withFrames(512), t);
    assertEquals(1, impl.counters().shadowedFreed.sum(), impl.counters().snapshot().toString());
  }
}
