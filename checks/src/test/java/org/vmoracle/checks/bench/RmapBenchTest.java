package org.vmoracle.checks.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.vmoracle.impl.core.Config;

/**
 * Experiment E1's counts on small sizes: they are exact, so they can be stated, unlike its rates
 * (there are none) or E3's.
 */
class RmapBenchTest {

  private static final int SHARERS = 4;
  private static final int PAGES = 16;

  @Test
  void share_pvEntries_twoLockOpsAPteAndOneRecordEach() {
    RmapBench.Cost pv = RmapBench.share(Config.Rmap.PV, SHARERS, PAGES);
    assertEquals(SHARERS * PAGES, pv.ptesPeak());
    assertEquals(SHARERS * PAGES, pv.recordsPeak());
    assertEquals(2L * SHARERS * PAGES, pv.lockOps()); // one to add, one to remove an entry
    assertEquals(24L * SHARERS * PAGES, pv.bytesPeak());
  }

  @Test
  void share_backingScan_fewerLockOpsThanPvAndChains() {
    RmapBench.Cost b = RmapBench.share(Config.Rmap.BACKING, SHARERS, PAGES);
    RmapBench.Cost pv = RmapBench.share(Config.Rmap.PV, SHARERS, PAGES);
    RmapBench.Cost chains = RmapBench.share(Config.Rmap.PTECHAIN, SHARERS, PAGES);
    // Each process links and unlinks its two mappings (the region, the shared page) once.
    assertEquals(4L * SHARERS, b.lockOps());
    assertEquals(0, b.ptesPeak());
    assertTrue(pv.lockOps() > b.lockOps(), pv + " against " + b);
    assertEquals(pv.lockOps(), chains.lockOps());
    // Four PTEs a page fit one chain node: chains cost less than pv entries.
    assertEquals(64L * PAGES, chains.bytesPeak());
    assertTrue(chains.bytesPeak() < pv.bytesPeak());
  }

  @Test
  void build_fewJobs_pvTakesMoreLockOpsThanTheBackingScan() {
    RmapBench.Cost b = RmapBench.build(Config.Rmap.BACKING, 6, 3, 4);
    RmapBench.Cost pv = RmapBench.build(Config.Rmap.PV, 6, 3, 4);
    RmapBench.Cost chains = RmapBench.build(Config.Rmap.PTECHAIN, 6, 3, 4);
    assertTrue(pv.lockOps() > b.lockOps(), pv + " against " + b);
    assertEquals(pv.ptesPeak(), chains.ptesPeak()); // the peak is one moment for every design
    assertEquals(b.pageTableBytesPeak(), pv.pageTableBytesPeak());
  }

  @Test
  void figures_shareWorkload_ratiosAreOverTheBackingScan() {
    RmapBench.Figures f = RmapBench.measure(SHARERS, PAGES, 4);
    RmapBench.Workload s = f.share();
    assertEquals(
        (double) s.of(Config.Rmap.PV).lockOps() / s.of(Config.Rmap.BACKING).lockOps(),
        f.shareLockRatio());
    Results r = new Results();
    f.addTo(r);
    assertTrue(
        r.rows().stream()
            .anyMatch(
                x ->
                    x.config().equals("share" + SHARERS + "/pv")
                        && x.metric().equals("rmap_lock_ratio")));
  }
}
