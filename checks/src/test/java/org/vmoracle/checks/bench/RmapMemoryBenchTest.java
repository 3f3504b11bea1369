package org.vmoracle.checks.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.vmoracle.impl.core.Config;

/** Experiment E7's counts on small sizes. */
class RmapMemoryBenchTest {

  @Test
  void dense_everyPageMappedTwice_chainsCostAtLeastTwiceThePageTables() {
    RmapMemoryBench.Memory m = RmapMemoryBench.dense(Config.Rmap.PTECHAIN, 4096);
    assertEquals(64L * 4096, m.rmapBytes()); // one node a page
    assertTrue(m.rmapBytes() >= 2 * m.pageTableBytes(), m.toString());
  }

  @Test
  void dense_backingScan_costsLessThanThePageTables() {
    RmapMemoryBench.Memory m = RmapMemoryBench.dense(Config.Rmap.BACKING, 4096);
    assertTrue(m.rmapBytes() < m.pageTableBytes(), m.toString());
  }

  @Test
  void shell_collapseToDirectOn_convertsBackEveryLoop() {
    RmapMemoryBench.Churn on = RmapMemoryBench.shell(true, 3);
    assertTrue(on.toDirectPerLoop() > 0, on.toString());
    assertTrue(on.toChainPerLoop() > 0, on.toString());
    assertEquals(on.toChainPerLoop(), on.toDirectPerLoop()); // every chain made is undone
    assertEquals(0, on.bytesAfter());
  }

  @Test
  void shell_collapseToDirectOff_neverConvertsBackAndKeepsItsChains() {
    RmapMemoryBench.Churn off = RmapMemoryBench.shell(false, 3);
    assertEquals(0, off.toDirectFirst());
    assertEquals(0, off.toDirectPerLoop());
    assertTrue(off.toChainFirst() > 0, off.toString());
    assertEquals(0, off.toChainPerLoop()); // the chains of the first loop are reused
    assertEquals(64 * off.toChainFirst(), off.bytesAfter()); // one node each, one PTE in it
  }
}
