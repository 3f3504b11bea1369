package org.vmoracle.checks.bench;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Sharing;

/**
 * Experiment E1 (seed 000): what each reverse map costs in lock operations and memory, the pv
 * entries of FreeBSD, DragonFly's backings and Linux 2.5's pte chains run on the same two workloads
 * in one run. Every figure is a count, the same on every run.
 *
 * <p><b>share</b>: 64 processes sharing one mapping, seed 000's postgres case ("heavy use of shared
 * mmap()s across processes"). A parent maps a shared anonymous region of {@link #SHARED_PAGES}
 * pages and touches every page; it forks 63 children, which inherit the region shared and each read
 * every page of it; then all exit, children first. The region is 1 MiB: a few hundred pages, small
 * beside postgres's shared buffers (which make pv entries only costlier), and not a 2 MiB multiple,
 * so that segment page-table sharing (seed 001), which would give all sharers one PTE a page and
 * hide the per-PTE cost, does not apply. The processes run no image, so that they hold the region
 * and the shared page only: an image adds about seven mappings a process, which costs the backing
 * scan seven links and unlinks, and pv entries one record for each of its pages the process
 * touches; the build workload below has them.
 *
 * <p><b>build</b>: a make-like parent, which runs {@code dynamic} and has started up ({@link
 * Bench#startUp}), runs {@link #BUILD_JOBS} jobs, {@link #BUILD_PARALLEL} live at once, as {@code
 * make -j8} keeps them (the seed's build ran 16 on 8 hardware threads): each job is a fork, an exec
 * of {@code dynamic} (the compiler), its start-up, a private anonymous heap of {@link #HEAP_PAGES}
 * pages written once each, and an exit when the eighth job after it starts.
 *
 * <p>Lock operations are counted over the whole workload, exits included; bytes, records and PTEs
 * are taken at the peak: in share once every sharer has read the region; in build after the job
 * whose start-up left the most pages resident (valid leaves and page-table pages, the same moment
 * whatever the reverse map, as the workload is). {@code page_table_bytes} is {@code pageTablePages}
 * x 4 KiB at that moment (E7 sets the two side by side).
 */
public final class RmapBench {

  /** Processes sharing the region, the parent included: the experiment's 64. */
  public static final int SHARERS = 64;

  /** Pages of the shared region: 1 MiB, not a segment multiple (see the class comment). */
  public static final int SHARED_PAGES = 256;

  /** Jobs of the build workload (64 with {@code --quick}). */
  public static final int BUILD_JOBS = 256;

  /** Jobs of the build workload live at once. */
  public static final int BUILD_PARALLEL = 8;

  /** Pages of each job's heap: 256 KiB written once. */
  public static final int HEAP_PAGES = 64;

  /**
   * One reverse map's cost on one workload.
   *
   * @param lockOps the reverse map's lock acquisitions over the whole workload
   * @param bytesPeak its records' bytes at the peak
   * @param recordsPeak its records at the peak
   * @param ptesPeak PTEs it recorded at the peak (0 for the backing scan, which records none)
   * @param pageTableBytesPeak page-table pages x 4 KiB at the peak
   * @param processes processes the workload ran
   */
  public record Cost(
      Config.Rmap kind,
      long lockOps,
      long bytesPeak,
      long recordsPeak,
      long ptesPeak,
      long pageTableBytesPeak,
      int processes) {

    /** Adds this cost's rows under {@code experiment} and config {@code workload/kind}. */
    void addTo(Results r, String experiment, String workload) {
      String c = workload + "/" + kind.word();
      r.add(experiment, c, "rmap_lock_ops", lockOps);
      r.add(experiment, c, "rmap_bytes_peak", bytesPeak);
      r.add(experiment, c, "rmap_records_peak", recordsPeak);
      r.add(experiment, c, "rmap_ptes_peak", ptesPeak);
      r.add(experiment, c, "page_table_bytes_peak", pageTableBytesPeak);
    }
  }

  /** One workload's costs, one per reverse map in {@code Config.Rmap} order. */
  public record Workload(String name, List<Cost> costs) {

