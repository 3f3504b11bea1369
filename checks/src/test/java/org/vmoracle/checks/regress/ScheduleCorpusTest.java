package org.vmoracle.checks.regress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.vmoracle.checks.lin.HistoryFile;
import org.vmoracle.checks.lin.HistoryReplay;
import org.vmoracle.checks.lin.RmapStress;
import org.vmoracle.checks.lin.WireStress;
import org.vmoracle.checks.sched.Scheduler;
import org.vmoracle.checks.sched.Strategy;
import org.vmoracle.checks.zoo.Zoo;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.trace.TraceSyntaxException;

/**
 * The races' reproducers. For the concurrent hunt's races, a history file in {@code injected/}
 * whose schedule replays the failing burst from its setup (hunt --replay-schedule): with its bug on
 * it must fail the same way every time; with the bug off the burst's calls must pass under the
 * strategy that found it, for every one of {@link #RERUNS} seeds. For the stresses' races, a fixed
 * seed: the controlled stress finds the bug in the same round every time, and nothing without it.
 */
class ScheduleCorpusTest {

  /** Controlled reruns with the bug off. */
  static final int RERUNS = 20;

  /**
   * Controlled reruns with the bug on that may look for it again when its schedule no longer
   * replays (re-record it with the zoo then: the file says how).
   */
  static final int REFIND = 200;

  private static Path dir() {
    return Path.of("src", "test", "resources", "regressions", "injected");
  }

  private static List<Path> histories() throws IOException {
    try (Stream<Path> s = Files.list(dir())) {
      return s.filter(p -> p.toString().endsWith(".history")).sorted().collect(Collectors.toList());
    }
  }

  private static HistoryFile.History read(Path p) throws IOException, TraceSyntaxException {
    return HistoryFile.parse(p.toString(), Files.readString(p));
  }

  @TestFactory
  Stream<DynamicTest> history_withItsBugOn_replaysItsFailureEveryTime() throws IOException {
    return histories().stream()
        .map(
            p ->
                DynamicTest.dynamicTest(
                    p.getFileName().toString(),
                    () -> {
                      HistoryFile.History h = read(p);
                      assertTrue(h.schedule().isPresent(), p + " keeps no schedule");
                      assertFalse(h.bugs().isEmpty(), p + " switches on no bug");
                      Optional<String> first = HistoryReplay.replaySchedule(h).failure();
                      Optional<String> second = HistoryReplay.replaySchedule(h).failure();
                      assertTrue(first.isPresent(), p + " passes with its bug on");
                      assertEquals(line(first.get()), line(second.get()), "not deterministic");
                      if (first.get().startsWith(Scheduler.DIVERGED)) {
                        // The implementation's steps changed since the schedule was recorded (a
                        // fix elsewhere): the bug must still show under the strategy's schedules.
                        Strategy s = h.schedule().orElseThrow().strategy();
                        boolean seen = false;
                        for (long seed = 0; seed < REFIND && !seen; seed++) {
                          seen = HistoryReplay.rerunControlled(h, s, seed).isPresent();
                        }
                        assertTrue(seen, p + ": " + first.get() + ", and no rerun fails");
                      }
                    }));
  }

  @TestFactory
  Stream<DynamicTest> history_withItsBugOff_passesUnderItsStrategy() throws IOException {
    return histories().stream()
        .map(
            p ->
                DynamicTest.dynamicTest(
                    p.getFileName().toString(),
                    () -> {
                      HistoryFile.History h = read(p);
                      HistoryFile.History off = withoutBugs(h);
                      Strategy s = h.schedule().orElseThrow().strategy();
                      for (long seed = 0; seed < RERUNS; seed++) {
                        Optional<String> why = HistoryReplay.rerunControlled(off, s, seed);
                        assertTrue(
                            why.isEmpty(), p + " fails without its bug, seed " + seed + ": " + why);
                      }
                    }));
  }

  /** Real races found by the controlled hunt, fixed: {@code regressions/*.history}. */
  private static List<Path> fixed() throws IOException {
    try (Stream<Path> s = Files.list(dir().getParent())) {
      return s.filter(p -> p.toString().endsWith(".history")).sorted().collect(Collectors.toList());
    }
  }

