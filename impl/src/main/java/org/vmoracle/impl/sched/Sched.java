package org.vmoracle.impl.sched;

/**
 * Named scheduling points: the implementation's shared-memory steps, where a controlled scheduler
 * may stop the calling thread and run another (DESIGN.md, "Concurrency checks").
 *
 * <h2>Overview</h2>
 *
 * Each step that another thread could observe or race calls {@link #point(Step, long)} just before
 * it happens: a PTE read or write, a busy bit taken or let go, the map lock taken or let go, a page
 * put into an object, a copy or a fill of a frame, a load or store of user data, a reverse-map
 * record made or removed. A loop that waits for another thread calls {@link #waiting(Step, long)}
 * at each turn instead, so that a scheduler knows the thread cannot go on by itself.
 *
 * <p>Outside a controlled run the points cost one read of the current thread and one type test:
 * only threads that are {@link Controlled} are ever stopped, so the free-running hunt, the
 * benchmarks and every other caller run as before. A controlled run starts its threads as
 * subclasses of {@link Controlled}; the scheduler behind them (in {@code checks}) lets exactly one
 * run between two points and chooses which.
 *
 * <h2>Concurrency</h2>
 *
 * Nothing here is shared: the scheduler is reached through the calling thread. The hand-over of
 * control between controlled threads is the scheduler's, and it orders everything one thread did
 * before a point before everything the next thread does after it (park and unpark through a
 * volatile field), so a controlled run is sequentially consistent at the granularity of points.
 *
 * <h2>Invariants</h2>
 *
 * A point never changes the implementation's state, and a thread stopped at a point holds whatever
 * it held before it: busy bits, the map lock, a page's list lock. A wait must therefore be a loop
 * that re-checks its condition after each {@link #waiting}: every wait in the implementation spins
 * rather than blocks, and {@code ScalableRwLock} takes its JDK locks by {@code tryLock} turns in a
 * controlled thread. A JDK lock held across no point ({@code Swap}'s) needs nothing: its holder is
 * never stopped while it holds it.
 */
public final class Sched {
  private Sched() {}

  /** The kinds of step, for schedules that people read. */
  public enum Step {
    /** The map lock is about to be taken shared (arg 0) or exclusive (arg 1). */
    LOCK,
    /** The map lock was just let go (arg 0 shared, 1 exclusive, 2 downgraded to shared). */
    UNLOCK,
    /** A PTE or table entry is about to be read (arg: frame of the table, shifted, plus index). */
    PTE_READ,
    /** A PTE or table entry is about to be written or compared-and-set (arg as PTE_READ). */
    PTE_WRITE,
    /** A frame's busy bit is about to be taken (arg: frame). */
    BUSY,
    /** A frame's busy bit is about to be let go (arg: frame). */
    UNBUSY,
    /** An object's page slot is about to be looked up, put, replaced or removed (arg: index). */
    PAGE,
    /** A frame is about to be copied into another, a copy-on-write's copy (arg: target frame). */
    COPY,
    /** A frame is about to be zeroed or filled from swap or a file (arg: frame). */
    FILL,
    /** User data is about to be loaded (arg: frame). */
    LOAD,
    /** User data is about to be stored (arg: frame). */
    STORE,
    /** A copy-on-write front is about to be pushed onto a chain (arg: the chain's length). */
    SHADOW,
    /** A reverse-map record is about to be made or removed (arg: frame). */
    RMAP,
    /** A spin-wait's turn: the thread cannot go on until another one moves (arg: what it waits). */
    WAIT;

    /** The step's name as schedules print it: {@code pte-write}. */
    public String word() {
      return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
  }

  /**
   * A thread whose points a scheduler controls. Subclasses (in {@code checks}) decide, at each
   * point, which thread runs next; the implementation only calls {@link #point} and {@link
   * #waiting}.
   */
  public abstract static class Controlled extends Thread {
    protected Controlled(Runnable body, String name) {
      super(body, name);
      setDaemon(true); // one stuck in a broken implementation must not keep the JVM up
    }

    /**
     * The scheduler's decision at a point: returns when this thread may go on. {@code waiting} is
     * true for a spin-wait's turn ({@link Sched#waiting}). Called only by this thread.
     */
    protected abstract void reached(Step step, long arg, boolean waiting);
  }

  /**
   * A scheduling point: {@code step} is about to happen, on {@code arg} (a frame, an index; see
   * {@link Step}). Free outside a controlled thread. No requirements.
   */
  public static void point(Step step, long arg) {
    Thread t = Thread.currentThread();
    if (t instanceof Controlled) {
      ((Controlled) t).reached(step, arg, false);
    }
  }

  /**
   * One turn of a spin-wait for {@code what} (a {@link Step} with its argument): lets a controlled
   * scheduler run another thread, and gives the processor away otherwise ({@link
   * Thread#onSpinWait}). No requirements.
   */
  public static void waiting(Step what, long arg) {
    Thread t = Thread.currentThread();
    if (t instanceof Controlled) {
      ((Controlled) t).reached(what, arg, true);
    } else {
      Thread.onSpinWait();
    }
  }

  /** Whether the calling thread is controlled: it must not block on a JDK lock. */
  public static boolean controlled() {
    return Thread.currentThread() instanceof Controlled;
  }
}
