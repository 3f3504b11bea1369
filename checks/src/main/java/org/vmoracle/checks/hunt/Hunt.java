package org.vmoracle.checks.hunt;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.function.Consumer;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.checks.diff.Lockstep;
import org.vmoracle.checks.gen.Generator;
import org.vmoracle.checks.gen.Profile;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;

/**
 * The sequential hunt: runs of generated operations, each from its own seed on freshly booted
 * systems, through model and implementation side by side ({@link Lockstep}), until the operation or
 * time budget is spent or they disagree. Run {@code i} uses seed {@code seed + i}, so a finding is
 * reproduced by a hunt from its run's seed (its first run).
 *
 * <p>Every result is compared; the implementation's invariants and both views are compared every
 * {@code checkEvery} operations of a run and at its end ({@link Lockstep#checkNow}).
 *
 * <p>Not thread-safe: one hunt, one thread.
 */
public final class Hunt {
  private Hunt() {}

  /**
   * Operations in one run by default: long enough for deep states and to pay for the end-of-run
   * comparison of views (a few milliseconds, as much as a thousand operations), short enough to
   * shrink in seconds.
   */
  public static final int RUN_LENGTH = 5000;

  /**
   * What to hunt with.
   *
   * @param profile the operation mix
   * @param config the implementation's settings (usually the profile's)
   * @param seed the first run's seed; run i uses seed + i
   * @param maxOps stop after this many operations; 0 for no limit
   * @param maxSeconds stop after this long; 0 for no limit (then maxOps must be set)
   * @param runLength operations in one run
   * @param checkEvery invariants and views every this many operations; 0: only at each run's end
   */
  public record Settings(
      Profile profile,
      Config config,
      long seed,
      long maxOps,
      double maxSeconds,
      int runLength,
      int checkEvery) {
    public Settings {
      Objects.requireNonNull(profile, "profile");
      Objects.requireNonNull(config, "config");
      if (maxOps < 0 || maxSeconds < 0 || runLength < 1 || checkEvery < 0) {
        throw new IllegalArgumentException("negative budget, run length or check interval");
      }
      if (maxOps == 0 && maxSeconds == 0) {
        throw new IllegalArgumentException("a hunt needs an operation or a time budget");
      }
    }
  }

  /** How far a hunt got: operations run, runs completed, seconds since it started. */
  public record Progress(long operations, long runs, double seconds) {
    public double opsPerSecond() {
      return seconds > 0 ? operations / seconds : 0;
    }
  }

  /**
   * What the implementation and the model disagreed on.
   *
   * @param runSeed the seed of the run that found it
   * @param run the run's number in the hunt, from 0
   * @param ops the run's operations up to and including the one the divergence was found at
   * @param divergence what was found
   * @param operationsBefore operations the hunt ran before the divergent one
   * @param seconds when it was found, since the hunt started
   */
  public record Finding(
      long runSeed,
      long run,
      List<Op> ops,
      Divergence divergence,
      long operationsBefore,
      double seconds) {}

  /**
   * What a hunt did.
   *
   * @param progress operations, runs (the one that found something included) and seconds at the end
   * @param exhaustions operations the implementation answered with an accepted out-of-memory
   *     failure (MEM-1)
   * @param finding the divergence found, if one was
   */
  public record Report(Progress progress, long exhaustions, Optional<Finding> finding) {}

  /**
   * Told of every operation a hunt runs, just before and just after it runs: a measurement such as
   * {@code hunt --coverage}. It may look at the implementation and must change nothing.
   */
  public interface Watcher {
    /** A watcher that does nothing: the plain hunt. */
    Watcher NONE =
        new Watcher() {
          @Override
          public void before(Op op, ImplVm impl) {}

          @Override
          public void after(Op op, Result result) {}
        };

    /** {@code op} is about to run on {@code impl} (and on the model). */
    void before(Op op, ImplVm impl);

    /** {@code op} answered {@code result}, which both sides agreed on (or an accepted MEM-1). */
    void after(Op op, Result result);
  }

  /**
   * Hunts with {@code settings}; {@code progress} is told how far it got about every {@code
   * progressSeconds} (0: never).
   */
  public static Report run(Settings s, Consumer<Progress> progress, double progressSeconds) {
    return run(s, progress, progressSeconds, Watcher.NONE);
  }

  /** Hunts as {@link #run(Settings, Consumer, double)} does, telling {@code watcher} of each op. */
  public static Report run(
      Settings s, Consumer<Progress> progress, double progressSeconds, Watcher watcher) {
    long t0 = System.nanoTime();
    long deadline = s.maxSeconds() > 0 ? t0 + (long) (s.maxSeconds() * 1e9) : Long.MAX_VALUE;
    long every = progressSeconds > 0 ? (long) (progressSeconds * 1e9) : Long.MAX_VALUE;
    long nextProgress = progressSeconds > 0 ? t0 + every : Long.MAX_VALUE;
    long operations = 0;
    long runs = 0;
    long exhaustions = 0;
    boolean timeUp = false;
    for (long run = 0; !timeUp; run++) {
      long left = s.maxOps() > 0 ? s.maxOps() - operations : Long.MAX_VALUE;
      if (left <= 0 || System.nanoTime() - deadline >= 0) {
        break;
      }
      long runSeed = s.seed() + run;
      Generator g = new Generator(runSeed, 1, s.profile().mix());
      Lockstep both = new Lockstep(new ImplVm(s.config()), 0, 0); // checked below, both at once
      int length = (int) Math.min(s.runLength(), left);
      List<Op> ops = new ArrayList<>(length);
      long runStart = operations;
      try {
        for (int i = 0; i < length; i++) {
          Op op = g.next();
          ops.add(op);
          watcher.before(op, both.impl());
          Result r = both.apply(op);
          watcher.after(op, r);
          g.observe(op, r);
          operations++;
          if (s.checkEvery() > 0 && (i + 1) % s.checkEvery() == 0 && i + 1 < length) {
            both.checkNow();
          }
          if ((i & 127) == 127) {
            long now = System.nanoTime();
            if (now - deadline >= 0) {
              timeUp = true;
              break;
            }
            if (now - nextProgress >= 0) {
              progress.accept(new Progress(operations, runs, (now - t0) / 1e9));
              nextProgress = now + every;
            }
          }
        }
        both.checkNow();
      } catch (Divergence d) {
        exhaustions += both.exhaustions();
        double at = (System.nanoTime() - t0) / 1e9;
        Finding f = new Finding(runSeed, run, List.copyOf(ops), d, runStart + d.step(), at);
        return new Report(new Progress(operations, runs + 1, at), exhaustions, Optional.of(f));
      }
      exhaustions += both.exhaustions();
      runs++;
    }
    return new Report(
        new Progress(operations, runs, (System.nanoTime() - t0) / 1e9),
        exhaustions,
        Optional.empty());
  }
}
