package org.vmoracle.checks.sched;

import java.util.List;
import java.util.Optional;
import java.util.concurrent.locks.LockSupport;
import org.vmoracle.impl.phys.PhysMem;
import org.vmoracle.impl.sched.Sched;

/**
 * Runs a few bodies on threads of their own, one at a time, switching between them only at the
 * implementation's scheduling points ({@link Sched}) as a {@link Strategy} chooses: controlled
 * scheduling, so that a race needs the right choices rather than luck, and the same choices give
 * the same run.
 *
 * <h2>Overview</h2>
 *
 * Each body runs on a {@link Worker}, a {@link Sched.Controlled} thread. A baton, {@link #running},
 * names the one thread allowed to run; every other one is parked, either before its first step or
 * inside {@code Sched.point}. At each point the runner records the step, asks the chooser which
 * thread goes on and, if it is another, hands the baton over and parks. A thread that ends hands
 * the baton to the chooser's pick among the live ones; the last one wakes the caller of {@link
 * #run}.
 *
 * <p>A point reached by a spin-wait's turn ({@link Sched#waiting}) marks its thread as waiting: the
 * chooser is offered only threads that are not, unless every live thread waits (then all, and after
 * {@link #DEADLOCK_TURNS} such turns in a row the run is a deadlock). Any step that is not a wait
 * may have changed what the waiters wait for, so it clears every mark.
 *
 * <h2>Concurrency</h2>
 *
 * Only the baton holder reads or writes the scheduler's state ({@code schedule}, {@code steps}, the
 * marks), and the hand-over is a volatile write of {@code running} followed by an unpark, read by
 * the next runner's volatile read of {@code running}: so each runner sees all its predecessors did.
 * {@code aborted} and {@code failure} are volatile and may be set by the caller's watchdog.
 *
 * <h2>Invariants</h2>
 *
 * At most one worker runs outside {@code awaitTurn} at any time, except after an abort (then every
 * worker throws {@link Aborted} at its next point and the implementation is not used again).
 */
public final class Scheduler {

  /** How a replay's failure begins when the run took other steps than the schedule recorded. */
  public static final String DIVERGED = "the schedule replayed ";

  /** Longest a run may take before it counts as a hang: points reached. */
  public static final int STEP_LIMIT = 2_000_000;

  /** Turns in a row with every live thread waiting before the run counts as a deadlock. */
  static final int DEADLOCK_TURNS = 100_000;

  /** Longest the caller waits for the runner to reach its next point or end: a hang outside. */
  static final long STALL_NANOS = 20_000_000_000L;

  /**
   * What a run gave: its schedule, the points at which the strategy chose (PCT's steps: every point
   * but the reads, {@link #preemptible}), and why it was given up, if it was.
   */
  public record Run(Schedule schedule, int choicePoints, Optional<String> failure) {}

  /** Thrown in a worker at its next point once the run is given up. */
  public static final class Aborted extends Error {
    private static final long serialVersionUID = 1L;

    Aborted() {
      super("the controlled run was given up", null, false, false);
    }
  }

  private final Worker[] workers;
  private final Strategy.Chooser chooser;
  private final int[] replay; // the choices to follow, or null
  private final Schedule schedule = new Schedule();
  private final boolean[] runnable;
  private volatile int running = -1; // the baton: the worker that may run; -2 when all ended
  private volatile boolean aborted;
  private volatile String failure;
  private final Thread caller;
  private int steps; // points reached, ends included: the index of a replay's choices
  private int choicePoints; // points at which the strategy chose: the steps strategies count
  private int waitTurns;

  private Scheduler(
      List<? extends Body> bodies, Strategy.Chooser chooser, int[] replay, String name) {
    this.chooser = chooser;
    this.replay = replay;
    this.caller = Thread.currentThread();
    this.workers = new Worker[bodies.size()];
    this.runnable = new boolean[bodies.size()];
    for (int i = 0; i < workers.length; i++) {
      workers[i] = new Worker(this, i, bodies.get(i), name + "-t" + i);
    }
  }

