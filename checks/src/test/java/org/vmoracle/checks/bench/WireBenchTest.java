package org.vmoracle.checks.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** E6's baseline wires every page of its range (WIRE-1) and reports every figure; no timing. */
class WireBenchTest {

  @Test
  void measure_smallRange_wiresEveryPage_WIRE1() {
    WireBench.Figures f = WireBench.measure(1024, 1);
    assertEquals(1024, f.pages());
    assertEquals(1024, f.wiredPages(), f.toString());
    assertTrue(f.perPageBytesPerSecond() > 0 && f.fillBytesPerSecond() > 0, f.toString());
    assertEquals(f.ofFill(), f.perPageBytesPerSecond() / f.fillBytesPerSecond(), 1e-9);
    Results r = new Results();
    f.addTo(r);
    assertEquals(5, r.rows().size());
    assertTrue(r.csv().contains("E6,perpage,wired_pages,1024"), r.csv());
  }
}
