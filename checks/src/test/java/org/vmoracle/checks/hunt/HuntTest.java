package org.vmoracle.checks.hunt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.checks.gen.Generator;
import org.vmoracle.checks.gen.Profile;
import org.vmoracle.checks.shrink.DivergenceShrinker;
import org.vmoracle.checks.shrink.Subject;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.trace.Replay;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceLine;
import org.vmoracle.spec.trace.TraceParser;

/** The hunt loop's budgets and the finding file it writes. */
class HuntTest {

  private static Hunt.Settings settings(long ops, int runLength) {
    Profile p = Profile.MIXED;
    return new Hunt.Settings(p, p.config(), 1, ops, 0, runLength, 0);
  }

  @Test
  void run_operationBudget_spentExactlyInRunsOfTheGivenLength() {
    Hunt.Report r = Hunt.run(settings(2500, 1000), p -> {}, 0);
    assertTrue(r.finding().isEmpty(), () -> r.finding().get().divergence().getMessage());
    assertEquals(2500, r.progress().operations());
    assertEquals(3, r.progress().runs(), "two whole runs and a last one of 500");
  }

  @Test
  void hunt_privateCopyOfSharedAnonFilledPrivately_found() {
    // INH-4: the generator's inheritance scenarios reach a child's first load of a page of its
    // private copy of shared anonymous memory after a store of its own, then a store by the
    // parent; random operations alone met that in none of 200 runs of 5,000 (Mix.SCENARIO_PERCENT).
    Profile p = Profile.FORK;
    Hunt.Settings s =
        new Hunt.Settings(
            p,
            p.config().withBug(Bug.SHARED_ANON_COPY_FILLS_PRIVATELY),
            1,
            200_000,
            0,
            Hunt.RUN_LENGTH,
            0);
    Hunt.Report r = Hunt.run(s, x -> {}, 0);
    assertTrue(
        r.finding().isPresent(), "not found in " + r.progress().operations() + " operations");
  }

  @Test
  void settings_noBudget_refused() {
    Profile p = Profile.MIXED;
    assertThrows(
        IllegalArgumentException.class, () -> new Hunt.Settings(p, p.config(), 1, 0, 0, 1000, 0));
    assertThrows(
        IllegalArgumentException.class, () -> new Hunt.Settings(p, p.config(), 1, -1, 5, 1000, 0));
  }

  /** A subject whose implementation answers one more on a read of a small non-zero word. */
  private static Optional<Divergence> lie(List<Op> ops, int every) {
    ModelVm want = new ModelVm();
    ModelVm got = new ModelVm();
    for (int i = 0; i < ops.size(); i++) {
      Op op = ops.get(i);
      Result w = want.apply(op);
      Result g = got.apply(op);
      if (op instanceof Op.Read && g instanceof Result.Value) {
        long v = ((Result.Value) g).value();
        g = v >= 1 && v <= 1000 ? Result.value(v + 1) : g;
      }
      if (!w.equals(g)) {
        return Optional.of(new Divergence(Divergence.Kind.RESULT, op, i, "model " + w, null));
      }
    }
    return Optional.empty();
  }

  @Test
  void findingFile_shrunkLie_headerThenTraceWithModelExpectations() throws Exception {
    Generator g = Profile.MIXED.generator(3);
    ModelVm vm = new ModelVm();
    List<Op> run = new ArrayList<>();
    for (int i = 0; i < 3000; i++) {
      Op op = g.next();
      g.observe(op, vm.apply(op));
      run.add(op);
    }
    Subject liar = HuntTest::lie;
    Divergence d = liar.run(run, 0).orElseThrow();
    Hunt.Finding f = new Hunt.Finding(3, 0, run.subList(0, (int) d.step() + 1), d, d.step(), 0.1);
    DivergenceShrinker.Shrunk s = DivergenceShrinker.shrink(run, d, liar, Duration.ofSeconds(30));
    Hunt.Settings st = settings(5000, 5000);

    assertEquals("mixed-result-3.trace", FindingFile.name(st, f));
    String text = FindingFile.render(st, f, s);
    assertTrue(text.startsWith("# vmoracle hunt finding: profile mixed, run seed 3"), text);
    assertTrue(text.contains("\n# found: RESULT at operation " + d.step()), text);
    assertTrue(
        text.contains("\n# rule areas (spec/SEMANTICS.md): ACC, COW, FILE, SHM (read)"), text);
    assertTrue(text.contains("vmoracle hunt --profile mixed --seed 3 --ops "), text);

    Trace t = TraceParser.parse("finding", text);
    List<Op> parsed = new ArrayList<>();
    for (TraceLine l : t.lines()) {
      assertTrue(l.expect().isPresent(), "every line expects the model's result: " + l);
      parsed.add(l.op());
    }
    assertEquals(s.ops(), parsed);
    assertTrue(Replay.run(t, new ModelVm()).passed());
  }

  @Test
  void findingFile_injectedBug_namedInFileHeaderAndRerunCommand() throws Exception {
    Profile p = Profile.FORK;
    Hunt.Settings st =
        new Hunt.Settings(
            p,
            p.config().withBug(Bug.FORK_NO_WRITE_PROTECT).withBug(Bug.LOST_ZERO_FILL_RACE),
            7,
            0,
            5,
            5000,
            0);
    Hunt.Report r = Hunt.run(st, x -> {}, 0);
    Hunt.Finding f = r.finding().orElseThrow(() -> new AssertionError("not found: " + r));
    DivergenceShrinker.Shrunk s =
        DivergenceShrinker.shrink(
            f.ops(), f.divergence(), Subject.lockstep(st.config()), Duration.ofSeconds(30));

    assertTrue(
        FindingFile.name(st, f)
            .matches(
                "fork-\\w+-" + f.runSeed() + "-lost-zero-fill-race-fork-no-write-protect\\.trace"),
        FindingFile.name(st, f));
    String text = FindingFile.render(st, f, s);
    assertTrue(
        text.contains("\n# injected bugs on: LOST_ZERO_FILL_RACE, FORK_NO_WRITE_PROTECT\n"), text);
    assertTrue(
        text.contains(
            " --seed "
                + f.runSeed()
                + " --ops "
                + f.ops().size()
                + " --bug LOST_ZERO_FILL_RACE --bug FORK_NO_WRITE_PROTECT\n"),
        text);
  }

  @Test
  void areas_divergingKindFirst_thenTheOthers() {
    List<Op> ops = List.of(new Op.Spawn(1), new Op.Fork(1, 2), new Op.Read(2, 0x10000000));
    assertEquals(
        "ACC, COW, FILE, SHM (read); also PROC, FORK, INH", FindingFile.areas(ops.get(2), ops));
  }
}