    /** The cost of reverse map {@code k}. */
    public Cost of(Config.Rmap k) {
      return costs.get(k.ordinal());
    }

    /** {@code k}'s lock operations over the backing scan's. */
    public double lockRatio(Config.Rmap k) {
      return (double) of(k).lockOps() / of(Config.Rmap.BACKING).lockOps();
    }

    /** {@code k}'s peak bytes over the backing scan's. */
    public double bytesRatio(Config.Rmap k) {
      return (double) of(k).bytesPeak() / of(Config.Rmap.BACKING).bytesPeak();
    }
  }

  /** The experiment's figures. */
  public record Figures(Workload share, Workload build, int sharedPages, int jobs) {

    /** pv's lock operations over the backing scan's on the sharing case: the seed's "100x". */
    public double shareLockRatio() {
      return share.lockRatio(Config.Rmap.PV);
    }

    /** Adds every figure to {@code r}. */
    public void addTo(Results r) {
      for (Workload w : List.of(share, build)) {
        for (Cost c : w.costs()) {
          c.addTo(r, "E1", w.name());
        }
        for (Config.Rmap k : List.of(Config.Rmap.PV, Config.Rmap.PTECHAIN)) {
          r.add("E1", w.name() + "/" + k.word(), "rmap_lock_ratio", w.lockRatio(k));
          r.add("E1", w.name() + "/" + k.word(), "rmap_bytes_ratio", w.bytesRatio(k));
        }
      }
    }

    /**
     * The lines {@code bench} prints: each workload's costs and ratios, then the verdict on the
     * target, with what bounds the ratio when it is missed.
     */
    @Override
    public String toString() {
      StringBuilder sb = new StringBuilder();
      for (Workload w : List.of(share, build)) {
        String what =
            w == share
                ? String.format(
                    "%d processes sharing %d pages",
                    w.of(Config.Rmap.BACKING).processes(), sharedPages)
                : String.format("%d fork+exec jobs, %d at once", jobs, BUILD_PARALLEL);
        sb.append(String.format("rmap (E1) %s (%s):%n", w.name(), what));
        for (Cost c : w.costs()) {
          sb.append(
              String.format(
                  "  %-8s %,11d lock ops  %,11d bytes at the peak (%,d records, %,d PTEs)%n",
                  c.kind().word(), c.lockOps(), c.bytesPeak(), c.recordsPeak(), c.ptesPeak()));
        }
        sb.append(
            String.format(
                "  lock ops pv/backing %.1fx, ptechain/backing %.1fx; bytes pv/backing %.1fx,"
                    + " ptechain/backing %.1fx%n",
                w.lockRatio(Config.Rmap.PV),
                w.lockRatio(Config.Rmap.PTECHAIN),
                w.bytesRatio(Config.Rmap.PV),
                w.bytesRatio(Config.Rmap.PTECHAIN)));
      }
      for (Workload w : List.of(share, build)) {
        Cost pv = w.of(Config.Rmap.PV);
        Cost b = w.of(Config.Rmap.BACKING);
        sb.append(
            String.format(
                "rmap (E1) %s: a process costs pv %.1f lock ops (one to add and one to remove"
                    + " the entry of each PTE it made) and the backing scan %.1f (one to link and"
                    + " one to unlink each mapping or copy-on-write group it held to each object"
                    + " under it)%n",
                w.name(),
                (double) pv.lockOps() / pv.processes(),
                (double) b.lockOps() / b.processes()));
      }
      double ratio = shareLockRatio();
      sb.append(
          String.format(
              "rmap (E1): target %s: pv/backing lock ops %.1fx %s %.0fx on the sharing case, which"
                  + " is pages touched over mappings held, %d pages over 2 (the region and the"
                  + " shared page)",
              ratio >= TARGET ? "met" : "missed",
              ratio,
              ratio >= TARGET ? ">=" : "<",
              TARGET,
              sharedPages));
      return sb.toString();
    }
  }

