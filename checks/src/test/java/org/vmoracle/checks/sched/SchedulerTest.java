package org.vmoracle.checks.sched;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.vmoracle.impl.sched.Sched;

/**
 * The controlled scheduler on toy bodies whose races are known: a read-then-write counter, which
 * loses an update only when a thread is switched out between its read and its write, and the same
 * counter behind a spin lock, which never does.
 */
class SchedulerTest {

  /** A shared counter and a spin lock for the toy bodies. */
  private static final class Counter {
    volatile long value;
    final AtomicInteger lock = new AtomicInteger();

    /** value++ as a read, a scheduling point, a write: the lost-update race. */
    void racyIncrement() {
      long v = value;
      Sched.point(Sched.Step.STORE, 0);
      value = v + 1;
    }

    /** The same behind a spin lock whose waiters wait a turn at a time. */
    void lockedIncrement() {
      Sched.point(Sched.Step.LOCK, 1);
      while (!lock.compareAndSet(0, 1)) {
        Sched.waiting(Sched.Step.LOCK, 1);
      }
      racyIncrement();
      lock.set(0);
      Sched.point(Sched.Step.UNLOCK, 1);
    }
  }

  private static List<Scheduler.Body> incrementers(Counter c, boolean locked, int times) {
    List<Scheduler.Body> bodies = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      bodies.add(
          w -> {
            for (int i = 0; i < times; i++) {
              w.operation(i);
              if (locked) {
                c.lockedIncrement();
              } else {
                c.racyIncrement();
              }
            }
          });
    }
    return bodies;
  }

  /** The first seed from 0 whose run of {@code strategy} loses an update, or -1 within 200. */
  private static long firstLosing(Strategy strategy, boolean locked) {
    for (long seed = 0; seed < 200; seed++) {
      Counter c = new Counter();
      Scheduler.Run r = Scheduler.run(incrementers(c, locked, 3), strategy, seed, 12, "test");
      assertTrue(r.failure().isEmpty(), r.failure().toString());
      if (c.value != 6) {
        return seed;
      }
    }
    return -1;
  }

  @Test
  void run_racyCounter_eachStrategyLosesAnUpdateSoon() {
    for (Strategy s : List.of(Strategy.RANDOM, Strategy.pct(2), Strategy.pct(3), Strategy.rr(2))) {
      assertTrue(firstLosing(s, false) >= 0, s + " never switched between a read and its write");
    }
  }

  @Test
  void run_lockedCounter_neverLosesAnUpdate() {
    for (Strategy s : List.of(Strategy.RANDOM, Strategy.pct(3), Strategy.rr(2))) {
      assertEquals(-1, firstLosing(s, true), s + " lost an update behind the lock");
    }
  }

  /** PCT of depth 1 never preempts: each thread runs to its end, so nothing is lost. */
  @Test
  void run_pctDepth1_runsEachThreadToItsEnd() {
    assertEquals(-1, firstLosing(Strategy.pct(1), false));
  }

  @Test
  void run_sameSeed_sameSchedule_andItsChoicesReplayIt() {
    Counter a = new Counter();
    Scheduler.Run first = Scheduler.run(incrementers(a, true, 4), Strategy.RANDOM, 42, 20, "t");
    Counter b = new Counter();
    Scheduler.Run second = Scheduler.run(incrementers(b, true, 4), Strategy.RANDOM, 42, 20, "t");
    assertTrue(first.schedule().sameAs(second.schedule()));
    assertTrue(first.schedule().switches() > 0, "a random walk of two threads switches");
    Counter c = new Counter();
    Scheduler.Run again =
        Scheduler.replay(incrementers(c, true, 4), first.schedule().choices(), "t");
    assertTrue(again.failure().isEmpty(), again.failure().toString());
    assertArrayEquals(first.schedule().choices(), again.schedule().choices());
    assertEquals(8, c.value);
  }

  @Test
  void replay_ofOtherSteps_saysTheScheduleDiverged() {
    Counter a = new Counter();
    Scheduler.Run first = Scheduler.run(incrementers(a, false, 4), Strategy.RANDOM, 3, 20, "t");
    Counter b = new Counter();
    Scheduler.Run other =
        Scheduler.replay(incrementers(b, false, 1), first.schedule().choices(), "t");
    assertTrue(other.failure().isPresent());
    assertTrue(other.failure().get().startsWith(Scheduler.DIVERGED), other.failure().get());
  }

  @Test
  void run_threadsWaitingForEachOther_isADeadlock() {
    AtomicInteger never = new AtomicInteger();
    List<Scheduler.Body> bodies = new ArrayList<>();
    for (int t = 0; t < 2; t++) {
      bodies.add(
          w -> {
            while (never.get() == 0) {
              Sched.waiting(Sched.Step.WAIT, 0);
            }
          });
    }
    Scheduler.Run r = Scheduler.run(bodies, Strategy.RANDOM, 1, 10, "t");
    assertTrue(r.failure().orElse("").contains("deadlock"), r.failure().toString());
  }

  @Test
  void lines_nameEachThreadsOperationAndSteps() {
    Counter c = new Counter();
    Scheduler.Run r = Scheduler.run(incrementers(c, false, 2), Strategy.RANDOM, 5, 10, "t");
    List<String> lines = r.schedule().lines(t -> o -> "inc" + t + "." + o);
    assertFalse(lines.isEmpty());
    assertTrue(lines.get(0).matches("t[01] #0 inc[01]\\.0: store 0x0.*"), lines.get(0));
    assertTrue(String.join("\n", lines).contains("ends"), lines.toString());
  }

  @Test
  void parse_eachWord_andItsErrors() {
    assertEquals(Strategy.pct(3), Strategy.parse("pct"));
    assertEquals(Strategy.pct(2), Strategy.parse("PCT:2"));
    assertEquals(Strategy.rr(2), Strategy.parse("rr"));
    assertEquals(Strategy.RANDOM, Strategy.parse("random"));
    assertEquals(Strategy.FREE, Strategy.parse("free"));
    assertEquals("pct:1", Strategy.PORTFOLIO.forRun(0).word());
    assertEquals("rr:2", Strategy.PORTFOLIO.forRun(4).word());
    assertEquals("random", Strategy.RANDOM.forRun(7).word());
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> Strategy.parse("pct:x"));
    assertTrue(e.getMessage().contains("whole number"), e.getMessage());
    assertThrows(IllegalArgumentException.class, () -> Strategy.parse("pct:11"));
    assertThrows(IllegalArgumentException.class, () -> Strategy.parse("random:2"));
    assertThrows(IllegalArgumentException.class, () -> Strategy.parse("fair"));
  }
}
