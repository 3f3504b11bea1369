package org.vmoracle.checks.lin;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Predicate;
import org.vmoracle.checks.sched.Scheduler;
import org.vmoracle.checks.sched.Strategy;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.model.Model;
import org.vmoracle.model.Outcome;
import org.vmoracle.model.State;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.View;
import org.vmoracle.spec.trace.TraceLine;

/**
 * Replays a {@link HistoryFile.History} in two ways:
 *
 * <ul>
 *   <li>{@link #check}: the recorded history, checked again for linearizability against the model
 *       ({@link Linearizability}), deterministically: the setup from boot, then an order of the
 *       calls, then the end lines and the view digest. A history the model could not linearize
 *       fails again, every time.
 *   <li>{@link #rerun}: the same threads' operations run again on a fresh implementation of the
 *       file's configuration (its injected bugs on), after the setup, as the concurrent hunt runs a
 *       burst; each new history is checked as the hunt checks one (the implementation's own view as
 *       the end state to reach, then its invariants). Races come back only sometimes: a rerun tells
 *       how often, not whether.
 * </ul>
 *
 * <p>Not thread-safe: one replay at a time (reruns start threads of their own).
 */
public final class HistoryReplay {
  private HistoryReplay() {}

  /**
   * What checking the recorded history said.
   *
   * @param linearizable whether some order explains it
   * @param why what failed, in words; for a linearizable history, one order that explains it
   */
  public record Verdict(boolean linearizable, String why) {}

  /** Checks the recorded history for linearizability against the model. No requirements. */
  public static Verdict check(HistoryFile.History h) {
    State s = Model.boot();
    for (TraceLine l : h.setup().lines()) {
      Outcome o = Model.step(s, l.op());
      if (l.expect().isPresent() && !l.expect().get().equals(o.result())) {
        return new Verdict(
            false,
            String.format(
                "%s:%d: the setup expects %s, the model answers %s (%s)",
                h.source(), l.line(), l.expect().get(), o.result(), l.op()));
      }
      s = o.state();
    }
    Predicate<State> accept =
        end -> {
          if (h.endView().isPresent()
              && !h.endView().get().equals(HistoryFile.digest(Model.view(end)))) {
            return false;
          }
          State e = end;
          for (TraceLine l : h.end().lines()) {
            Outcome o = Model.step(e, l.op());
            if (!o.result().equals(l.expect().orElseThrow())) {
              return false;
            }
            e = o.state();
          }
          return true;
        };
    Linearizability.Verdict v = Linearizability.check(s, h.calls(), accept);
    String beyond = "";
    if (!v.linearizable() && h.endView().isPresent()) {
      HistoryFile.History without =
          new HistoryFile.History(
              h.source(),
              h.frames(),
              h.settings(),
              h.bugs(),
              h.seed(),
              Optional.empty(),
              h.setup(),
              h.calls(),
              h.threads(),
              h.end());
      if (check(without).linearizable()) {
        beyond = ": only the end view differs, beyond the words the calls touched";
      }
    }
    if (v.linearizable()) {
      StringBuilder order = new StringBuilder();
      for (Call c : v.order()) {
        order.append(order.length() == 0 ? "" : ", ").append('t').append(c.thread());
        order.append('#').append(c.index());
      }
      return new Verdict(true, "linearizable: " + (order.length() == 0 ? "no calls" : order));
    }
    return new Verdict(
        false,
        String.format(
            "not linearizable: no order of the %d calls gives the model's answers%s (%,d steps"
                + " tried)%s",
            h.calls().size(),
            h.endView().isPresent() || !h.end().lines().isEmpty() ? " and the end recorded" : "",
            v.explored(),
            beyond));
  }

  /**
   * What the reruns gave.
   *
   * @param runs reruns done
   * @param failed reruns whose history was not linearizable, or that broke an invariant, crashed or
   *     hung
   * @param first what the first failing rerun found; empty when none failed
   */
  public record Reruns(int runs, int failed, Optional<String> first) {}

  /** Longest a rerun's calls may take before the implementation counts as hung. */
  private static final long RERUN_LIMIT_SECONDS = 30;

  /**
   * Runs the history's threads again {@code n} times, each on a fresh implementation after the
   * setup. No requirements.
   */
  public static Reruns rerun(HistoryFile.History h, int n) {
    int failed = 0;
    Optional<String> first = Optional.empty();
    for (int r = 0; r < n; r++) {
      Optional<String> why = once(h);
      if (why.isPresent()) {
        failed++;
        first = first.isPresent() ? first : why;
      }
    }
    return new Reruns(n, failed, first);
  }

