package org.vmoracle.checks.shrink;

import java.util.Objects;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.checks.gen.OpKind;

/**
 * The way a list of operations fails, as far as shrinking keeps it: the kind of divergence, and for
 * a {@link Divergence.Kind#RESULT} divergence the kind of operation that answered differently (a
 * wrong read stays a wrong read; it may not turn into a wrong mmap while shrinking).
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

  /** Whether {@code d} fails this way: the same kind, and for RESULT the same operation kind. */
  public boolean matches(Divergence d) {
    if (d.kind() != kind) {
      return false;
    }
    return kind != Divergence.Kind.RESULT || Objects.equals(op, Signature.of(d).op);
  }

  @Override
  public String toString() {
    return op == null ? kind.toString() : kind + " at " + op.word();
  }
}
