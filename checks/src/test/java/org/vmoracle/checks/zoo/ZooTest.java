package org.vmoracle.checks.zoo;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vmoracle.checks.gen.Profile;
import org.vmoracle.checks.shrink.Subject;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.trace.TraceLine;
import org.vmoracle.spec.trace.TraceParser;

/** The zoo's table covers every injected bug, and a bug it hunts is caught with a reproducer. */
class ZooTest {

  @TempDir Path dir;

  @Test
  void table_everyBug_hasACheck() {
    List<Bug> without = new ArrayList<>();
    for (Bug b : Bug.values()) {
      if (Zoo.check(b).isEmpty()) {
        without.add(b);
      }
    }
    assertEquals(
        List.of(), without, "bugs with no entry in Zoo.TABLE: add one line each (see its javadoc)");
  }

  @Test
  void check_eachKind_saysItsOptions() {
    assertEquals("--profile fork", Zoo.Check.lockstep(Profile.FORK).options());
    assertEquals("--threads 2 --burst 16 --strategy random", Zoo.Check.concurrent(2, 16).options());
    assertEquals(
        "hunt --profile fork --rmap ptechain",
        Zoo.Check.lockstep(Profile.FORK).on(Config.Rmap.PTECHAIN).describe());
    assertEquals(
        "rmap stress --threads 2 --strategy random --rmap pv",
        Zoo.Check.rmapStress(2, Config.Rmap.PV).describe());
    assertEquals(
        "--threads 2 --burst 4 --strategy pct:2",
        Zoo.Check.concurrent(2, 4).under(org.vmoracle.checks.sched.Strategy.pct(2)).options());
    Zoo.Kind lockstep = Zoo.Kind.LOCKSTEP;
    Zoo.Kind concurrent = Zoo.Kind.CONCURRENT;
    Zoo.Kind stress = Zoo.Kind.RMAP_STRESS;
    assertThrows(
        IllegalArgumentException.class, () -> new Zoo.Check(lockstep, Profile.FORK, 2, 0, null));
    assertThrows(
        IllegalArgumentException.class, () -> new Zoo.Check(lockstep, Profile.FORK, 1, 4, null));
    assertThrows(IllegalArgumentException.class, () -> new Zoo.Check(lockstep, null, 1, 0, null));
    assertThrows(IllegalArgumentException.class, () -> new Zoo.Check(concurrent, null, 2, 0, null));
    assertThrows(IllegalArgumentException.class, () -> new Zoo.Check(stress, null, 1, 0, null));
    assertThrows(
        IllegalArgumentException.class, () -> new Zoo.Check(stress, Profile.FORK, 2, 0, null));
  }

