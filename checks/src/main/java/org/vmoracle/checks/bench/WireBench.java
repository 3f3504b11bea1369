package org.vmoracle.checks.bench;

import java.util.Arrays;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Sharing;

/**
 * Experiment E6's baseline (seed 003): mlock of a large private anonymous range by the per-page
 * path, the only one built so far (each page faulted in, zeroed and mapped 4 KiB at a time, under
 * the exclusive map lock), next to {@code Arrays.fill} zeroing the same number of bytes in the same
 * run, the physical limit of wiring fresh memory. The 2 MiB fast path that E6 compares it with is
 * not built yet; this measures what it could win: the share of the per-page path's time that is the
 * zeroing itself, and the rest (fault, page-table walk, PTE, wire count, page map).
 *
 * <p>Each round boots a fresh implementation with frames for the range and its page tables, maps
 * the range, and times the one mlock; then times the fill of as many 4 KiB pages, cycling through a
 * pool of {@link #FILL_POOL_PAGES} page arrays (128 MiB, beyond the cache, as E2's fill). Figures
 * are medians over the rounds, the ratio taken within each.
 */
public final class WireBench {
  private WireBench() {}

  /** Pages in E6's range: 1 GiB. */
  public static final int DEFAULT_PAGES = 262_144;

  /** Page arrays the fill cycles through: 128 MiB. */
  static final int FILL_POOL_PAGES = 32_768;

  /**
   * One measurement.
   *
   * @param pages pages wired each round
   * @param perPageBytesPerSecond the per-page path's rate: bytes wired a second
   * @param fillBytesPerSecond {@code Arrays.fill}'s rate over as many bytes
   * @param ofFill the per-page path's rate over the fill's, within each round (median)
   * @param wiredPages the wired leaves the implementation counted after the mlock
   */
  public record Figures(
      long pages,
      double perPageBytesPerSecond,
      double fillBytesPerSecond,
      double ofFill,
      long wiredPages) {

    /** The rows of results.csv. */
    public void addTo(Results r) {
      r.add("E6", "perpage", "pages", pages);
      r.add("E6", "perpage", "bytes_per_s", perPageBytesPerSecond);
      r.add("E6", "fill", "bytes_per_s", fillBytesPerSecond);
      r.add("E6", "perpage", "of_fill", ofFill);
      r.add("E6", "perpage", "wired_pages", wiredPages);
    }

    @Override
    public String toString() {
      return String.format(
          "wire (E6): mlock of %,d pages (%,d MiB) by the per-page path %.2f GB/s; Arrays.fill of"
              + " the same bytes %.2f GB/s; per-page path %.2f of the fill: zeroing at the fill's"
              + " rate is %.0f%% of its time, the fault path (fault, table walk, PTE, wire, page"
              + " map) the other %.0f%%, what a fast path can win (not built yet: seed 003)",
          pages,
          pages / 256,
          perPageBytesPerSecond / 1e9,
          fillBytesPerSecond / 1e9,
          ofFill,
          100 * ofFill,
          100 * (1 - ofFill));
    }
  }

  /** Runs {@code rounds} rounds of {@code pages} pages, after one warm-up round. */
  public static Figures measure(int pages, int rounds) {
    if (pages < 1 || rounds < 1) {
      throw new IllegalArgumentException("pages and rounds must be at least 1");
    }
    double[] wire = new double[rounds];
    double[] fill = new double[rounds];
    double[] ratio = new double[rounds];
    long wired = 0;
    long[][] pool = new long[Math.min(pages, FILL_POOL_PAGES)][512];
    for (int r = -1; r < rounds; r++) {
      ImplVm vm = new ImplVm(Config.defaults().withFrames(pages + pages / 256 + 1024));
      Bench.ok(vm.apply(new Op.Spawn(1)));
      long va = Bench.mapAnon(vm, 1, pages, Sharing.PRIVATE);
      long t0 = System.nanoTime();
      Bench.ok(vm.apply(new Op.Mlock(1, va, pages)));
      double w = pages * 4096.0 / ((System.nanoTime() - t0) / 1e9);
      long t1 = System.nanoTime();
      for (int p = 0; p < pages; p++) {
        Arrays.fill(pool[p % pool.length], p);
      }
      double f = pages * 4096.0 / ((System.nanoTime() - t1) / 1e9);
      if (r >= 0) {
        wire[r] = w;
        fill[r] = f;
        ratio[r] = w / f;
        wired = vm.stats().get("wiredPages");
      }
    }
    return new Figures(pages, Bench.median(wire), Bench.median(fill), Bench.median(ratio), wired);
  }

  public static void main(String[] args) {
    System.out.println(measure(DEFAULT_PAGES, 3));
  }
}
