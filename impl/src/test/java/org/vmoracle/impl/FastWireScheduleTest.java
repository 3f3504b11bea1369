package org.vmoracle.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * The wiring fast path's window (seed 003, W1 of Wiring), under a fixed schedule: mlock claims a 2
 * MiB segment whose free-pool run holds old words, and in the window between the claim and the fill
 * (the lock downgraded to shared) another thread reads a page of the segment. The page is in its
 * object but busy and INVALID, so the read waits for the fill and answers 0 (ACC-4, CONC-1). With
 * {@link Bug#FAST_WIRE_EXPOSES_INVALID} the page is not busy: the read gets in during the window
 * and W1's check in the fault path refuses to map it. The deterministic reproducer of that race,
 * replayed by every build.
 */
class FastWireScheduleTest {

  private static final long BASE = 0x10000000L;
  private static final long PAGE = 4096;

  /** A system whose next mlock of the 512 pages at BASE takes the fast path over dirty frames. */
  private static ImplVm dirtySegment(Config c) {
    ImplVm vm = new ImplVm(c);
    ok(vm.apply(new Op.Spawn(1)));
    ok(vm.apply(new Op.Mmap(1, 0, 1024, Prot.RW, Sharing.PRIVATE, new Source.Anon(), false)));
    for (long p = 0; p < 1024; p++) {
      ok(vm.apply(new Op.Write(1, BASE + p * PAGE + 8, 0xDEAD)));
    }
    ok(vm.apply(new Op.Munmap(1, BASE, 1024)));
    Result at =
        vm.apply(new Op.Mmap(1, 0, 512, Prot.RW, Sharing.PRIVATE, new Source.Anon(), false));
    assertEquals(Result.value(BASE), at);
    return vm;
  }

  private static void ok(Result r) {
    assertTrue(r.succeeded(), r.toString());
  }

  /** What the reader saw: its answer or what it threw, and whether it came in the window. */
  private record Seen(Result result, Throwable thrown, boolean duringWindow) {}

  /** Runs the schedule: mlock, and in its window a read of page 100 on another thread. */
  private static Seen schedule(ImplVm vm) throws Exception {
    AtomicReference<Result> result = new AtomicReference<>();
    AtomicReference<Throwable> thrown = new AtomicReference<>();
    boolean[] during = {false};
    Thread[] reader = {null};
    vm.onWireWindow(
        () -> {
          reader[0] =
              new Thread(
                  () -> {
                    try {
                      result.set(vm.apply(new Op.Read(1, BASE + 100 * PAGE + 8)));
                    } catch (Throwable t) {
                      thrown.set(t);
                    }
                  });
          reader[0].start();
          try {
            reader[0].join(TimeUnit.MILLISECONDS.toMillis(300)); // long enough to get in
          } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
          }
          during[0] = !reader[0].isAlive();
        });
    ok(vm.apply(new Op.Mlock(1, BASE, 512)));
    vm.onWireWindow(null);
    assertNotNull(reader[0], "the mlock took the fast path and ran its window");
    reader[0].join(10_000);
    assertFalse(reader[0].isAlive(), "the reader finished after the fill");
    return new Seen(result.get(), thrown.get(), during[0]);
  }

  @Test
  void readInTheWindow_waitsForTheFillAndReadsZero_W1() throws Exception {
    ImplVm vm = dirtySegment(Config.defaults().withFrames(2048));
    Seen s = schedule(vm);
    assertEquals(null, s.thrown());
    assertFalse(s.duringWindow(), "the read waited: the page was busy");
    assertEquals(Result.value(0), s.result(), "ACC-4: never written, so 0");
    assertEquals(1, vm.stats().get("superpagesLive"), "the racing fault left the 2 MiB leaf");
    vm.checkInvariants();
  }

  @Test
  void fastWireExposesInvalid_bug_theReadGetsInAndW1Refuses() throws Exception {
    ImplVm vm =
        dirtySegment(Config.defaults().withFrames(2048).withBug(Bug.FAST_WIRE_EXPOSES_INVALID));
    Seen s = schedule(vm);
    assertTrue(s.duringWindow(), "the page was not busy: the read came in before the fill");
    assertNotNull(s.thrown(), "W1 refused the invalid page: " + s);
    assertTrue(s.thrown().getMessage().contains("W1"), s.thrown().toString());
  }
}
