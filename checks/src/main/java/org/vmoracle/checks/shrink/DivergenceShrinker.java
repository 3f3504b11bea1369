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
 * by side ({@code replay --system both}) it fails at its last line.
 *
 * <p>Two phases, because checking views and invariants after every operation costs far more than
 * the operations themselves:
 *
 * <ol>
 *   <li>The run is cut after the operation that diverged, then shrunk with results compared at
 *       every operation but views and invariants compared only after the last: the failure must
 *       keep its {@link Signature} (the same kind of divergence; for RESULT, at the same kind of
 *       operation).
 *   <li>The small list is run with everything compared after every operation, as a replay does.
 *       That may find the divergence earlier and as another kind (a wrong read is often a wrong
 *       view one step before); the list is cut there and shrunk again keeping that signature.
 * </ol>
 *
 * Every candidate runs on freshly booted systems ({@link Subject}), so shrinking is deterministic.
 */
public final class DivergenceShrinker {
  private DivergenceShrinker() {}

  /**
   * What shrinking gave.
   *
   * @param ops the shrunk operations
   * @param trace the operations, each expecting the model's result; source {@code "shrunk"}
   * @param divergence how the shrunk list fails when everything is compared after every operation
   * @param original the divergence that was shrunk
   * @param originalLength operations in the run that found it, up to and including the divergent
   * @param tests candidates run
   * @param seconds time spent
   * @param complete false when the time budget ran out before shrinking was done
   */
  public record Shrunk(
      List<Op> ops,
      Trace trace,
      Divergence divergence,
      Divergence original,
      int originalLength,
      int tests,
      double seconds,
      boolean complete) {}

  /**
   * Shrinks {@code ops}, a run that diverged with {@code original} (its {@link Divergence#step()}
   * indexes {@code ops}), running candidates on {@code subject}, within {@code budget}.
   *
   * @throws IllegalStateException when the run does not diverge again on fresh systems (the subject
   *     is not deterministic)
   */
  public static Shrunk shrink(List<Op> ops, Divergence original, Subject subject, Duration budget) {
    long t0 = System.nanoTime();
    int cut = (int) Math.min(ops.size(), original.step() + 1);
    List<Op> prefix = List.copyOf(ops.subList(0, cut));

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

    Shrinker coarse = new Shrinker(test(subject, every, Signature.of(first)), budget);
    List<Op> small = coarse.shrink(prefix);

    Divergence fine =
        subject
            .run(small, 1)
            .orElseThrow(() -> new IllegalStateException("shrunk list no longer diverges"));
    Duration left = budget.minusNanos(System.nanoTime() - t0);
    Shrinker precise =
        new Shrinker(
            test(subject, 1, Signature.of(fine)), left.isNegative() ? Duration.ZERO : left);
    small = precise.shrink(small);
    fine = subject.run(small, 1).orElseThrow();

    return new Shrunk(
        small,
        withModelResults("shrunk", small),
        fine,
        original,
        cut,
        coarse.tests() + precise.tests() + 3,
        (System.nanoTime() - t0) / 1e9,
        !precise.timeUp());
  }

  /** Candidates fail the way sought when their first divergence has {@code signature}. */
  private static Shrinker.Test test(Subject subject, int every, Signature signature) {
    return ops ->
        subject
            .run(ops, every)
            .filter(signature::matches)
            .map(d -> (int) Math.min(ops.size(), d.step() + 1))
            .orElse(-1);
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
