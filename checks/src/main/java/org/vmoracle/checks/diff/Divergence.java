package org.vmoracle.checks.diff;

import org.vmoracle.spec.Op;

/**
 * Model and implementation disagreed, or the implementation broke one of its own invariants. The
 * message says which operation, what the model said and what the implementation said.
 */
public final class Divergence extends RuntimeException {
  private static final long serialVersionUID = 1L;

  /** What kind of disagreement. */
  public enum Kind {
    /** The two answered different results. */
    RESULT,
    /** The two answered the same, but what can be observed differs. */
    VIEW,
    /** The implementation answered an out-of-memory failure but changed something. */
    EXHAUSTION,
    /** The implementation's own structures are inconsistent (checkInvariants). */
    INVARIANT,
    /** The implementation threw instead of answering. */
    CRASH
  }

  private final Kind kind;
  private final transient Op op;
  private final long step;
  private final String detail;

  public Divergence(Kind kind, Op op, long step, String detail, Throwable cause) {
    super(kind + " at operation " + step + " (" + op + "): " + detail, cause);
    this.kind = kind;
    this.op = op;
    this.step = step;
    this.detail = detail;
  }

  /** What differed, without the kind and the operation: {@code model 42, implementation 7}. */
  public String detail() {
    return detail;
  }

  public Kind kind() {
    return kind;
  }

  public Op op() {
    return op;
  }

  /** The 0-based index of the operation in the run. */
  public long step() {
    return step;
  }
}
