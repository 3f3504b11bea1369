package org.vmoracle.impl.rmap;

import java.util.concurrent.atomic.AtomicIntegerArray;
import org.vmoracle.impl.sched.Sched;
import org.vmoracle.impl.sync.StripedCounter;

/**
 * One spin lock per frame, a bit each, as Linux 2.5's {@code PG_chainlock} and FreeBSD's pv-list
 * locks: the per-page lock of the reverse maps that keep records (pv entries, pte chains). Every
 * acquisition is counted ({@link #acquisitions}): what experiment E1 compares across designs.
 *
 * <p>Concurrency: {@link #lock} is a compare-and-set with acquire semantics, {@link #unlock} a
 * release store, so what one holder wrote under the lock the next holder sees. Not reentrant; a
 * holder takes no other page's lock (no lock order to keep), and never waits for anything while it
 * holds one.
 */
final class PageLocks {
  private final AtomicIntegerArray bits; // (a) 1 while held
  private final StripedCounter acquisitions = new StripedCounter(); // (a) statistics only

  PageLocks(int frames) {
    this.bits = new AtomicIntegerArray(frames);
  }

  /** Takes frame {@code f}'s lock, spinning while another thread holds it, and counts it. */
  void lock(int f) {
    Sched.point(Sched.Step.RMAP, f);
    while (!bits.compareAndSet(f, 0, 1)) {
      Sched.waiting(Sched.Step.RMAP, f);
    }
    acquisitions.increment();
  }

  /** Releases frame {@code f}'s lock, which the caller holds. */
  void unlock(int f) {
    assert bits.get(f) == 1 : "PageLocks.unlock: frame " + f + "'s lock is not held";
    bits.set(f, 0);
  }

  /** Whether someone holds frame {@code f}'s lock: for assertions and the checker. */
  boolean held(int f) {
    return bits.get(f) != 0;
  }

  /** Acquisitions so far, over every frame. */
  long acquisitions() {
    return acquisitions.sum();
  }

  /** Frames covered. */
  int frames() {
    return bits.length();
  }
}
