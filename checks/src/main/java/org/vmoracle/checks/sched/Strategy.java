package org.vmoracle.checks.sched;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.SplittableRandom;

/**
 * How a controlled run chooses which thread goes on at each scheduling point ({@link Scheduler}):
 * the strategies of the concurrent hunt's {@code --strategy}.
 *
 * <ul>
 *   <li>{@code pct:D}: probabilistic concurrency testing (Burckhardt et al., ASPLOS 2010). Each
 *       thread gets a random priority; the highest-priority thread that can go on runs; at D-1
 *       steps chosen at random among the run's expected K, the running thread drops below every
 *       other. A bug of depth D is found with probability at least 1/(n K^(D-1)) a run.
 *   <li>{@code random}: a random walk, a thread chosen uniformly at every point.
 *   <li>{@code rr:B}: round robin with a preemption bound: the running thread goes on until it ends
 *       or waits, but at B steps chosen at random the next thread in turn takes over.
 *   <li>{@code portfolio}: the runs rotate through pct:1, pct:2, pct:3, random and rr:2.
 *   <li>{@code free}: no control: the threads run at once, as the operating system schedules them.
 * </ul>
 *
 * A strategy and a seed give the same choices every time, so that a run is reproducible when the
 * implementation does the same steps for the same choices.
 */
public record Strategy(Kind kind, int bound) {

  /** The kinds of strategy. */
  public enum Kind {
    PCT,
    RANDOM,
    RR,
    PORTFOLIO,
    FREE,
    /** Follows the choices of a recorded schedule ({@link Schedule#choices}). */
    REPLAY
  }

  /** The default depth of PCT: d = 3 found every bug the other methods did in SCTBench. */
  public static final int PCT_DEPTH = 3;

  /** The default preemption bound of round robin. */
  public static final int RR_BOUND = 2;

  public Strategy {
    Objects.requireNonNull(kind, "kind");
    if ((kind == Kind.PCT && (bound < 1 || bound > 10)) || (kind == Kind.RR && bound < 0)) {
      throw new IllegalArgumentException(
          "pct's depth is 1 to 10 and rr's preemption bound 0 or more, not " + bound);
    }
  }

  public static final Strategy FREE = new Strategy(Kind.FREE, 0);
  public static final Strategy RANDOM = new Strategy(Kind.RANDOM, 0);
  public static final Strategy PORTFOLIO = new Strategy(Kind.PORTFOLIO, 0);

  /** PCT of depth {@code d}. */
  public static Strategy pct(int d) {
    return new Strategy(Kind.PCT, d);
  }

  /** Round robin with at most {@code b} preemptions. */
  public static Strategy rr(int b) {
    return new Strategy(Kind.RR, b);
  }

  /** The strategies a portfolio rotates through, one run each. */
  public static final List<Strategy> ROTATION =
      List.of(pct(1), pct(2), pct(3), RANDOM, rr(RR_BOUND));

  /**
   * {@code pct}, {@code pct:2}, {@code random}, {@code rr}, {@code rr:1}, {@code portfolio} or
   * {@code free}.
   *
   * @throws IllegalArgumentException naming what was expected
   */
  public static Strategy parse(String text) {
    String t = text.trim().toLowerCase(Locale.ROOT);
    int colon = t.indexOf(':');
    String name = colon < 0 ? t : t.substring(0, colon);
    String arg = colon < 0 ? null : t.substring(colon + 1);
    switch (name) {
      case "pct":
        return pct(arg == null ? PCT_DEPTH : number(text, arg));
      case "rr":
        return rr(arg == null ? RR_BOUND : number(text, arg));
      case "random":
      case "portfolio":
      case "free":
        if (arg != null) {
          throw new IllegalArgumentException(
              "strategy '" + text + "': only pct and rr take a number after ':'");
        }
        return name.equals("random") ? RANDOM : name.equals("free") ? FREE : PORTFOLIO;
      default:
        throw new IllegalArgumentException(
            "unknown strategy '"
                + text
                + "': expected pct, pct:D (depth 1 to 10), random, rr, rr:B (preemptions),"
                + " portfolio or free");
    }
  }

  private static int number(String text, String arg) {
    try {
      return Integer.parseInt(arg);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(
          "strategy '" + text + "': expected a whole number after ':', not '" + arg + "'");
    }
  }

  /** Whether the threads run under a scheduler (everything but free). */
  public boolean controlled() {
    return kind != Kind.FREE;
  }