  @TestFactory
  Stream<DynamicTest> fixedRace_replayedAndRerun_passes() throws IOException {
    return fixed().stream()
        .map(
            p ->
                DynamicTest.dynamicTest(
                    p.getFileName().toString(),
                    () -> {
                      HistoryFile.History h = read(p);
                      assertTrue(h.bugs().isEmpty(), p + " is a real race: no injected bug");
                      Optional<String> replayed = HistoryReplay.replaySchedule(h).failure();
                      assertTrue(
                          replayed.isEmpty() || replayed.get().startsWith(Scheduler.DIVERGED),
                          p + " fails again: " + replayed);
                      Strategy s = h.schedule().orElseThrow().strategy();
                      for (long seed = 0; seed < RERUNS; seed++) {
                        Optional<String> why = HistoryReplay.rerunControlled(h, s, seed);
                        assertTrue(why.isEmpty(), p + " fails under seed " + seed + ": " + why);
                      }
                    }));
  }

  /** Every race the concurrent hunt catches has a history here. */
  @Test
  void histories_coverEveryConcurrentRace() throws IOException, TraceSyntaxException {
    Set<Bug> covered = EnumSet.noneOf(Bug.class);
    for (Path p : histories()) {
      covered.addAll(read(p).bugs());
    }
    List<Bug> missing = new ArrayList<>();
    for (Bug b : Bug.values()) {
      Zoo.Check c = Zoo.check(b).orElseThrow();
      if (c.kind() == Zoo.Kind.CONCURRENT && !covered.contains(b)) {
        missing.add(b);
      }
    }
    assertEquals(List.of(), missing, "races with no history in injected/: run the zoo and add one");
  }

  /** PV_UNLOCKED_INSERT: the controlled rmap stress from seed 7, the same round both times. */
  @Test
  void rmapStress_seed7_findsPvUnlockedInsertInTheSameRound_andNothingWithout() {
    Config pv = Config.defaults().withFrames(256).withRmap(Config.Rmap.PV);
    RmapStress.Report a =
        RmapStress.run(pv.withBug(Bug.PV_UNLOCKED_INSERT), 2, 7, 60, Strategy.RANDOM, x -> {});
    RmapStress.Report b =
        RmapStress.run(pv.withBug(Bug.PV_UNLOCKED_INSERT), 2, 7, 60, Strategy.RANDOM, x -> {});
    assertTrue(a.finding().isPresent(), "missed");
    assertEquals(a.rounds(), b.rounds());
    assertEquals(a.finding(), b.finding());
    RmapStress.Report off = RmapStress.run(pv, 2, 7, 60, Strategy.RANDOM, x -> {}, a.rounds() * 4);
    assertTrue(off.finding().isEmpty(), off.finding().toString());
  }

  /**
   * FAST_WIRE_EXPOSES_INVALID: the controlled wire stress from seed 7, the same round both times.
   */
  @Test
  void wireStress_seed7_findsFastWireExposesInvalidInTheSameRound_andNothingWithout() {
    Config c = Config.defaults().withFrames(WireStress.FRAMES);
    WireStress.Report a =
        WireStress.run(c.withBug(Bug.FAST_WIRE_EXPOSES_INVALID), 7, 60, Strategy.RANDOM, x -> {});
    WireStress.Report b =
        WireStress.run(c.withBug(Bug.FAST_WIRE_EXPOSES_INVALID), 7, 60, Strategy.RANDOM, x -> {});
    assertTrue(a.finding().isPresent(), "missed");
    assertEquals(a.rounds(), b.rounds());
    assertEquals(a.finding(), b.finding());
    WireStress.Report off = WireStress.run(c, 7, 60, Strategy.RANDOM, x -> {}, a.rounds() * 4);
    assertTrue(off.finding().isEmpty(), off.finding().toString());
  }

  private static String line(String why) {
    return why.split("\n", 2)[0];
  }

  private static HistoryFile.History withoutBugs(HistoryFile.History h) {
    return new HistoryFile.History(
        h.source(),
        h.frames(),
        h.settings(),
        Set.of(),
        h.seed(),
        h.endView(),
        h.setup(),
        h.calls(),
        h.threads(),
        h.end(),
        h.schedule());
  }
}
