package org.vmoracle.checks.exhaust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.checks.diff.Lockstep;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;

/**
 * Exhaustive search in the small: shallow depths of every scope hold, the search does not depend on
 * its workers, and injected bugs are found at their depth with a shortest path that replays.
 */
class ExhaustTest {

  private static Exhaust.Report run(Scope scope, int depth, Exhaust.States states, int workers) {
    return Exhaust.run(
        new Exhaust.Settings(scope, depth, states, workers, 0, true), p -> {}, l -> {});
  }

  private static Exhaust.Report run(Scope scope, int depth) {
    return run(scope, depth, Exhaust.States.MODEL_AND_IMPL, 2);
  }

  /** The levels without their timings and replay counts, for comparing two searches. */
  private static List<String> counts(Exhaust.Report r) {
    return r.levels().stream()
        .map(
            l ->
                l.depth()
                    + ":"
                    + l.newStates()
                    + "/"
                    + l.states()
                    + "/"
                    + l.modelStates()
                    + "/"
                    + l.transitions())
        .collect(Collectors.toList());
  }

  @Test
  void small_depth3_holds_andIsTheSameSearchOnOneWorkerAndTwo() {
    Exhaust.Report one = run(Scope.small(), 3, Exhaust.States.MODEL_AND_IMPL, 1);
    Exhaust.Report two = run(Scope.small(), 3, Exhaust.States.MODEL_AND_IMPL, 2);
    assertTrue(one.complete(), "" + one.finding());
    assertTrue(two.complete(), "" + two.finding());
    assertEquals(counts(one), counts(two));
    assertEquals(3, two.depthReached());
    assertTrue(two.states() > 1000, "depth 3 of the small scope reaches over a thousand states");
    Exhaust.Level last = two.levels().get(3);
    assertTrue(last.modelStates() < last.states(), "the implementation tells more states apart");
  }

  @Test
  void everyScope_depth2_holds_onEveryReverseMap() {
    for (Scope s : Scope.all().values()) {
      for (Config.Rmap rmap : Config.Rmap.values()) {
        Exhaust.Report r = run(s.withConfig(s.config().withRmap(rmap)), 2);
        assertTrue(r.complete(), s.word() + " on " + rmap + ": " + r.finding());
      }
    }
  }

  @Test
  void injectedBug_isFoundAtItsDepth_withAShortestPathThatFailsOnlyWithTheBug() {
    Scope s = Scope.small();
    Scope buggy = s.withConfig(s.config().withBug(Bug.DOUBLE_COUNTED_PT_PAGES));
    Exhaust.Report r = run(buggy, 4);
    assertTrue(r.finding().isPresent());
    Exhaust.Finding f = r.finding().get();
    assertEquals(1, f.depth(), "a read of the shared page: one operation");
    assertEquals(
        List.of(new Op.Spawn(1), new Op.Read(1, org.vmoracle.spec.Boot.SHARED_PAGE)),
        f.ops(),
        "the prelude's file is not needed");
    assertEquals(Divergence.Kind.INVARIANT, f.divergence().kind());
    assertEquals(0, r.levels().get(r.levels().size() - 1).depth(), "depth 0 held");
    assertThrows(Divergence.class, () -> replay(f.ops(), buggy.config()));
    replay(f.ops(), s.config()); // passes without the bug
  }

  @Test
  void modelStatesAlone_areBlindToATransitionIntoAStateSeenBefore() {
    // collapse changes nothing the model shows (SYS-2): by the model's states alone its
    // transitions lead back to states already checked and are never replayed, so a collapse
    // that breaks the implementation is missed; with the implementation's shape it is found.
    Scope s = Scope.small();
    Scope buggy = s.withConfig(s.config().withBug(Bug.COLLAPSE_DROPS_FILE));
    Exhaust.Report paired = run(buggy, 2, Exhaust.States.MODEL_AND_IMPL, 2);
    Exhaust.Report model = run(buggy, 2, Exhaust.States.MODEL, 2);
    assertTrue(paired.finding().isPresent());
    assertTrue(
        paired.finding().get().ops().stream().anyMatch(o -> o instanceof Op.Collapse),
        "" + paired.finding().get().ops());
    assertFalse(model.finding().isPresent(), "" + model.finding());
    assertEquals(
        paired.levels().get(1).modelStates(),
        model.levels().get(1).states(),
        "the same model states either way");
  }

  @Test
  void forkWithoutWriteProtect_isFoundAtDepth3_byModelStatesToo() {
    // spawn 1, file f 2; then map, store, fork: the child shares the parent's writable PTE.
    Scope s = Scope.small();
    Scope buggy = s.withConfig(s.config().withBug(Bug.FORK_NO_WRITE_PROTECT));
    Exhaust.Report r = run(buggy, 3, Exhaust.States.MODEL, 2);
    assertTrue(r.finding().isPresent());
    assertEquals(3, r.finding().get().depth());
    assertTrue(r.finding().get().ops().stream().anyMatch(o -> o instanceof Op.Fork));
  }

  @Test
  void withoutSymmetry_theSameVerdicts_onMoreStates() {
    // The reduction's switch: pids and values searched apart find what the reduced search finds,
    // at the same depth, and hold where it holds.
    Exhaust.Report reduced = run(Scope.small(), 3);
    Exhaust.Report full = run(Scope.small().withoutSymmetry(), 3);
    assertTrue(full.complete(), "" + full.finding());
    assertTrue(
        full.states() > reduced.states(),
        full.states() + " states without symmetry against " + reduced.states());
    Scope buggy =
        Scope.small().withConfig(Scope.small().config().withBug(Bug.FORK_NO_WRITE_PROTECT));
    assertEquals(
        run(buggy, 3).finding().orElseThrow().depth(),
        run(buggy.withoutSymmetry(), 3).finding().orElseThrow().depth());
  }

  private static void replay(List<Op> ops, Config c) {
    Lockstep both = new Lockstep(new ImplVm(c), 1, 1);
    for (Op op : new ArrayList<>(ops)) {
      both.apply(op);
    }
    both.checkNow();
  }
}
