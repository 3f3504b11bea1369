package org.vmoracle.checks.bench;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/**
 * E6 wires every page of its range by both paths (WIRE-1), the fast one with one 2 MiB leaf per
 * segment, and reports every figure; no timing.
 */
class WireBenchTest {

  @Test
  void measure_twoSegments_bothPathsWireEveryPage_WIRE1() {
    WireBench.Figures f = WireBench.measure(1024, 1);
    assertEquals(1024, f.pages());
    assertEquals(1024, f.fastWiredPages(), f.toString());
    assertEquals(1024, f.perPageWiredPages(), f.toString());
    assertEquals(2, f.superpages(), "each whole segment by one PS leaf: " + f);
    assertTrue(f.fastBytesPerSecond() > 0 && f.fillBytesPerSecond() > 0, f.toString());
    assertEquals(f.fastOfFill(), f.fastBytesPerSecond() / f.fillBytesPerSecond(), 1e-9);
    assertEquals(f.speedup(), f.fastBytesPerSecond() / f.perPageBytesPerSecond(), 1e-9);
    Results r = new Results();
    f.addTo(r);
    assertEquals(12, r.rows().size());
    assertEquals(f.fastOfZero(), f.fastBytesPerSecond() / f.zeroBytesPerSecond(), 1e-9);
    assertTrue(r.csv().contains("E6,fast,superpages,2"), r.csv());
    assertTrue(r.csv().contains("E6,perpage,wired_pages,1024"), r.csv());
  }
}
