package org.vmoracle.impl.phys;

import java.util.concurrent.atomic.AtomicInteger;
import org.vmoracle.impl.sched.Sched;

/**
 * munmap's reclaim announcement: the number of threads that are freeing frames no one can reach any
 * more while holding no lock, so that an allocation that finds the pool empty, and the frame
 * walkers, wait for those frames instead of missing them. One part of {@link PhysMem}, which is the
 * only class that holds one; the public contracts are on PhysMem's beginReclaim, endReclaim and
 * awaitReclaims.
 */
final class Reclaims {
  /*
   * Overview:
   * ---------
   * The second half of an munmap frees its frames under no lock. Its caller announces it with
   * begin() before it lets go of the lock under which the frames became unreachable, and ends it
   * with end() once all are freed. An allocation that finds every stripe empty while a reclaim is
   * in flight waits for it and tries again (PhysMem.allocate), so that "no frame" is never
   * answered for frames on their way back; the implementation's frame walkers (pageout's clock,
   * the invariant checker) wait for reclaims too, after taking the map lock exclusive, which
   * keeps new ones from starting.
   *
   * Concurrency:
   * ------------
   * One AtomicInteger, changed by volatile incrementAndGet and decrementAndGet and read by
   * volatile get. A waiter sees zero only after every end() before it, and with it every free
   * that reclaim did (each free's push CAS comes before its end()). await() spins with
   * Thread.yield(): a reclaim holds no lock and waits for nothing, so it ends.
   *
   * Invariants:
   * -----------
   * None of I1-I5. The count is the number of begun and not yet ended reclaims, so never
   * negative, provided every end() follows a begin() of the same caller; that is the caller's to
   * keep (ImplVm's second half of munmap pairs them in a finally), not checked here.
   *
   * Lock order: none held here; await() is called under the exclusive map lock, which a reclaim
   * never waits for.
   */

  private final AtomicInteger inFlight = new AtomicInteger(); // (a) reclaims in flight

  /** Announces a reclaim, volatile increment. See {@link PhysMem#beginReclaim}. */
  void begin() {
    inFlight.incrementAndGet();
  }

  /** Ends a reclaim, volatile decrement. See {@link PhysMem#endReclaim}. */
  void end() {
    inFlight.decrementAndGet();
  }

  /** Whether any reclaim is in flight, volatile load. No requirements. */
  boolean any() {
    return inFlight.get() != 0;
  }

  /** Waits until no reclaim is in flight. See {@link PhysMem#awaitReclaims}. */
  void await() {
    while (inFlight.get() != 0) {
      // A reclaim frees a frame in tens of nanoseconds; 2 cores may run 3 threads.
      if (Sched.controlled()) {
        Sched.waiting(Sched.Step.WAIT, 0);
      } else {
        Thread.yield();
      }
    }
  }
}