  /** A body: runs on worker {@code t}, telling it which operation it is in. */
  public interface Body {
    void run(Worker t);
  }

  /**
   * Runs {@code bodies} under {@code strategy} (not free, not a portfolio: {@link Strategy#forRun})
   * from {@code seed}, with PCT's K or round robin's range {@code expectedSteps}. Returns when
   * every body has ended, or the run was given up (a hang, a deadlock, a stall: then {@link
   * Run#failure} says which). A body's exception is its own business: bodies catch what they must
   * report.
   */
  public static Run run(
      List<? extends Body> bodies, Strategy strategy, long seed, int expectedSteps, String name) {
    Strategy.Chooser c = strategy.chooser(bodies.size(), seed, expectedSteps);
    return new Scheduler(bodies, c, null, name).go();
  }

  /** Runs {@code bodies} following {@code choices} ({@link Schedule#choices}) exactly. */
  public static Run replay(List<? extends Body> bodies, int[] choices, String name) {
    return new Scheduler(bodies, null, choices, name).go();
  }

  private Run go() {
    for (Worker w : workers) {
      w.start();
    }
    int first = pick(0, -1);
    schedule.first(first);
    handTo(first);
    int last = -3;
    long lastSteps = -1;
    long since = System.nanoTime();
    while (running != -2 && !aborted) {
      LockSupport.parkNanos(this, 50_000_000L);
      int now = steps; // a racy read for the watchdog only
      if (now != lastSteps || running != last) {
        lastSteps = now;
        last = running;
        since = System.nanoTime();
      } else if (System.nanoTime() - since > STALL_NANOS) {
        abort(
            "thread t"
                + last
                + " ran "
                + STALL_NANOS / 1_000_000_000L
                + " s without reaching a scheduling point: a hang outside the points");
      }
    }
    if (aborted) {
      for (Worker w : workers) {
        LockSupport.unpark(w);
      }
      for (Worker w : workers) {
        try {
          w.join(1_000);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          break;
        }
      }
    }
    return new Run(schedule, choicePoints, Optional.ofNullable(failure));
  }

  private void abort(String why) {
    if (failure == null) {
      failure = why;
    }
    aborted = true;
    LockSupport.unpark(caller);
  }

  /** The next runner after step {@code step} of {@code current} (-1 before any step). */
  private int pick(int step, int current) {
    int live = 0;
    int notWaiting = 0;
    for (Worker w : workers) {
      live += w.done ? 0 : 1;
      notWaiting += !w.done && !w.waiting ? 1 : 0;
    }
    if (live == 0) {
      return -2;
    }
    for (int i = 0; i < workers.length; i++) {
      runnable[i] = !workers[i].done && (notWaiting == 0 || !workers[i].waiting);
    }
    if (replay != null) {
      if (step >= replay.length) {
        abort(DIVERGED + "ends at point " + replay.length + ", but the run goes on");
        return -2;
      }
      int r = replay[step];
      if (r < 0 || r >= workers.length || !runnable[r]) {
        abort(
            DIVERGED
                + "chooses t"
                + r
                + " after point "
                + step
                + ", which cannot run there: the implementation took other steps than when the"
                + " schedule was recorded");
        return -2;
      }
      return r;
    }
    return chooser.next(step, current, runnable);
  }

  private void handTo(int next) {
    running = next;
    if (next >= 0) {
      LockSupport.unpark(workers[next]);
    } else {
      LockSupport.unpark(caller);
    }
  }

  /**
   * Turns a thread waiting for the baton spins before it parks: a hand-over then costs a cache-line
   * transfer instead of a wake-up through the operating system (tens of microseconds).
   */
  private static final int SPINS = 100;

  private void awaitTurn(Worker me) {
    for (int i = 0; i < SPINS && running != me.index; i++) {
      Thread.onSpinWait();
    }
    while (running != me.index) {
      if (aborted) {
        throw new Aborted();
      }
      LockSupport.park(this);
    }
    if (aborted) {
      throw new Aborted();
    }
  }

