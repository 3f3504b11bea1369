package org.vmoracle.impl.sync;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;

/**
 * A counter for the fault path that costs no atomic instruction: each thread adds to a stripe of
 * its own with a plain read and an opaque write. {@link java.util.concurrent.atomic.LongAdder}
 * compare-and-sets its base on every add until it sees contention; here there is none to pay.
 *
 * <p>Concurrency: two threads whose ids fall on the same stripe may lose an increment to each
 * other, so the sum is exact for one thread and may undercount slightly with many (legend (a):
 * opaque only). It is a statistic, never used for a decision.
 */
public final class StripedCounter {
  private static final int STRIPES = 64;
  private static final int PAD = 16; // longs: 128 bytes between stripes
  private static final VarHandle CELLS = MethodHandles.arrayElementVarHandle(long[].class);

  private final long[] cells = new long[STRIPES * PAD];

  /** Adds one. No requirements. */
  public void increment() {
    int i = ((int) Thread.currentThread().getId() & (STRIPES - 1)) * PAD;
    CELLS.setOpaque(cells, i, (long) CELLS.getOpaque(cells, i) + 1);
  }

  /** The sum of every stripe. No requirements. */
  public long sum() {
    long s = 0;
    for (int i = 0; i < cells.length; i += PAD) {
      s += (long) CELLS.getOpaque(cells, i);
    }
    return s;
  }
}