  /**
   * What a replay of the recorded schedule gave.
   *
   * @param failure what failed, as the hunt says it; empty when the replayed history was
   *     linearizable and the invariants held
   * @param lines the replayed schedule as people read it ({@link
   *     org.vmoracle.checks.sched.Schedule#lines})
   */
  public record Replayed(Optional<String> failure, List<String> lines) {}

  /**
   * Runs the history's threads again on a fresh implementation after the setup, one at a time,
   * making the choices of its schedule ({@link HistoryFile.History#schedule}): the same steps in
   * the same order as when the schedule was recorded, so the same finding, every time. A replay
   * whose implementation takes other steps than the recorded ones (it was changed, or is not
   * deterministic) says so as its failure.
   *
   * @throws IllegalArgumentException when the history has no schedule
   */
  public static Replayed replaySchedule(HistoryFile.History h) {
    int[] choices =
        h.schedule()
            .orElseThrow(
                () ->
                    new IllegalArgumentException(
                        h.source()
                            + " has no schedule (its 'schedule none' says the JVM ran the threads):"
                            + " vmoracle replay-history reruns it"))
            .choices();
    Controlled c = controlled(h, null, 0, choices);
    return new Replayed(c.failure(), c.lines());
  }

  /**
   * A controlled rerun of a history's threads.
   *
   * @param failure what failed, as the hunt says it; empty when all was well
   * @param calls the calls as they answered
   * @param choices the choices made (those followed, for a replay)
   * @param lines the schedule as people read it
   * @param end reads of what the calls touched, right after them ({@link ConcurrentHunt})
   * @param endView the implementation's view right after the calls; null when the setup failed or
   *     the run was given up
   */
  record Controlled(
      Optional<String> failure,
      List<Call> calls,
      int[] choices,
      List<String> lines,
      List<TraceLine> end,
      View endView) {}

  /**
   * Runs the history's threads once more on a fresh implementation after its setup, one at a time:
   * following {@code choices} when they are not null, else choosing by {@code strategy} from {@code
   * seed}. No requirements.
   */
  static Controlled controlled(HistoryFile.History h, Strategy strategy, long seed, int[] choices) {
    Ready ready = setUp(h);
    if (ready.problem().isPresent()) {
      return new Controlled(ready.problem(), List.of(), new int[0], List.of(), List.of(), null);
    }
    ImplVm impl = ready.impl();
    List<List<Call>> out = new ArrayList<>();
    String[] crashed = new String[h.threads()];
    List<Scheduler.Body> bodies = bodies(h, impl, out, crashed);
    Scheduler.Run r =
        choices != null
            ? Scheduler.replay(bodies, choices, "schedule-replay")
            : Scheduler.run(bodies, strategy, seed, ANCHOR_STEPS, "schedule-anchor");
    List<String> lines =
        r.schedule()
            .lines(t -> o -> o < h.thread(t).size() ? h.thread(t).get(o).op().toString() : "?");
    List<Call> calls = new ArrayList<>();
    out.forEach(calls::addAll);
    if (r.failure().isPresent()) {
      // Given up (a hang, a deadlock, a replay that took other steps): its threads were stopped
      // holding what they held (busy bits, the map lock), so the implementation is not touched
      // again, not even to read.
      return new Controlled(r.failure(), calls, r.schedule().choices(), lines, List.of(), null);
    }
    Optional<String> why = judge(impl, ready.start(), out, crashed);
    return new Controlled(
        why,
        calls,
        r.schedule().choices(),
        lines,
        ConcurrentHunt.endReads(impl, calls),
        impl.view());
  }

  /**
   * Runs the history's threads again on a fresh implementation after its setup, one at a time,
   * choosing by {@code strategy} from {@code seed}; what failed, as the hunt says it, or empty when
   * the history was linearizable and the invariants held. No requirements.
   */
  public static Optional<String> rerunControlled(
      HistoryFile.History h, Strategy strategy, long seed) {
    return controlled(h, strategy, seed, null).failure();
  }

  /** PCT's K for a rerun of one burst: about the points of a burst of 2 x 4 operations. */
  private static final int ANCHOR_STEPS = 400;

  /** Each thread's recorded operations as a body for the scheduler, its calls into {@code out}. */
  private static List<Scheduler.Body> bodies(
      HistoryFile.History h, ImplVm impl, List<List<Call>> out, String[] crashed) {
    List<Scheduler.Body> bodies = new ArrayList<>();
    for (int t = 0; t < h.threads(); t++) {
      List<Call> mine = new ArrayList<>();
      out.add(mine);
      List<Call> recorded = h.thread(t);
      int id = t;
      bodies.add(
          w -> {
            for (int k = 0; k < recorded.size(); k++) {
              Call c = recorded.get(k);
              w.operation(k);
              long invoked = System.nanoTime();
              Result r;
              try {
                r = impl.apply(c.op());
              } catch (RuntimeException | AssertionError e) {
                crashed[id] = "the implementation threw " + e + " at t" + id + "#" + c.index();
                return;
              }
              mine.add(new Call(id, c.index(), c.op(), r, invoked, System.nanoTime()));
            }
          });
    }
    return bodies;
  }

