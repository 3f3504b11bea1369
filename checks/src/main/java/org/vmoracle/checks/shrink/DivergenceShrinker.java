package org.vmoracle.checks.shrink;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceLine;

/**
 * Shrinks a divergence found between model and implementation into a short trace whose expectations
 * are the model's results: replayed through the model it passes, replayed through both systems side
 * by side it fails.
 *
 * <p>A candidate counts as failing only if it fails the way the hunt found: its first divergence
 * has the original's {@link Signature} (the same kind of divergence at the same kind of operation).
 * A wrong read stays a wrong read; it does not slide to a broken invariant at an earlier fork, a
 * different bug that happens to be shorter. Two phases, because checking views and invariants after
 * every operation costs far more than the operations themselves:
 *
 * <ol>
 *   <li>The run is cut after the operation that diverged, then shrunk with results compared at
 *       every operation but views and invariants compared only after the last, as the hunt compares
 *       them.
 *   <li>The small list is run with everything compared after every operation, as {@code replay
 *       --system both} does. When it fails the same way there, it is shrunk again that way, so that
 *       a replay fails at its last line. When it fails sooner and another way (a wrong read is
 *       often a wrong view one step before, and a fork that forgot to write-protect breaks an
 *       invariant at once), the list of phase 1 is kept: it fails the original way as the hunt
 *       checks, and {@link Shrunk#stepByStep()} says how a replay sees it.
 * </ol>
 *
 * <p>Failures of another signature met on the way (a candidate that fails, but not the way sought)
 * are not thrown away: the shortest is kept and, after the first is done, shrunk on its own within
 * what is left of the budget, keeping its own signature. It is a second finding, {@link
 * Shrunk#other()}, never one in place of the first.
 *
 * <p>Every candidate runs on freshly booted systems ({@link Subject}), so shrinking is
 * deterministic.
 */
public final class DivergenceShrinker {
  private DivergenceShrinker() {}

  /**
   * What shrinking gave.
   *
   * @param ops the shrunk operations
   * @param trace the operations, each expecting the model's result; source {@code "shrunk"}
   * @param divergence how the shrunk list fails the way sought: a divergence with the original's
   *     {@link Signature}, at the last operation
   * @param stepByStep how the shrunk list fails when everything is compared after every operation
   *     (as {@code replay --system both} does): {@code divergence} itself, or a divergence of
   *     another signature at an earlier or the same operation
   * @param original the divergence that was shrunk
   * @param originalLength operations in the run that found it, up to and including the divergent
   * @param tests candidates run
   * @param seconds time spent
   * @param complete false when the time budget ran out before shrinking was done
   * @param other a second finding: the shortest failure of another signature met while shrinking
   *     (its step-by-step failure included), shrunk on its own keeping its signature; empty when
   *     every failing candidate failed the way sought
   */
  public record Shrunk(
      List<Op> ops,
      Trace trace,
      Divergence divergence,
      Divergence stepByStep,
      Divergence original,
      int originalLength,
      int tests,
      double seconds,
      boolean complete,
      Optional<Shrunk> other) {

    /** Whether a replay comparing everything after every operation fails the way sought. */
    public boolean stepByStepSame() {
      return Signature.of(stepByStep).matches(divergence);
    }
  }

  /**
   * Shrinks {@code ops}, a run that diverged with {@code original} (its {@link Divergence#step()}
   * indexes {@code ops}), running candidates on {@code subject}, within {@code budget}.
   *
   * @throws IllegalStateException when the run does not diverge again on fresh systems, or diverges
   *     another way (the subject is not deterministic)
   */
  public static Shrunk shrink(List<Op> ops, Divergence original, Subject subject, Duration budget) {
    return shrink(ops, original, subject, budget, true);
  }

