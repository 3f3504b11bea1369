package org.vmoracle.impl.sync;

import java.util.concurrent.atomic.AtomicLongArray;
import java.util.concurrent.locks.ReentrantLock;
import java.util.concurrent.locks.ReentrantReadWriteLock;
import org.vmoracle.impl.sched.Sched;
import org.vmoracle.impl.sched.Sched.Step;

/**
 * A readers-writer lock whose readers touch only their own cache line: the map lock of the
 * implementation, taken shared by every fault and access and exclusive by every change.
 *
 * <h2>Overview</h2>
 *
 * Readers count themselves in one of {@code STRIPES} padded counters, chosen per thread; a writer
 * raises a flag and waits for every counter to drain, like Linux's per-CPU rw-semaphore. Two
 * threads faulting in one address space thus share no written cache line here (seed 000:
 * "essentially no SMP lock contention"). With {@code scalable == false} it is a plain {@link
 * ReentrantReadWriteLock} (the kill switch).
 *
 * <h2>Concurrency</h2>
 *
 * Dekker's handshake: a reader increments its stripe (a volatile read-modify-write) and then reads
 * {@code writer}; a writer sets {@code writer} (volatile) and then reads every stripe. Under the
 * JMM's sequential consistency for volatiles one of them sees the other, so a reader never enters
 * while a writer holds the lock. A reader that sees the flag backs out and waits. Writers are
 * serialized by {@code writers}. Not reentrant for writers taking the read side: code that runs
 * under the write lock must not call {@link #readLock()}.
 *
 * <h2>Invariants</h2>
 *
 * While a writer holds the lock, every stripe is 0 and {@code writer} is true.
 */
public final class ScalableRwLock {

  /** Stripes: a power of two, enough that threads rarely share one. */
  private static final int STRIPES = 64;

  /** Spins before a waiting writer yields: about a microsecond, longer than most faults. */
  private static final int SPINS = 256;

  /** Longs between two stripes' counters: 128 bytes, two cache lines, against false sharing. */
  private static final int PAD = 16;

  private final boolean scalable;
  private final boolean broken; // (c) injected bug UNLOCKED_FAULTS: readers ignore the writer
  private final AtomicLongArray readers = new AtomicLongArray(STRIPES * PAD); // (a)
  private volatile boolean writer; // (a) set only by the holder of writers
  private final ReentrantLock writers = new ReentrantLock();
  private final ReentrantReadWriteLock plain = new ReentrantReadWriteLock();

  public ScalableRwLock(boolean scalable) {
    this(scalable, false);
  }

  /** With {@code broken}, readers do not wait for a writer: the injected bug UNLOCKED_FAULTS. */
  public ScalableRwLock(boolean scalable, boolean broken) {
    this.scalable = scalable;
    this.broken = broken;
  }

  /**
   * The calling thread's stripe: its id spreads consecutive threads over different stripes without
   * a thread-local lookup (two threads can share one; that costs a bounce, never correctness).
   */
  private static int home() {
    return ((int) Thread.currentThread().getId() & (STRIPES - 1)) * PAD;
  }

  /** Takes the lock shared and answers a token for {@link #readUnlock(int)}. No requirements. */
  public int readLock() {
    Sched.point(Step.LOCK, 0);
    if (!scalable) {
      if (!broken) {
        take(plain.readLock());
      }
      return 0;
    }
    int slot = home();
    boolean controlled = Sched.controlled();
    while (true) {
      readers.incrementAndGet(slot); // linearization point when writer is then seen false
      if (!writer || broken) {
        return slot;
      }
      readers.decrementAndGet(slot); // a writer is in or coming: back out and wait
      while (writer) {
        if (controlled) {
          Sched.waiting(Step.LOCK, 0);
        } else {
          Thread.onSpinWait();
          if (writers.isLocked()) {
            Thread.yield();
          }
        }
      }
    }
  }

  /**
   * Takes {@code l}, by {@code tryLock} turns in a thread a scheduler controls ({@link Sched}: the
   * holder may be stopped at a point, and only a turn lets it run on).
   */
  private static void take(java.util.concurrent.locks.Lock l) {
    if (!Sched.controlled()) {
      l.lock();
      return;
    }
    while (!l.tryLock()) {
      Sched.waiting(Step.LOCK, 1);
    }
  }

  /** Releases the shared lock; {@code token} is what {@link #readLock()} answered. */
  public void readUnlock(int token) {
    if (!scalable) {
      if (!broken) {
        plain.readLock().unlock();
      }
    } else {
      readers.decrementAndGet(token);
    }
    Sched.point(Step.UNLOCK, 0);
  }

  /** Takes the lock exclusive. The caller holds it in neither mode. */
  public void writeLock() {
    Sched.point(Step.LOCK, 1);
    if (!scalable) {
      take(plain.writeLock());
      return;
    }
    take(writers);
    writer = true;
    boolean controlled = Sched.controlled();
    for (int i = 0; i < STRIPES; i++) {
      for (int spins = 0; readers.get(i * PAD) != 0; spins++) {
        // A reader holds the lock for one fault or access: spin briefly, then give the CPU
        // away, so that a reader that was descheduled can finish (2 cores, more threads).
        if (controlled) {
          Sched.waiting(Step.LOCK, 1);
        } else if (spins < SPINS) {
          Thread.onSpinWait();
        } else {
          Thread.yield();
        }
      }
    }
  }

  /** Releases the exclusive lock. The caller holds it exclusive. */
  public void writeUnlock() {
    if (!scalable) {
      plain.writeLock().unlock();
    } else {
      writer = false;
      writers.unlock();
    }
    Sched.point(Step.UNLOCK, 1);
  }

  /**
   * Turns the caller's exclusive hold into a shared one, letting readers in, and answers the token
   * for {@link #readUnlock(int)}. No writer can come between: the caller counts itself as a reader
   * while it still holds {@code writers} and {@code writer} is still raised, so the next writer
   * waits for its stripe to drain. The caller holds the lock exclusive.
   */
  public int downgrade() {
    if (!scalable) {
      if (!broken) {
        plain.readLock().lock(); // ReentrantReadWriteLock lets its writer take the read lock
      }
      plain.writeLock().unlock();
      Sched.point(Step.UNLOCK, 2);
      return 0;
    }
    int slot = home();
    readers.incrementAndGet(slot);
    writer = false;
    writers.unlock();
    Sched.point(Step.UNLOCK, 2);
    return slot;
  }

  /** Whether the current thread holds the lock exclusive. */
  public boolean heldExclusively() {
    return scalable ? writers.isHeldByCurrentThread() : plain.isWriteLockedByCurrentThread();
  }
}
