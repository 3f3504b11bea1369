package org.vmoracle.checks.bench;

import java.util.Arrays;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Sharing;

/**
 * Experiment E6 (seed 003): mlock of a large private anonymous range by the 2 MiB fast path (the
 * free pool's contiguous runs, zeroed in one pass, one PS leaf a segment; switch WIRE_SUPERPAGES)
 * and by the per-page path (each page faulted in, zeroed and mapped 4 KiB at a time; the switch
 * off), next to {@code Arrays.fill} zeroing the same number of bytes in the same run, the physical
 * limit of wiring fresh memory.
 *
 * <p>Each round times, in an order that alternates between rounds, one mlock by each path (each on
 * a freshly booted implementation with frames for the range and its page tables, the range mapped
 * first) and the fill of as many 4 KiB pages, cycling through a pool of {@link #FILL_POOL_PAGES}
 * page arrays (128 MiB, beyond the cache, as E2's fill), the baseline E2 and E6 have used. A second
 * baseline zeroes one contiguous array of the same bytes 2 MiB at a time, which is exactly the fast
 * path's own zeroing (PhysMem.zeroRun) with nothing else around it: the fast path's rate over that
 * one is the share of its time spent zeroing. Figures are medians over the rounds, each ratio taken
 * within its round. The per-page path's rate over the fill's says how much of its time is the
 * zeroing itself: the rest is the fault path (fault, table walk, PTE, wire count, page map), which
 * is what a fast path can win here.
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
   * @param fastBytesPerSecond the fast path's rate: bytes wired a second
   * @param perPageBytesPerSecond the per-page path's rate
   * @param fillBytesPerSecond {@code Arrays.fill}'s rate over as many bytes, 4 KiB pages cycling
   *     through 128 MiB
   * @param zeroBytesPerSecond {@code Arrays.fill} of 0 over one contiguous array of as many bytes,
   *     2 MiB at a time: the fast path's zeroing alone
   * @param fastOfFill the fast path's rate over the fill's, within each round (median; E6's target
   *     is at least 0.8)
   * @param fastOfZero the fast path's rate over the contiguous zeroing's (median): the share of its
   *     time that is zeroing
   * @param perPageOfFill the per-page path's rate over the fill's (median)
   * @param speedup the fast path's rate over the per-page path's (median)
   * @param fastWiredPages the wired pages the fast path's implementation counted after its mlock
   * @param perPageWiredPages the same for the per-page path
   * @param superpages the 2 MiB leaves the fast path mapped (pages / 512 when every segment took
   *     it)
   */
  public record Figures(
      long pages,
      double fastBytesPerSecond,
      double perPageBytesPerSecond,
      double fillBytesPerSecond,
      double zeroBytesPerSecond,
      double fastOfFill,
      double fastOfZero,
      double perPageOfFill,
      double speedup,
      long fastWiredPages,
      long perPageWiredPages,
      long superpages) {

    /** The rows of results.csv. */
    public void addTo(Results r) {
      r.add("E6", "fast", "pages", pages);
      r.add("E6", "fast", "bytes_per_s", fastBytesPerSecond);
      r.add("E6", "perpage", "bytes_per_s", perPageBytesPerSecond);
      r.add("E6", "fill", "bytes_per_s", fillBytesPerSecond);
      r.add("E6", "zero", "bytes_per_s", zeroBytesPerSecond);
      r.add("E6", "fast", "of_fill", fastOfFill);
      r.add("E6", "fast", "of_zero", fastOfZero);
      r.add("E6", "perpage", "of_fill", perPageOfFill);
      r.add("E6", "fast", "speedup", speedup);
      r.add("E6", "fast", "wired_pages", fastWiredPages);
      r.add("E6", "perpage", "wired_pages", perPageWiredPages);
      r.add("E6", "fast", "superpages", superpages);
    }

    @Override
    public String toString() {
      return String.format(
          "wire (E6): mlock of %,d pages (%,d MiB): 2 MiB fast path %.2f GB/s (%,d PS leaves),"
              + " per-page path %.2f GB/s, Arrays.fill of the same bytes %.2f GB/s (4 KiB pages)"
              + " and %.2f GB/s (zeroing 2 MiB at a time, as the fast path does); fast path %.2f"
              + " of the fill (target 0.8) and %.2f of its own zeroing, %.2fx the per-page path;"
              + " the per-page path is %.2f of the fill: zeroing at the fill's rate is %.0f%% of"
              + " its time, the fault path (fault, table walk, PTE, wire, page map) the other"
              + " %.0f%%",
          pages,
          pages / 256,
          fastBytesPerSecond / 1e9,
          superpages,
          perPageBytesPerSecond / 1e9,
          fillBytesPerSecond / 1e9,
          zeroBytesPerSecond / 1e9,
          fastOfFill,
          fastOfZero,
          speedup,
          perPageOfFill,
          100 * perPageOfFill,
          100 * (1 - perPageOfFill));
    }
  }

  /** The rate of one mlock of {@code pages} pages, and the system's stats after it. */
  private record Wired(double bytesPerSecond, long wiredPages, long superpages) {}

  /** Runs {@code rounds} rounds of {@code pages} pages, after one warm-up round. */
  public static Figures measure(int pages, int rounds) {
    if (pages < 1 || rounds < 1) {
      throw new IllegalArgumentException("pages and rounds must be at least 1");
    }
    double[] fast = new double[rounds];
    double[] perPage = new double[rounds];
    double[] fill = new double[rounds];
    double[] zero = new double[rounds];
    double[] fastOfFill = new double[rounds];
    double[] fastOfZero = new double[rounds];
    double[] perPageOfFill = new double[rounds];
    double[] speedup = new double[rounds];
    Wired lastFast = null;
    Wired lastPerPage = null;
    long[][] pool = new long[Math.min(pages, FILL_POOL_PAGES)][512];
    for (int r = -1; r < rounds; r++) {
      Wired f;
      Wired p;
      double fl;
      double z;
      if ((r & 1) == 0) {
        f = wire(pages, true);
        z = zero(pages);
        p = wire(pages, false);
        fl = fill(pool, pages);
      } else {
        fl = fill(pool, pages);
        p = wire(pages, false);
        z = zero(pages);
        f = wire(pages, true);
      }
      if (r >= 0) {
        fast[r] = f.bytesPerSecond();
        perPage[r] = p.bytesPerSecond();
        fill[r] = fl;
        zero[r] = z;
        fastOfFill[r] = f.bytesPerSecond() / fl;
        fastOfZero[r] = f.bytesPerSecond() / z;
        perPageOfFill[r] = p.bytesPerSecond() / fl;
        speedup[r] = f.bytesPerSecond() / p.bytesPerSecond();
        lastFast = f;
        lastPerPage = p;
      }
    }
    return new Figures(
        pages,
        Bench.median(fast),
        Bench.median(perPage),
        Bench.median(fill),
        Bench.median(zero),
        Bench.median(fastOfFill),
        Bench.median(fastOfZero),
        Bench.median(perPageOfFill),
        Bench.median(speedup),
        lastFast.wiredPages(),
        lastPerPage.wiredPages(),
        lastFast.superpages());
  }

  /**
   * Boots an implementation with room for {@code pages} pages and their tables, maps them private
   * anonymous (2 MiB aligned when a multiple of 512, as placement puts them), and times their mlock
   * with the fast path on or off.
   */
  private static Wired wire(int pages, boolean fastPath) {
    Config c =
        Config.defaults()
            .withFrames(pages + pages / 256 + 2048)
            .with(Config.Switch.WIRE_SUPERPAGES, fastPath);
    ImplVm vm = new ImplVm(c);
    Bench.ok(vm.apply(new Op.Spawn(1)));
    long va = Bench.mapAnon(vm, 1, pages, Sharing.PRIVATE);
    long t0 = System.nanoTime();
    Bench.ok(vm.apply(new Op.Mlock(1, va, pages)));
    double rate = pages * 4096.0 / ((System.nanoTime() - t0) / 1e9);
    var stats = vm.stats();
    return new Wired(rate, stats.get("wiredPages"), stats.get("superpagesLive"));
  }

  /** The rate of {@code Arrays.fill} over {@code pages} 4 KiB pages of {@code pool}, cycled. */
  private static double fill(long[][] pool, int pages) {
    long t1 = System.nanoTime();
    for (int p = 0; p < pages; p++) {
      Arrays.fill(pool[p % pool.length], p);
    }
    return pages * 4096.0 / ((System.nanoTime() - t1) / 1e9);
  }

  /**
   * The rate of zeroing {@code pages} pages of one fresh contiguous array 2 MiB at a time, as
   * PhysMem.zeroRun zeroes a run; the array is touched once first, as the implementation's frames
   * are by their allocation, so that neither measures the first touch of the memory.
   */
  private static double zero(int pages) {
    long[] big = new long[pages * 512];
    Arrays.fill(big, 1L);
    int run = 512 * 512;
    long t0 = System.nanoTime();
    for (int from = 0; from < big.length; from += run) {
      Arrays.fill(big, from, Math.min(big.length, from + run), 0L);
    }
    return pages * 4096.0 / ((System.nanoTime() - t0) / 1e9);
  }

  public static void main(String[] args) {
    System.out.println(measure(DEFAULT_PAGES, 3));
  }
}
