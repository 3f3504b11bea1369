package org.vmoracle.checks.shrink;

import java.util.List;
import java.util.Optional;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.checks.diff.Lockstep;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;

/**
 * What a shrinker runs candidates on: a pair of systems, freshly booted for every run, compared
 * step by step. Runs must be deterministic: the same list gives the same divergence.
 */
@FunctionalInterface
public interface Subject {

  /**
   * Runs {@code ops} from boot through a fresh model and a fresh implementation side by side:
   * results compared at every operation, the implementation's invariants and both views every
   * {@code every} operations (0: never between) and after the last. Answers the first divergence,
   * empty when none.
   */
  Optional<Divergence> run(List<Op> ops, int every);

  /** The model against a new {@link ImplVm} of {@code config} for every run ({@link Lockstep}). */
  static Subject lockstep(Config config) {
    return (ops, every) -> {
      Lockstep both = new Lockstep(new ImplVm(config), every, every);
      try {
        for (Op op : ops) {
          both.apply(op);
        }
        if (!ops.isEmpty()) {
          both.checkNow();
        }
        return Optional.empty();
      } catch (Divergence d) {
        return Optional.of(d);
      }
    };
  }
}
