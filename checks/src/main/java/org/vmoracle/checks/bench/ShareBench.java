package org.vmoracle.checks.bench;

import java.util.Map;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * Experiment E4 (seed 001): one client touches every page of a shared memory segment of 128 MiB,
 * then 64 late clients attach it and read every page, with segment page-table sharing on and off
 * (switch SHARE_PAGE_TABLES). Reported: the faults per late client per 2 MiB segment (seed 001's
 * "each fault will bring in an ENTIRE page table"; target at most 1), and the PT pages, the leaf
 * tables that sharing shares, with sharing off over on (target at least 30), counted while every
 * client is still attached. Counts, not times: the same on every run.
 */
public final class ShareBench {
  private ShareBench() {}

  /** Pages of the segment: 128 MiB. */
  public static final int DEFAULT_PAGES = 32_768;

  /** Late clients. */
  public static final int DEFAULT_CLIENTS = 64;

  /** The key of the segment. */
  private static final long KEY = 42;

  /**
   * One measurement.
   *
   * @param pages pages of the segment
   * @param clients late clients
   * @param lateFaultsOn the faults the late clients took, sharing on
   * @param lateFaultsOff the same, sharing off
   * @param faultsPerClientSegmentOn late faults per client per 2 MiB segment, sharing on
   * @param faultsPerClientSegmentOff the same, sharing off
   * @param ptPagesOn leaf page-table pages with every client attached, sharing on (the object's
   *     shared tables and each client's own)
   * @param ptPagesOff the same, sharing off
   * @param ptPagesRatio {@code ptPagesOff / ptPagesOn}
   * @param tablePagesOn every page-table page, PML4, PDP and PD included, sharing on
   * @param tablePagesOff the same, sharing off
   */
  public record Figures(
      long pages,
      int clients,
      long lateFaultsOn,
      long lateFaultsOff,
      double faultsPerClientSegmentOn,
      double faultsPerClientSegmentOff,
      long ptPagesOn,
      long ptPagesOff,
      double ptPagesRatio,
      long tablePagesOn,
      long tablePagesOff) {

    /** The rows of results.csv. */
    public void addTo(Results r) {
      r.add("E4", "on", "late_client_faults_per_segment", faultsPerClientSegmentOn);
      r.add("E4", "off", "late_client_faults_per_segment", faultsPerClientSegmentOff);
      r.add("E4", "on", "pt_pages", ptPagesOn);
      r.add("E4", "off", "pt_pages", ptPagesOff);
      r.add("E4", "on", "pt_pages_ratio", ptPagesRatio);
      r.add("E4", "on", "table_pages", tablePagesOn);
      r.add("E4", "off", "table_pages", tablePagesOff);
    }

    @Override
    public String toString() {
      return String.format(
          "share (E4): a %,d MiB shm segment, 1 client touching it, then %d late clients reading"
              + " it: late faults per client per 2 MiB segment %.2f with page-table sharing, %.1f"
              + " without (target <= 1); PT pages %,d with, %,d without: %.1fx (target >= 30);"
              + " every page-table page %,d with, %,d without",
          pages / 256,
          clients,
          faultsPerClientSegmentOn,
          faultsPerClientSegmentOff,
          ptPagesOn,
          ptPagesOff,
          ptPagesRatio,
          tablePagesOn,
          tablePagesOff);
    }
  }

  /** Runs E4 with {@code pages} pages (a multiple of 512) and {@code clients} late clients. */
  public static Figures measure(int pages, int clients) {
    if (pages < 512 || pages % 512 != 0 || clients < 1) {
      throw new IllegalArgumentException("pages a multiple of 512, at least one client");
    }
    long[] on = run(pages, clients, true);
    long[] off = run(pages, clients, false);
    double segments = pages / 512.0;
    return new Figures(
        pages,
        clients,
        on[0],
        off[0],
        on[0] / (clients * segments),
        off[0] / (clients * segments),
        on[1],
        off[1],
        (double) off[1] / on[1],
        on[2],
        off[2]);
  }

  /** Late faults, PT pages and table pages of one run. */
  private static long[] run(int pages, int clients, boolean sharing) {
    int frames = pages + (clients + 2) * (pages / 512 + 16) + 4096;
    ImplVm vm =
        new ImplVm(
            Config.defaults()
                .withFrames(frames)
                .with(Config.Switch.SHARE_PAGE_TABLES, sharing)
                .with(Config.Switch.WIRE_SUPERPAGES, false));
    Bench.ok(vm.apply(new Op.Shmget(KEY, pages)));
    long base = attach(vm, 1, pages);
    for (int p = 0; p < pages; p++) {
      Bench.ok(vm.apply(new Op.Write(1, base + p * 4096L, p)));
    }
    long before = faults(vm.stats());
    for (int c = 0; c < clients; c++) {
      int pid = 2 + c;
      long at = attach(vm, pid, pages);
      for (int p = 0; p < pages; p++) {
        Result r = vm.apply(new Op.Read(pid, at + p * 4096L));
        if (!r.equals(Result.value(p))) {
          throw new IllegalStateException("client " + pid + " page " + p + ": " + r);
        }
      }
    }
    Map<String, Long> s = vm.stats();
    long late = faults(s) - before;
    // PT pages: every table page of the spaces and of the object's pmaps but the PML4s, PDPs
    // and PDs (Stats' upperTablePages).
    long tables = s.get("pageTablePages") + s.get("sharedTablePages");
    long upper = s.get("upperTablePages");
    return new long[] {late, tables - upper, tables};
  }

  private static long attach(ImplVm vm, int pid, int pages) {
    Bench.ok(vm.apply(new Op.Spawn(pid)));
    Result r =
        vm.apply(new Op.Mmap(pid, 0, pages, Prot.RW, Sharing.SHARED, new Source.Shm(KEY), false));
    if (!(r instanceof Result.Value)) {
      throw new IllegalStateException("attach of client " + pid + ": " + r);
    }
    return ((Result.Value) r).value();
  }

  private static long faults(Map<String, Long> s) {
    return s.get("zeroFillFaults")
        + s.get("mappedFaults")
        + s.get("fileFaults")
        + s.get("cowFaults");
  }

  public static void main(String[] args) {
    System.out.println(measure(DEFAULT_PAGES, DEFAULT_CLIENTS));
  }
}
