package org.vmoracle.checks.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Sharing;

/**
 * Experiment E7 (seed 004): the reverse maps' memory next to the page tables' own, and the
 * conversions of pte chains in a shell's fork+exec loop with collapse-to-direct on and off. Every
 * figure is a count, the same on every run.
 *
 * <p><b>Memory.</b> Each reverse map's bytes at the peak over {@code pageTablePages} x 4 KiB at the
 * same moment, on two cases: E1's sharing case ({@link RmapBench#share}: 64 processes, one shared
 * region of 256 pages), and the case seed 004 admits, "where pte chain overhead is twice that of
 * page tables themselves": every page of a large, densely mapped region mapped by exactly two PTEs.
 * A parent maps a private anonymous region of {@link #DENSE_PAGES} pages and writes every page; its
 * one child reads every page, mapping the parent's frames (copy-on-write, not yet copied). Each
 * page then holds a chain of one 64-byte node with two of its seven slots used, while the page
 * tables cost 8 bytes a PTE, 16 a page: four times less, less the upper levels and the shared
 * page's tables. A chain of two is the worst a node gets: with more PTEs a page, the node's other
 * slots fill; with one, the direct pointer costs nothing.
 *
 * <p><b>Churn.</b> The shell pattern of the seed: a shell (running {@code dynamic}, started up)
 * loops fork, the child's reads of every page the shell faulted, the child's exec of {@code
 * dynamic}, its start-up and its exit. Linux's fork copies the parent's PTEs (copy_page_range),
 * which turns every direct pointer of the shell's pages into a chain; this implementation's fork
 * copies none, so the child's reads stand in for it. With collapse-to-direct on, exec and exit turn
 * those chains back into direct pointers, and the next fork makes them again; off, a chain left
 * with one PTE stays a chain, and its node stays allocated. The figures are pte chains' conversions
 * in the first loop and a loop after it (the average over the others), and the chain bytes left
 * when the loop ends.
 */
public final class RmapMemoryBench {

  /** Pages of the constructed case's region: 32 MiB. */
  public static final int DENSE_PAGES = 8192;

  /** Loops of the shell pattern (50 with {@code --quick}). */
  public static final int SHELL_LOOPS = 200;

  /** Seed 004's claim: pte chains can cost twice the page tables. */
  public static final double TWICE = 2;

  /** One reverse map's memory on one case, at its peak. */
  public record Memory(Config.Rmap kind, long rmapBytes, long pageTableBytes) {
    /** Reverse-map bytes over page-table bytes. */
    public double ratio() {
      return (double) rmapBytes / pageTableBytes;
    }
  }

  /** The shell pattern's conversions, with collapse-to-direct on or off. */
  public record Churn(
      boolean collapseToDirect,
      int loops,
      long toChainFirst,
      long toDirectFirst,
      double toChainPerLoop,
      double toDirectPerLoop,
      double lockOpsPerLoop,
      long bytesAfter) {}

  /** The experiment's figures; the memory lists are in {@code Config.Rmap} order. */
  public record Figures(List<Memory> share, List<Memory> dense, Churn off, Churn on) {

    /** pte chains' bytes over the page tables' on the constructed case. */
    public double denseChainRatio() {
      return dense.get(Config.Rmap.PTECHAIN.ordinal()).ratio();
    }

