package org.vmoracle.checks.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * E4 (seed 001) on a small segment: with page-table sharing every late client takes one fault per 2
 * MiB segment and links the object's table; without, one per page; PT pages fall by the number of
 * clients. Counts, exact on every run.
 */
class ShareBenchTest {

  @Test
  void measure_fourSegmentsEightClients_oneFaultPerSegmentAndTablesShared() {
    ShareBench.Figures f = ShareBench.measure(2048, 8);
    assertEquals(1.0, f.faultsPerClientSegmentOn(), 1e-9, f.toString());
    assertEquals(512.0, f.faultsPerClientSegmentOff(), 1e-9, f.toString());
    assertEquals(4, f.ptPagesOn(), "the object's four shared PTs: " + f);
    assertEquals(9 * 4, f.ptPagesOff(), "four PTs in each of the nine clients: " + f);
    assertEquals(9.0, f.ptPagesRatio(), 1e-9);
    assertTrue(f.tablePagesOn() < f.tablePagesOff(), f.toString());
    Results r = new Results();
    f.addTo(r);
    assertEquals(7, r.rows().size());
    assertTrue(r.csv().contains("E4,on,pt_pages_ratio,9"), r.csv());
  }
}