  /**
   * The steps at which a strategy may switch threads: every step that changes shared state or
   * synchronizes, and waits. At a read of a PTE or of user data the runner always goes on: a read
   * races only with the writes around it, and switching at reads too would spread a strategy's
   * switches (PCT's few change points, round robin's preemptions) over steps where a switch shows
   * nothing; the writes, busy bits and locks before and after a read are switch points of their
   * own.
   */
  static boolean preemptible(Sched.Step s) {
    return s != Sched.Step.PTE_READ && s != Sched.Step.LOAD;
  }

  /** A point reached by {@code me}, the runner. */
  void reached(Worker me, Sched.Step step, long arg, boolean waiting) {
    if (aborted) {
      throw new Aborted();
    }
    steps++;
    if (!waiting && !preemptible(step) && replay == null && steps <= STEP_LIMIT) {
      schedule.add(me.index, me.op, step, arg, false, me.index);
      return; // a read: the runner goes on (its marks are as they were)
    }
    choicePoints++;
    if (waiting) {
      me.waiting = true;
      boolean all = true;
      for (Worker w : workers) {
        all &= w.done || w.waiting;
      }
      waitTurns = all ? waitTurns + 1 : 0;
      if (waitTurns > DEADLOCK_TURNS) {
        abort("every thread has waited " + DEADLOCK_TURNS + " turns in a row: a deadlock");
        throw new Aborted();
      }
    } else {
      waitTurns = 0;
      for (Worker w : workers) {
        w.waiting = false;
      }
    }
    if (steps > STEP_LIMIT) {
      abort("the run reached " + STEP_LIMIT + " scheduling points without ending: a hang");
      throw new Aborted();
    }
    int next = pick(replay != null ? steps : choicePoints, me.index);
    schedule.add(me.index, me.op, step, arg, waiting, next);
    if (next == me.index) {
      return;
    }
    if (next < 0) {
      throw new Aborted(); // the replay was given up
    }
    handTo(next);
    awaitTurn(me);
  }

  /** Called by {@code me} when its body has ended, normally or not. */
  void ended(Worker me) {
    me.done = true;
    if (aborted) {
      return;
    }
    steps++; // an end is a choice like a point's, recorded so that a replay makes it too
    choicePoints++;
    int next = pick(replay != null ? steps : choicePoints, me.index);
    schedule.add(me.index, me.op, null, 0, false, next);
    handTo(next);
  }

  /**
   * The home-stripe token of the thread that sets a controlled run up (PhysMem.pinHomeStripe);
   * worker {@code i} has {@code SETUP_HOME + 1 + i}.
   */
  private static final int SETUP_HOME = 0;

  /**
   * Pins the calling thread's home stripe for setting up a controlled run (its setup, preludes,
   * sequential remakes): with the workers' pins, a schedule then takes the same frames each time it
   * replays, whatever threads the JVM made before (PhysMem.pinHomeStripe). No requirements.
   */
  public static void pinSetupThread() {
    PhysMem.pinHomeStripe(SETUP_HOME);
  }

  /** A thread of a controlled run. */
  public static final class Worker extends Sched.Controlled {
    private final Scheduler owner;
    final int index;
    private final Body body;
    volatile boolean done;
    boolean waiting; // under the baton
    int op = -1; // under the baton: the operation the body is in, for the schedule

    Worker(Scheduler owner, int index, Body body, String name) {
      super(null, name);
      this.owner = owner;
      this.index = index;
      this.body = body;
    }

    /** The worker's place among the run's threads, from 0. */
    public int index() {
      return index;
    }

    /** Tells the schedule that this thread now runs operation {@code n} (from 0). */
    public void operation(int n) {
      op = n;
    }

    @Override
    public void run() {
      PhysMem.pinHomeStripe(SETUP_HOME + 1 + index); // see pinSetupThread
      try {
        owner.awaitTurn(this);
        body.run(this);
      } catch (Aborted e) {
        // given up: nothing to do but end
      } finally {
        owner.ended(this);
      }
    }

    @Override
    protected void reached(Sched.Step step, long arg, boolean waiting) {
      owner.reached(this, step, arg, waiting);
    }
  }
}