  /**
   * A sequential hunt that checks within its runs, or runs shorter ones, says so the way {@code
   * vmoracle hunt} takes it, and only the sequential hunt can.
   */
  @Test
  void check_checkingEvery_saysItsInterval() {
    Zoo.Check c = Zoo.Check.lockstep(Profile.MIXED).checkingEvery(100);
    assertEquals(100, c.checkEvery());
    assertEquals("--profile mixed --check-every 100", c.options());
    assertEquals(
        "hunt --profile mixed --check-every 100 --rmap pv", c.on(Config.Rmap.PV).describe());
    assertEquals(
        "--profile shm --check-every 50 --config sharePageTables=true",
        Zoo.Check.lockstep(Profile.SHM).withSharing().checkingEvery(50).options());
    assertEquals(
        "--profile wire --check-every 50 --run-length 500",
        Zoo.Check.lockstep(Profile.WIRE).checkingEvery(50).inRunsOf(500).options());
    assertEquals(0, Zoo.Check.lockstep(Profile.MIXED).checkEvery());
    assertEquals(5_000, Zoo.Check.lockstep(Profile.MIXED).runOps());
    assertThrows(
        IllegalArgumentException.class, () -> Zoo.Check.rmapStress(2, Config.Rmap.PV).inRunsOf(9));
    assertThrows(
        IllegalArgumentException.class, () -> Zoo.Check.lockstep(Profile.MIXED).checkingEvery(0));
    assertThrows(
        IllegalArgumentException.class, () -> Zoo.Check.concurrent(2, 16).checkingEvery(100));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new Zoo.Check(
                Zoo.Kind.CONCURRENT,
                null,
                2,
                16,
                null,
                false,
                org.vmoracle.checks.sched.Strategy.RANDOM,
                100,
                0));
  }

  /**
   * A check that names a reverse map runs its bug on that design whatever the settings given say.
   */
  @Test
  void check_namingADesign_overridesTheRmapGiven() {
    Config pv = Zoo.Check.rmapStress(2, Config.Rmap.PV).applyTo(Config.defaults());
    assertEquals(Config.Rmap.PV, pv.rmap());
    Config given = Config.defaults().withRmap(Config.Rmap.PTECHAIN);
    assertEquals(given, Zoo.Check.lockstep(Profile.FORK).applyTo(given));
  }

  /** PV_UNLOCKED_INSERT loses a pv entry under the stress within seconds (V1). */
  @Test
  void run_pvUnlockedInsert_caughtByTheStress() {
    Zoo.Verdict v = Zoo.run(Bug.PV_UNLOCKED_INSERT, 30, 1, dir);
    assertTrue(v.caught(), v.toString());
    assertTrue(v.found().contains("V1") || v.found().contains("V2"), v.found());
  }

  /** FAST_WIRE_EXPOSES_INVALID: a read during the fast path's window sees an invalid page (W1). */
  @Test
  void run_fastWireExposesInvalid_caughtByTheWireStress() {
    assertEquals("wire stress --threads 2 --strategy random", Zoo.Check.wireStress().describe());
    Zoo.Verdict v = Zoo.run(Bug.FAST_WIRE_EXPOSES_INVALID, 30, 1, dir);
    assertTrue(v.caught(), v.toString());
    assertTrue(v.found().contains("W1"), v.found());
  }

  /** The wire stress finds nothing on the fast path without the bug: every read answers 0. */
  @Test
  void wireStress_withoutTheBug_clean() {
    org.vmoracle.checks.lin.WireStress.Report r =
        org.vmoracle.checks.lin.WireStress.run(
            Config.defaults().withFrames(org.vmoracle.checks.lin.WireStress.FRAMES), 1, 3, l -> {});
    assertTrue(r.finding().isEmpty(), r.toString());
    assertTrue(r.rounds() > 50 && r.superpages() > 0, r.toString());
  }

  /**
   * STALE_PTE_AFTER_MUNMAP is caught within the first hundred operations of seed 1; the reproducer
   * written diverges on the implementation with the bug and agrees on the one without.
   */
  @Test
  void run_stalePteAfterMunmap_caughtWithAReproducerThatNeedsTheBug() throws Exception {
    Bug bug = Bug.STALE_PTE_AFTER_MUNMAP;
    Zoo.Verdict v = Zoo.run(bug, 20, 1, dir);

    assertTrue(v.caught(), v.toString());
    Zoo.Check c = Zoo.check(bug).orElseThrow();
    assertEquals(c, v.check().orElseThrow());
    assertTrue(v.operations() > 0 && v.operations() < 5_000, v.toString());
    assertTrue(v.seconds() < 20, v.toString());
    Path file = v.file().orElseThrow();
    assertTrue(file.startsWith(dir), file.toString());
    String text = Files.readString(file, StandardCharsets.UTF_8);
    assertTrue(text.contains("# injected bugs on: STALE_PTE_AFTER_MUNMAP"), text);

    List<Op> ops = new ArrayList<>();
    for (TraceLine l : TraceParser.parse(file.toString(), text).lines()) {
      ops.add(l.op());
    }
    assertEquals(v.reproducer().orElseThrow(), ops.size());
    Config config = c.profile().config();
    assertTrue(Subject.lockstep(config.withBug(bug)).run(ops, 1).isPresent(), text);
    assertFalse(Subject.lockstep(config).run(ops, 1).isPresent(), text);
  }
}
