package org.vmoracle.checks.bench;

import java.util.List;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;

/**
 * Experiment E3 (seed 000): the exec rate of the shared dynamic image against the static one, with
 * one thread and two, on each reverse map, in one run.
 *
 * <p>Each thread is a shell of its own: a process running {@code dynamic} that loops fork, exec of
 * the image in the child, the child's start-up ({@link Bench#startUp}: every page of the image
 * touched once, libc's included for {@code dynamic}) and its exit. Thread {@code t} drives pids
 * {@code 2t + 1} (the shell) and {@code 2t + 2} (the child) of one system, so two threads share the
 * system as two shells on one machine do, but no process. The rate counts whole loops.
 *
 * <p>Seed 000 measured 6,000 execs/s of the dynamic binary growing to 45,000 with the backing scan
 * on 64 threads; this machine has 2 cores, so the experiment reports ratios taken in the same run:
 * dynamic over static for each reverse map and thread count, each reverse map over the backing
 * scan, and two threads over one. fork, exec and exit take the implementation's map lock exclusive,
 * and it is one lock for the whole system where a kernel has one an address space, so only the
 * start-ups' faults can overlap between two threads: two threads are not expected to double the
 * rate.
 *
 * <p>A round times every setting back to back for {@code millis} milliseconds each; each ratio is
 * taken within a round, and every figure is the median over the rounds, after one warm-up round.
 */
public final class ExecBench {

  /** The two images, in the order of the figures' arrays. */
  public static final List<String> IMAGES = List.of("static", "dynamic");

  /** Thread counts, in the order of the figures' arrays. */
  public static final int[] THREADS = {1, 2};

  /**
   * The medians, indexed {@code [kind][image][threads]} in the orders of {@code Config.Rmap},
   * {@link #IMAGES} and {@link #THREADS}.
   *
   * @param rate execs per second
   * @param overStatic dynamic over static, indexed {@code [kind][threads]}
   * @param overBacking this kind over the backing scan
   * @param scaling two threads over one, indexed {@code [kind][image]}
   */
  public record Figures(
      double[][][] rate, double[][] overStatic, double[][][] overBacking, double[][] scaling) {

    /** Adds every figure to {@code r}. */
    public void addTo(Results r) {
      for (Config.Rmap k : Config.Rmap.values()) {
        int ki = k.ordinal();
        for (int i = 0; i < IMAGES.size(); i++) {
          for (int t = 0; t < THREADS.length; t++) {
            String c = IMAGES.get(i) + "/" + k.word() + "/" + THREADS[t] + "t";
            r.add("E3", c, "execs_per_s", rate[ki][i][t]);
            if (k != Config.Rmap.BACKING) {
              r.add("E3", c, "over_backing", overBacking[ki][i][t]);
            }
          }
          r.add("E3", IMAGES.get(i) + "/" + k.word(), "two_threads_over_one", scaling[ki][i]);
        }
        for (int t = 0; t < THREADS.length; t++) {
          r.add("E3", k.word() + "/" + THREADS[t] + "t", "dynamic_over_static", overStatic[ki][t]);
        }
      }
    }

    @Override
    public String toString() {
      StringBuilder sb =
          new StringBuilder(
              String.format(
                  "exec (E3): loops a second of fork, exec, start-up, exit; medians%n"
                      + "  %-8s %10s %10s %10s %10s   %-17s  %-18s",
                  "",
                  "static 1t",
                  "static 2t",
                  "dynamic 1t",
                  "dynamic 2t",
                  "dynamic/static",
                  "2 threads/1"));
      for (Config.Rmap k : Config.Rmap.values()) {
        int ki = k.ordinal();
        sb.append(
            String.format(
                "%n  %-8s %,10.0f %,10.0f %,10.0f %,10.0f   1t %.2f, 2t %.2f   static %.2fx,"
                    + " dynamic %.2fx",
                k.word(),
                rate[ki][0][0],
                rate[ki][0][1],
                rate[ki][1][0],
                rate[ki][1][1],
                overStatic[ki][0],
                overStatic[ki][1],
                scaling[ki][0],
                scaling[ki][1]));
      }
      for (Config.Rmap k : List.of(Config.Rmap.PV, Config.Rmap.PTECHAIN)) {
        double[][] o = overBacking[k.ordinal()];
        sb.append(
            String.format(
                "%n  %s/backing: static %.2f (1t) %.2f (2t), dynamic %.2f (1t) %.2f (2t)",
                k.word(), o[0][0], o[0][1], o[1][0], o[1][1]));
      }
      return sb.toString();
    }
  }