  /** The strategy of run {@code n}: a portfolio's turn, or this one. */
  public Strategy forRun(long n) {
    return kind == Kind.PORTFOLIO ? ROTATION.get((int) Math.floorMod(n, ROTATION.size())) : this;
  }

  /** {@code pct:3}, {@code random}, {@code rr:2}: what {@link #parse} reads back. */
  public String word() {
    switch (kind) {
      case PCT:
        return "pct:" + bound;
      case RR:
        return "rr:" + bound;
      default:
        return kind.name().toLowerCase(Locale.ROOT);
    }
  }

  @Override
  public String toString() {
    return word();
  }

  /**
   * A fresh chooser for one run of {@code threads} threads, from {@code seed}, expecting about
   * {@code expectedSteps} points (PCT's K; round robin's range of preemption steps).
   */
  Chooser chooser(int threads, long seed, int expectedSteps) {
    SplittableRandom r = new SplittableRandom(seed);
    int k = Math.max(1, expectedSteps);
    switch (kind) {
      case PCT:
        return new Pct(threads, bound, k, r);
      case RANDOM:
        return new RandomWalk(r);
      case RR:
        return new RoundRobin(bound, k, r);
      default:
        throw new IllegalStateException(word() + " chooses per run (forRun) or not at all");
    }
  }

  /**
   * Chooses the thread to run after each step. {@code runnable} says which threads can go on: alive
   * and not waiting, or, when every live thread waits, alive. It has at least one true entry.
   */
  interface Chooser {
    /** The thread that runs after step {@code step} (counted from 1) of thread {@code current}. */
    int next(int step, int current, boolean[] runnable);
  }

  /** The highest-priority runnable thread runs; at D-1 change points the runner drops. */
  private static final class Pct implements Chooser {
    private final int[] priority;
    private final long[] changes; // sorted steps at which the runner's priority drops
    private int passed;

    Pct(int threads, int depth, int k, SplittableRandom r) {
      priority = new int[threads];
      int[] order = new int[threads];
      for (int i = 0; i < threads; i++) {
        order[i] = i;
      }
      for (int i = threads - 1; i > 0; i--) {
        int j = r.nextInt(i + 1);
        int t = order[i];
        order[i] = order[j];
        order[j] = t;
      }
      for (int i = 0; i < threads; i++) {
        priority[order[i]] = depth + i; // every initial priority above the d-1 changes' own
      }
      changes = new long[depth - 1];
      for (int i = 0; i < changes.length; i++) {
        changes[i] = 1 + r.nextInt(k);
      }
      Arrays.sort(changes);
    }

    @Override
    public int next(int step, int current, boolean[] runnable) {
      while (passed < changes.length && changes[passed] <= step) {
        passed++;
        if (current >= 0) {
          priority[current] = changes.length - passed + 1; // below every other, and every earlier
        }
      }
      int best = -1;
      for (int i = 0; i < runnable.length; i++) {
        if (runnable[i] && (best < 0 || priority[i] > priority[best])) {
          best = i;
        }
      }
      return best;
    }
  }

  /** A thread chosen uniformly among the runnable at every point. */
  private static final class RandomWalk implements Chooser {
    private final SplittableRandom r;

    RandomWalk(SplittableRandom r) {
      this.r = r;
    }

    @Override
    public int next(int step, int current, boolean[] runnable) {
      int n = 0;
      for (boolean b : runnable) {
        n += b ? 1 : 0;
      }
      int pick = r.nextInt(n);
      for (int i = 0; ; i++) {
        if (runnable[i] && pick-- == 0) {
          return i;
        }
      }
    }
  }

  /** The runner goes on until it ends or waits, or one of B random preemptions comes. */
  private static final class RoundRobin implements Chooser {
    private final long[] preemptions;
    private int passed;

    RoundRobin(int bound, int k, SplittableRandom r) {
      preemptions = new long[bound];
      for (int i = 0; i < bound; i++) {
        preemptions[i] = 1 + r.nextInt(k);
      }
      Arrays.sort(preemptions);
    }

    @Override
    public int next(int step, int current, boolean[] runnable) {
      boolean preempt = false;
      while (passed < preemptions.length && preemptions[passed] <= step) {
        passed++;
        preempt = true;
      }
      if (current >= 0 && runnable[current] && !preempt) {
        return current;
      }
      for (int d = 1; d <= runnable.length; d++) {
        int i = Math.floorMod(current + d, runnable.length);
        if (runnable[i]) {
          return i;
        }
      }
      throw new IllegalStateException("no runnable thread");
    }
  }
}