  /** Seed 000: "the number of lock operations is reduced by a factor of 100 (at least)". */
  public static final double TARGET = 100;

  private RmapBench() {}

  /** Runs both workloads, {@code jobs} build jobs, on every reverse map. */
  public static Figures measure(int sharers, int sharedPages, int jobs) {
    List<Cost> share = new ArrayList<>();
    List<Cost> build = new ArrayList<>();
    for (Config.Rmap k : Config.Rmap.values()) {
      share.add(share(k, sharers, sharedPages));
      build.add(build(k, jobs, BUILD_PARALLEL, HEAP_PAGES));
    }
    return new Figures(
        new Workload("share" + sharers, share), new Workload("build", build), sharedPages, jobs);
  }

  /** A system with reverse map {@code k} and defaults otherwise. */
  static ImplVm boot(Config.Rmap k) {
    return new ImplVm(Config.defaults().withRmap(k));
  }

  /**
   * The sharing workload on reverse map {@code k}: {@code sharers} processes (pids 1 to {@code
   * sharers}) reading every page of one shared region of {@code pages} pages, then exiting.
   */
  public static Cost share(Config.Rmap k, int sharers, int pages) {
    ImplVm vm = boot(k);
    Bench.ok(vm.apply(new Op.Spawn(1)));
    long base = Bench.mapAnon(vm, 1, pages, Sharing.SHARED);
    Bench.touch(vm, 1, base, pages, true);
    for (int c = 2; c <= sharers; c++) {
      Bench.ok(vm.apply(new Op.Fork(1, c)));
      Bench.touch(vm, c, base, pages, false);
    }
    Map<String, Long> peak = vm.stats();
    for (int c = sharers; c >= 1; c--) {
      Bench.ok(vm.apply(new Op.Exit(c)));
    }
    return cost(k, vm, peak, sharers);
  }

  /**
   * The build workload on reverse map {@code k}: a make (pid 1, running {@code dynamic}) forking
   * {@code jobs} jobs, {@code parallel} live at once, each exec'ing {@code dynamic}, starting up,
   * writing a heap of {@code heapPages} and exiting; then make exits.
   */
  public static Cost build(Config.Rmap k, int jobs, int parallel, int heapPages) {
    ImplVm vm = boot(k);
    Bench.ok(vm.apply(new Op.Spawn(1)));
    Bench.ok(vm.apply(new Op.Exec(1, "dynamic")));
    Bench.startUp(vm, 1, "dynamic");
    Deque<Integer> live = new ArrayDeque<>();
    Map<String, Long> peak = null;
    for (int j = 0; j < jobs; j++) {
      if (live.size() == parallel) {
        Bench.ok(vm.apply(new Op.Exit(live.removeFirst())));
      }
      int pid = j + 2;
      Bench.ok(vm.apply(new Op.Fork(1, pid)));
      Bench.ok(vm.apply(new Op.Exec(pid, "dynamic")));
      Bench.startUp(vm, pid, "dynamic");
      long heap = Bench.mapAnon(vm, pid, heapPages, Sharing.PRIVATE);
      Bench.touch(vm, pid, heap, heapPages, true);
      live.addLast(pid);
      Map<String, Long> s = vm.stats();
      if (peak == null || s.get("residentPages") > peak.get("residentPages")) {
        peak = s;
      }
    }
    while (!live.isEmpty()) {
      Bench.ok(vm.apply(new Op.Exit(live.removeFirst())));
    }
    Bench.ok(vm.apply(new Op.Exit(1)));
    return cost(k, vm, peak, jobs + 1);
  }

  private static Cost cost(Config.Rmap k, ImplVm vm, Map<String, Long> peak, int processes) {
    return new Cost(
        k,
        vm.stats().get("rmapLockOps"),
        peak.get("rmapBytes"),
        peak.get("rmapRecords"),
        peak.get("rmapPtes"),
        peak.get("pageTablePages") * Boot.PAGE_SIZE,
        processes);
  }

  public static void main(String[] args) {
    System.out.println(measure(SHARERS, SHARED_PAGES, BUILD_JOBS));
  }
}
