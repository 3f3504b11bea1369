package org.vmoracle.checks.shrink;

import java.util.List;
import java.util.Optional;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.View;
import org.vmoracle.spec.VmSystem;

/**
 * A planted divergence without touching the implementation: the model, except that a read by a
 * process of pid {@code minPid} or more, of a small non-zero word (1 to 1000: one a test stored,
 * not a boot file's), answers the word plus one. Pids grow through a run, so a generated run meets
 * the lie only late; the shortest trace that meets it is a spawn, a mapping, a store and a read.
 */
final class Liar implements VmSystem {
  private final ModelVm model = new ModelVm();
  private final int minPid;

  Liar(int minPid) {
    this.minPid = minPid;
  }

  @Override
  public Result apply(Op op) {
    Result r = model.apply(op);
    if (op instanceof Op.Read && ((Op.Read) op).pid() >= minPid && r instanceof Result.Value) {
      long v = ((Result.Value) r).value();
      if (v >= 1 && v <= 1000) {
        return Result.value(v + 1);
      }
    }
    return r;
  }

  @Override
  public View view() {
    return model.view();
  }

  /**
   * Model against a fresh liar, results compared at every operation (the liar's views are the
   * model's, so only RESULT divergences arise).
   */
  static Subject subject(int minPid) {
    return (ops, every) -> {
      ModelVm want = new ModelVm();
      Liar got = new Liar(minPid);
      for (int i = 0; i < ops.size(); i++) {
        Op op = ops.get(i);
        Result w = want.apply(op);
        Result g = got.apply(op);
        if (!w.equals(g)) {
          return Optional.of(
              new Divergence(
                  Divergence.Kind.RESULT, op, i, "model " + w + ", implementation " + g, null));
        }
      }
      return Optional.empty();
    };
  }

  /**
   * A liar with a second face, for checking that shrinking keeps a failure's signature: besides the
   * lie on reads (when {@code lies}), its "invariants" break once a process of pid {@code minPid}
   * or more has stored a small non-zero word. Invariants are checked as {@link Subject} says: after
   * every {@code every} operations and after the last, so with {@code every} 0 a wrong read comes
   * first, and with {@code every} 1 the broken invariant at the store before it.
   */
  static Subject twoFaced(int minPid, boolean lies) {
    return (ops, every) -> {
      ModelVm want = new ModelVm();
      Liar got = new Liar(minPid);
      boolean broken = false;
      for (int i = 0; i < ops.size(); i++) {
        Op op = ops.get(i);
        Result w = want.apply(op);
        Result g = lies ? got.apply(op) : w;
        if (!w.equals(g)) {
          return Optional.of(
              new Divergence(
                  Divergence.Kind.RESULT, op, i, "model " + w + ", implementation " + g, null));
        }
        if (op instanceof Op.Write && w.equals(Result.OK)) {
          Op.Write s = (Op.Write) op;
          broken |= s.pid() >= minPid && s.value() >= 1 && s.value() <= 1000;
        }
        boolean check = (every > 0 && i % every == 0) || i == ops.size() - 1;
        if (broken && check) {
          return Optional.of(
              new Divergence(Divergence.Kind.INVARIANT, op, i, "a small store by a big pid", null));
        }
      }
      return Optional.empty();
    };
  }

  /** The first divergence of {@code ops} against a liar, if any. */
  static Optional<Divergence> run(List<Op> ops, int minPid) {
    return subject(minPid).run(ops, 0);
  }
}
