package org.vmoracle.checks.shrink;

import java.util.Objects;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.checks.gen.OpKind;

/**
 * The way a list of operations fails, as far as shrinking keeps it: the kind of divergence and the
 * kind of operation it was found at. A wrong read stays a wrong read: it may turn neither into a
 * wrong mmap nor into a broken invariant at a fork while shrinking, and an invariant broken at an
 * mlock stays one broken at an mlock. This is how QuickCheck and Hypothesis keep a failure from
 * sliding to another while they shrink it (Hypothesis compares the exception's type and where it
 * was raised); the failures of another signature met on the way are other findings.
 *
 * @param kind the kind of divergence
 * @param op the kind of the operation it was found at; null when it was found before any
 */
public record Signature(Divergence.Kind kind, OpKind op) {

  public Signature {
    Objects.requireNonNull(kind, "kind");
  }

  /** The signature of {@code d}. */
  public static Signature of(Divergence d) {
    return new Signature(d.kind(), d.op() == null ? null : OpKind.of(d.op()));
  }

  /**
   * Whether {@code d} fails this way: the same kind of divergence at the same kind of operation.
   */
  public boolean matches(Divergence d) {
    return d.kind() == kind && Objects.equals(op, Signature.of(d).op);
  }

  @Override
  public String toString() {
    return op == null ? kind.toString() : kind + " at " + op.word();
  }
}
