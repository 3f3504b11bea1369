package org.vmoracle.checks.diff;

/**
 * When the checks of a run (the implementation's invariants, and with {@link Lockstep} the two
 * views) come, once they are not after every operation: at least {@code base} operations apart, and
 * further apart once checking has cost a lot, so that it does not swamp running. A check walks the
 * whole state (every non-zero word of every process, every PTE), an operation a few of its parts: a
 * view costs about 1 µs a word here, an operation of model and implementation together a few. The
 * first {@link #FREE_WORK} words of checking come every {@code base} operations, so a trace a
 * person writes is checked at every step; after that a check of W words is spaced W / {@link
 * #WORK_PER_STEP} operations from the next, so checking costs a few times what running does, not
 * hundreds. A 1,000-deep fork chain (views of a thousand processes) then checks a few dozen times
 * instead of two thousand.
 *
 * <p>The spacing depends only on the operations and the states they reach, never on the clock, so a
 * replay finds a difference at the same check every time. Not thread-safe.
 */
public final class Spacing {

  /**
   * Words (and mappings) a check looks at, per operation it is spaced from the next once checking
   * is no longer free: with a word costing about a quarter of an operation, checks then cost about
   * four times what the operations between them do.
   */
  public static final long WORK_PER_STEP = 16;

  /** Words of checking done at every {@code base} operations before checks space out: about 4 s. */
  public static final long FREE_WORK = 4_000_000;

  /** Most operations between two checks, however large the state. */
  public static final long MAX_GAP = 1_000_000;

  private final int base;
  private long next;
  private long spent;
  private boolean everyStep; // every check so far came right after the one before

  /** Checks at least {@code base} (at least 1) operations apart, more on a large state. */
  public Spacing(int base) {
    if (base < 1) {
      throw new IllegalArgumentException("checks at least " + base + " operations apart");
    }
    this.base = base;
    this.next = base - 1;
    this.everyStep = base == 1;
  }

  /** Whether a check is due after 0-based step {@code step}. */
  boolean due(long step) {
    return step >= next;
  }

  /** A check ran after step {@code step} on a state of {@code work} words and mappings. */
  void checked(long step, long work) {
    spent += work;
    long gap = spent < FREE_WORK ? base : Math.max(base, Math.min(MAX_GAP, work / WORK_PER_STEP));
    next = step + gap;
    everyStep &= gap == 1;
  }

  /**
   * Whether every check so far came right after the operation before it was due, so that a
   * difference a check finds arose at the operation it names. No requirements.
   */
  public boolean everyStep() {
    return everyStep;
  }

  /** The least gap between checks. */
  public int base() {
    return base;
  }
}