  /** An implementation after a history's setup, and the model's state there; or what failed. */
  private record Ready(ImplVm impl, State start, Optional<String> problem) {}

  /** A fresh implementation of the history's configuration with its setup run through it. */
  private static Ready setUp(HistoryFile.History h) {
    Scheduler.pinSetupThread();
    ImplVm impl = new ImplVm(h.config());
    State s = Model.boot();
    for (TraceLine l : h.setup().lines()) {
      Outcome o = Model.step(s, l.op());
      Result got;
      try {
        got = impl.apply(l.op());
      } catch (RuntimeException e) {
        return new Ready(
            impl,
            s,
            Optional.of(
                "setup line " + l.line() + " (" + l.op() + "): the implementation threw " + e));
      }
      if (!got.equals(o.result())) {
        return new Ready(
            impl,
            s,
            Optional.of(
                "setup line "
                    + l.line()
                    + " ("
                    + l.op()
                    + "): model "
                    + o.result()
                    + ", implementation "
                    + got));
      }
      s = o.state();
    }
    return new Ready(impl, s, Optional.empty());
  }

  /** One rerun: what failed, or empty when its history was linearizable and invariants held. */
  private static Optional<String> once(HistoryFile.History h) {
    Ready ready = setUp(h);
    if (ready.problem().isPresent()) {
      return ready.problem();
    }
    ImplVm impl = ready.impl();
    State s = ready.start();
    List<List<Call>> out = new ArrayList<>();
    String[] crashed = new String[h.threads()];
    List<Thread> threads = new ArrayList<>();
    CyclicBarrier start = new CyclicBarrier(Math.max(1, h.threads()));
    for (int t = 0; t < h.threads(); t++) {
      List<Call> mine = new ArrayList<>();
      out.add(mine);
      List<Call> recorded = h.thread(t);
      int id = t;
      Thread th =
          new Thread(
              () -> {
                try {
                  start.await();
                } catch (InterruptedException | BrokenBarrierException e) {
                  crashed[id] = "the rerun's threads did not start together: " + e;
                  return;
                }
                for (Call c : recorded) {
                  long invoked = System.nanoTime();
                  Result r;
                  try {
                    r = impl.apply(c.op());
                  } catch (RuntimeException e) {
                    crashed[id] = "the implementation threw " + e + " at t" + id + "#" + c.index();
                    return;
                  }
                  mine.add(new Call(id, c.index(), c.op(), r, invoked, System.nanoTime()));
                }
              },
              "history-rerun-" + t);
      th.setDaemon(true); // one stuck in a hung implementation must not keep the JVM up
      threads.add(th);
    }
    threads.forEach(Thread::start);
    long limit = System.nanoTime() + TimeUnit.SECONDS.toNanos(RERUN_LIMIT_SECONDS);
    try {
      for (Thread th : threads) {
        long left = limit - System.nanoTime();
        if (left > 0) {
          TimeUnit.NANOSECONDS.timedJoin(th, left);
        }
        if (th.isAlive()) {
          throw new TimeoutException();
        }
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Optional.of("interrupted");
    } catch (TimeoutException e) {
      return Optional.of(
          "the calls did not end within " + RERUN_LIMIT_SECONDS + " s: the implementation hangs");
    }
    return judge(impl, s, out, crashed);
  }

  /**
   * What a rerun's calls say, as the hunt judges a burst: a crash, else a history the model cannot
   * linearize to the implementation's view, else a broken invariant; empty when all is well.
   */
  private static Optional<String> judge(
      ImplVm impl, State s, List<List<Call>> out, String[] crashed) {
    for (String c : crashed) {
      if (c != null) {
        return Optional.of(c);
      }
    }
    List<Call> calls = new ArrayList<>();
    out.forEach(calls::addAll);
    View implView = impl.view();
    Linearizability.Verdict v =
        Linearizability.check(s, calls, st -> Model.view(st).equals(implView));
    if (!v.linearizable()) {
      return Optional.of(ConcurrentHunt.NOT_LINEARIZABLE + describe(calls));
    }
    try {
      impl.checkInvariants();
    } catch (IllegalStateException e) {
      return Optional.of(e.getMessage());
    }
    return Optional.empty();
  }

  private static String describe(List<Call> calls) {
    StringBuilder sb = new StringBuilder();
    for (Call c : calls) {
      sb.append("\n  ").append(c);
    }
    return sb.toString();
  }
}
