package org.vmoracle.impl.pmap;

import java.util.concurrent.atomic.LongAdder;

/**
 * A count whose {@link #upperBound()} is, even while other threads change it, at least the count at
 * some moment during the call, and exact when no change is in flight. Pmap's resident, wired and
 * table counts are these (its Concurrency essay).
 *
 * <p>Why not one {@link LongAdder}: its {@code sum()} reads the cells one after another, so a sum
 * can see a decrement in a late cell and miss the increment that came before it in an early cell.
 * Two threads that fill and remove the same leaf, each in its own cell, can then make one sum fall
 * below the true count by one per fill and removal done while the sum runs, without bound. The
 * removeRange fast path ("resident == the top-level page means nothing to remove") would then skip
 * a leaf.
 *
 * <p>The cure: keep the additions and the subtractions in two adders that only grow, and read the
 * subtractions first. Call the moment between the two reads m. Every subtraction the first read saw
 * was made after its addition (a change adds before its CAS and subtracts after it, and a removal's
 * CAS reads the value of the fill's CAS), so that addition came before m and the second read sees
 * it: nothing the first read counted is missing from the second. A unit that is counted at m was
 * added before m, so the second read sees it, and taken off, if at all, after m, so the first read
 * did not see that. So up - down is at least the count at m. Both halves are the cheap, uncontended
 * cells of a LongAdder, as one adder was (seed 000: no shared line per fault).
 *
 * <p>Thread-safe; no locks.
 */
final class SplitCount {
  private final LongAdder up = new LongAdder(); // only ever grows
  private final LongAdder down = new LongAdder(); // only ever grows

  /** Adds {@code n}, which may be negative or 0 (then nothing happens). */
  void add(long n) {
    if (n > 0) {
      up.add(n);
    } else if (n < 0) {
      down.add(-n);
    }
  }

  void increment() {
    up.increment();
  }

  void decrement() {
    down.increment();
  }

  /**
   * At least the count at one moment during this call (see the class comment); exact when no change
   * is in flight. Volatile reads.
   */
  long upperBound() {
    long d = down.sum(); // first: see the class comment
    return up.sum() - d;
  }
}