  private ExecBench() {}

  /** Runs {@code rounds} rounds of {@code millis} milliseconds a setting, after one warm-up. */
  public static Figures measure(int rounds, long millis) {
    Config.Rmap[] kinds = Config.Rmap.values();
    ImplVm[] vms = new ImplVm[kinds.length];
    for (Config.Rmap k : kinds) {
      vms[k.ordinal()] = boot(k, THREADS[THREADS.length - 1]);
    }
    int nk = kinds.length;
    int ni = IMAGES.size();
    int nt = THREADS.length;
    double[][][][] rate = new double[nk][ni][nt][rounds];
    double[][][] overStatic = new double[nk][nt][rounds];
    double[][][][] overBacking = new double[nk][ni][nt][rounds];
    double[][][] scaling = new double[nk][ni][rounds];
    double[][][] x = new double[nk][ni][nt];
    for (int r = -1; r < rounds; r++) { // round -1 warms up
      for (int t = 0; t < nt; t++) {
        for (int i = 0; i < ni; i++) {
          for (int k = 0; k < nk; k++) {
            x[k][i][t] = rate(vms[k], IMAGES.get(i), THREADS[t], millis);
          }
        }
      }
      if (r < 0) {
        continue;
      }
      for (int k = 0; k < nk; k++) {
        for (int t = 0; t < nt; t++) {
          overStatic[k][t][r] = x[k][1][t] / x[k][0][t];
          for (int i = 0; i < ni; i++) {
            rate[k][i][t][r] = x[k][i][t];
            overBacking[k][i][t][r] = x[k][i][t] / x[Config.Rmap.BACKING.ordinal()][i][t];
          }
        }
        for (int i = 0; i < ni; i++) {
          scaling[k][i][r] = x[k][i][1] / x[k][i][0];
        }
      }
    }
    double[][][] mRate = new double[nk][ni][nt];
    double[][][] mOverBacking = new double[nk][ni][nt];
    double[][] mOverStatic = new double[nk][nt];
    double[][] mScaling = new double[nk][ni];
    for (int k = 0; k < nk; k++) {
      for (int i = 0; i < ni; i++) {
        for (int t = 0; t < nt; t++) {
          mRate[k][i][t] = Bench.median(rate[k][i][t]);
          mOverBacking[k][i][t] = Bench.median(overBacking[k][i][t]);
        }
        mScaling[k][i] = Bench.median(scaling[k][i]);
      }
      for (int t = 0; t < nt; t++) {
        mOverStatic[k][t] = Bench.median(overStatic[k][t]);
      }
    }
    for (ImplVm vm : vms) {
      vm.checkInvariants(); // two threads on one system: it must have stayed whole
    }
    return new Figures(mRate, mOverStatic, mOverBacking, mScaling);
  }

  /** A system with reverse map {@code k} and {@code shells} shells, pids 1, 3, 5, ... */
  private static ImplVm boot(Config.Rmap k, int shells) {
    ImplVm vm = new ImplVm(Config.defaults().withRmap(k));
    for (int t = 0; t < shells; t++) {
      int pid = 2 * t + 1;
      Bench.ok(vm.apply(new Op.Spawn(pid)));
      Bench.ok(vm.apply(new Op.Exec(pid, "dynamic")));
      Bench.startUp(vm, pid, "dynamic");
    }
    return vm;
  }

  /** Loops per second of {@code threads} shells of {@code vm} running {@code image}. */
  private static double rate(ImplVm vm, String image, int threads, long millis) {
    return Bench.rate(
        threads,
        millis,
        t -> {
          int shell = 2 * t + 1;
          int child = shell + 1;
          Bench.ok(vm.apply(new Op.Fork(shell, child)));
          Bench.ok(vm.apply(new Op.Exec(child, image)));
          Bench.startUp(vm, child, image);
          Bench.ok(vm.apply(new Op.Exit(child)));
          return 1;
        });
  }

  public static void main(String[] args) {
    System.out.println(measure(3, 300));
  }
}