  private static Shrunk shrink(
      List<Op> ops, Divergence original, Subject subject, Duration budget, boolean keepOthers) {
    long t0 = System.nanoTime();
    long deadline = t0 + Math.min(budget.toNanos(), Long.MAX_VALUE / 4);
    int cut = (int) Math.min(ops.size(), original.step() + 1);
    List<Op> prefix = List.copyOf(ops.subList(0, cut));
    Signature sought = Signature.of(original);

    int every = 0;
    Optional<Divergence> again = subject.run(prefix, every);
    if (again.isEmpty()) {
      every = 1; // not expected: the last operation's views and invariants are checked at every=0
      again = subject.run(prefix, every);
    }
    Divergence first =
        again.orElseThrow(
            () ->
                new IllegalStateException(
                    "not reproducible: the "
                        + cut
                        + " operations that diverged ("
                        + original.getMessage()
                        + ") agree on fresh systems"));
    if (!sought.matches(first)) {
      throw new IllegalStateException(
          "not reproducible the same way: the "
              + cut
              + " operations that diverged as "
              + sought
              + " diverge on fresh systems as "
              + Signature.of(first)
              + " ("
              + first.getMessage()
              + ")");
    }

    Others others = keepOthers ? new Others() : null;
    Shrinker coarse = new Shrinker(test(subject, every, sought, others), budget);
    List<Op> small;
    try {
      small = coarse.shrink(prefix);
    } catch (IllegalArgumentException e) {
      // The same operations diverged the way sought a moment ago: the subject answers differently
      // from run to run (an implementation that is not deterministic for one thread).
      throw new IllegalStateException(
          "not reproducible: the "
              + cut
              + " operations that diverged as "
              + sought
              + " did so once more on fresh systems, then not again: the implementation is not"
              + " deterministic on them",
          e);
    }
    int tests = coarse.tests() + 1;
    boolean complete = !coarse.timeUp();
    Divergence found = rerun(subject, small, every, "the shrunk list");
    tests++;
    Divergence stepByStep = every == 1 ? found : rerun(subject, small, 1, "the shrunk list");
    tests++;
    if (every == 0 && sought.matches(stepByStep)) {
      Shrinker precise = new Shrinker(test(subject, 1, sought, others), left(deadline));
      small = precise.shrink(small);
      tests += precise.tests() + 1;
      complete = complete && !precise.timeUp();
      found = rerun(subject, small, 1, "the list shrunk step by step");
      stepByStep = found;
    } else if (others != null) {
      others.offer(small, stepByStep);
    }

    Optional<Shrunk> other = Optional.empty();
    if (others != null && others.ops != null) {
      try {
        other = Optional.of(shrink(others.ops, others.divergence, subject, left(deadline), false));
        tests += other.get().tests();
      } catch (IllegalStateException e) {
        // It failed that way only after what came before it in its candidate: not a finding alone.
      }
    }

    return new Shrunk(
        small,
        withModelResults("shrunk", small),
        found,
        stepByStep,
        original,
        cut,
        tests,
        (System.nanoTime() - t0) / 1e9,
        complete,
        other);
  }

  private static Duration left(long deadline) {
    long n = deadline - System.nanoTime();
    return n > 0 ? Duration.ofNanos(n) : Duration.ZERO;
  }

  private static Divergence rerun(Subject subject, List<Op> ops, int every, String what) {
    return subject
        .run(ops, every)
        .orElseThrow(() -> new IllegalStateException(what + " no longer diverges"));
  }

  /**
   * Candidates fail the way sought when their first divergence has {@code sought}; one that fails
   * another way is offered to {@code others} (when not null) and counts as not failing.
   */
  private static Shrinker.Test test(Subject subject, int every, Signature sought, Others others) {
    return ops -> {
      Optional<Divergence> d = subject.run(ops, every);
      if (d.isEmpty()) {
        return -1;
      }
      if (!sought.matches(d.get())) {
        if (others != null) {
          others.offer(ops, d.get());
        }
        return -1;
      }
      return (int) Math.min(ops.size(), d.get().step() + 1);
    };
  }

  /** The shortest failure of another signature seen so far: a list cut after its divergence. */
  private static final class Others {
    List<Op> ops;
    Divergence divergence;

    void offer(List<Op> candidate, Divergence d) {
      int n = (int) Math.min(candidate.size(), d.step() + 1);
      if (ops == null || n < ops.size()) {
        ops = List.copyOf(candidate.subList(0, n));
        divergence = d;
      }
    }
  }

  /** A trace of {@code ops}, every line expecting what the model answers, from boot. */
  public static Trace withModelResults(String source, List<Op> ops) {
    ModelVm model = new ModelVm();
    List<TraceLine> lines = new ArrayList<>(ops.size());
    for (int i = 0; i < ops.size(); i++) {
      lines.add(new TraceLine(i + 1, ops.get(i), Optional.of(model.apply(ops.get(i)))));
    }
    return new Trace(source, lines);
  }
}
