package org.vmoracle.checks.diff;

/**
 * When the checks of a run (the implementation's invariants, and with {@link Lockstep} the two
 * views) come, once they are not after every operation: at least {@code base} operations apart, and
 * further apart as the state grows, so that checking does not swamp running. A check walks the
 * whole state (every non-zero word of every process, every PTE), an operation a few of its parts:
 * on a state of W words a check costs about what W / {@link #WORK_PER_STEP} operations do, and is
 * spaced that far from the next. A 1,000-deep fork chain then checks a handful of times instead of
 * two thousand, and a trace of a few small processes still every step or nearly.
 *
 * <p>The spacing depends only on the operations and the states they reach, never on the clock, so a
 * replay finds a difference at the same check every time. Not thread-safe.
 */
public final class Spacing {

  /**
   * Words (and mappings) of state a check looks at, per operation it is spaced from the next: about
   * the ratio of a word's cost in a view to an operation's (a view costs about 1 µs a word here, an
   * operation of model and implementation together a few µs).
   */
  public static final long WORK_PER_STEP = 1024;

  /** Most operations between two checks, however large the state. */
  public static final long MAX_GAP = 1_000_000;

  private final int base;
  private long next;

  /** Checks at least {@code base} (at least 1) operations apart, more on a large state. */
  public Spacing(int base) {
    if (base < 1) {
      throw new IllegalArgumentException("checks at least " + base + " operations apart");
    }
    this.base = base;
    this.next = base - 1;
  }

  /** Whether a check is due after 0-based step {@code step}. */
  boolean due(long step) {
    return step >= next;
  }

  /** A check ran after step {@code step} on a state of {@code work} words and mappings. */
  void checked(long step, long work) {
    next = step + Math.max(base, Math.min(MAX_GAP, work / WORK_PER_STEP));
  }

  /** The least gap between checks. */
  public int base() {
    return base;
  }
}