    /** Adds every figure to {@code r}. */
    public void addTo(Results r) {
      for (List<Memory> ms : List.of(share, dense)) {
        String name = ms == share ? "share" + RmapBench.SHARERS : "dense2";
        for (Memory m : ms) {
          String c = name + "/" + m.kind().word();
          r.add("E7", c, "rmap_bytes", m.rmapBytes());
          r.add("E7", c, "page_table_bytes", m.pageTableBytes());
          r.add("E7", c, "rmap_over_page_tables", m.ratio());
        }
      }
      for (Churn c : List.of(off, on)) {
        String cfg = "shell/ptechain/collapse_" + (c.collapseToDirect() ? "on" : "off");
        r.add("E7", cfg, "loops", c.loops());
        r.add("E7", cfg, "to_chain_first_loop", c.toChainFirst());
        r.add("E7", cfg, "to_direct_first_loop", c.toDirectFirst());
        r.add("E7", cfg, "to_chain_per_loop", c.toChainPerLoop());
        r.add("E7", cfg, "to_direct_per_loop", c.toDirectPerLoop());
        r.add("E7", cfg, "rmap_lock_ops_per_loop", c.lockOpsPerLoop());
        r.add("E7", cfg, "rmap_bytes_after", c.bytesAfter());
      }
    }

    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder();
      for (List<Memory> ms : List.of(share, dense)) {
        sb.append(
            ms == share
                ? String.format("rmap memory (E7) share%d (E1's sharing case):", RmapBench.SHARERS)
                : String.format(
                    "rmap memory (E7) dense2 (%,d private pages, each mapped by two PTEs):",
                    DENSE_PAGES));
        for (Memory m : ms) {
          sb.append(
              String.format(
                  "%n  %-8s rmap %,10d bytes, page tables %,10d bytes: %.2f of the page tables",
                  m.kind().word(), m.rmapBytes(), m.pageTableBytes(), m.ratio()));
        }
        sb.append(String.format("%n"));
      }
      double d = denseChainRatio();
      sb.append(
          String.format(
              "rmap memory (E7): pte chains cost %.2f times the page tables on dense2: %s%n",
              d,
              d >= TWICE
                  ? "at least twice, as seed 004 says a case can"
                  : "less than twice (seed 004: a case can reach twice)"));
      for (Churn c : List.of(off, on)) {
        sb.append(
            String.format(
                "rmap churn (E7) shell, pte chains, collapse-to-direct %-3s: first loop %d to"
                    + " chain, %d to direct; then %.1f to chain and %.1f to direct a loop, %.1f"
                    + " lock ops a loop; %,d chain bytes left after %d loops%n",
                c.collapseToDirect() ? "on" : "off",
                c.toChainFirst(),
                c.toDirectFirst(),
                c.toChainPerLoop(),
                c.toDirectPerLoop(),
                c.lockOpsPerLoop(),
                c.bytesAfter(),
                c.loops()));
      }
      sb.append(
          "rmap churn (E7): this fork copies no PTEs; the child's reads of the shell's pages stand"
              + " in for Linux's copy_page_range");
      return sb.toString();
    }
  }

  private RmapMemoryBench() {}

  /** Runs the three cases; the shell pattern {@code loops} times (at least 2). */
  public static Figures measure(int densePages, int loops) {
    List<Memory> share = new ArrayList<>();
    List<Memory> dense = new ArrayList<>();
    for (Config.Rmap k : Config.Rmap.values()) {
      RmapBench.Cost c = RmapBench.share(k, RmapBench.SHARERS, RmapBench.SHARED_PAGES);
      share.add(new Memory(k, c.bytesPeak(), c.pageTableBytesPeak()));
      dense.add(dense(k, densePages));
    }
    return new Figures(share, dense, shell(false, loops), shell(true, loops));
  }

  /** The constructed case on reverse map {@code k}: {@code pages} pages, two PTEs each. */
  public static Memory dense(Config.Rmap k, int pages) {
    ImplVm vm = RmapBench.boot(k);
    Bench.ok(vm.apply(new Op.Spawn(1)));
    long base = Bench.mapAnon(vm, 1, pages, Sharing.PRIVATE);
    Bench.touch(vm, 1, base, pages, true);
    Bench.ok(vm.apply(new Op.Fork(1, 2)));
    Bench.touch(vm, 2, base, pages, false);
    Map<String, Long> s = vm.stats();
    return new Memory(k, s.get("rmapBytes"), s.get("pageTablePages") * Boot.PAGE_SIZE);
  }

  /** The shell pattern on pte chains, {@code loops} times (at least 2). */
  public static Churn shell(boolean collapseToDirect, int loops) {
    if (loops < 2) {
      throw new IllegalArgumentException("loops " + loops + ": at least 2");
    }
    ImplVm vm =
        new ImplVm(
            Config.defaults()
                .withRmap(Config.Rmap.PTECHAIN)
                .with(Config.Switch.CHAIN_COLLAPSE_TO_DIRECT, collapseToDirect));
    Bench.ok(vm.apply(new Op.Spawn(1)));
    Bench.ok(vm.apply(new Op.Exec(1, "dynamic")));
    Bench.startUp(vm, 1, "dynamic");
    Map<String, Long> s0 = vm.stats();
    shellLoop(vm);
    Map<String, Long> s1 = vm.stats();
    for (int i = 1; i < loops; i++) {
      shellLoop(vm);
    }
    Map<String, Long> s2 = vm.stats();
    double later = loops - 1;
    return new Churn(
        collapseToDirect,
        loops,
        delta(s0, s1, "rmapToChain"),
        delta(s0, s1, "rmapToDirect"),
        delta(s1, s2, "rmapToChain") / later,
        delta(s1, s2, "rmapToDirect") / later,
        delta(s1, s2, "rmapLockOps") / later,
        s2.get("rmapBytes"));
  }

  private static void shellLoop(ImplVm vm) {
    Bench.ok(vm.apply(new Op.Fork(1, 2)));
    Bench.readStartUpPages(vm, 2, "dynamic");
    Bench.ok(vm.apply(new Op.Exec(2, "dynamic")));
    Bench.startUp(vm, 2, "dynamic");
    Bench.ok(vm.apply(new Op.Exit(2)));
  }

  private static long delta(Map<String, Long> from, Map<String, Long> to, String key) {
    return to.get(key) - from.get(key);
  }

  public static void main(String[] args) {
    System.out.println(measure(DENSE_PAGES, SHELL_LOOPS));
  }
}
