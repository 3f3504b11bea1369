package org.vmoracle.checks.shrink;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.checks.gen.Generator;
import org.vmoracle.checks.gen.Mix;
import org.vmoracle.checks.gen.OpKind;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.trace.Replay;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceLine;
import org.vmoracle.spec.trace.TraceParser;
import org.vmoracle.spec.trace.TracePrinter;

/**
 * The shrinker: ddmin on the operation list, then argument simplification, on synthetic predicates
 * and on a planted divergence ({@link Liar}) in a 10,000-operation generated run.
 */
class ShrinkerTest {

  private static List<Op> generated(long seed, int n) {
    // Random operations only, no scenarios and no edges: the fixtures below were chosen on them,
    // and what a shrinker does with a run should not change when the generator learns new moves.
    Generator g =
        new Generator(seed, 1, Mix.MIXED.withScenarios(0).withEdges(0).withWireScenarios(0));
    ModelVm vm = new ModelVm();
    List<Op> ops = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Op op = g.next();
      g.observe(op, vm.apply(op));
      ops.add(op);
    }
    return ops;
  }

  @Test
  void shrink_twoOperationsMatterInOrder_keepsExactlyThose() {
    List<Op> ops = generated(1, 1000);
    Op first = ops.get(100);
    Op second = ops.get(900);
    Shrinker s =
        Shrinker.of(
            list -> {
              int i = list.indexOf(first);
              return i >= 0 && list.subList(i + 1, list.size()).contains(second);
            });
    // The predicate names the operations themselves: simplifying them would lose them.
    assertEquals(List.of(first, second), s.shrink(ops));
  }

  @Test
  void shrink_anyStoreOfNonZero_oneStoreOfOneByPidOne() {
    List<Op> ops = generated(2, 2000);
    Shrinker s =
        Shrinker.of(
            list ->
                list.stream()
                    .anyMatch(op -> op instanceof Op.Write && ((Op.Write) op).value() != 0));
    List<Op> small = s.shrink(ops);
    assertEquals(1, small.size(), small.toString());
    Op.Write w = (Op.Write) small.get(0);
    assertEquals(1, w.pid(), "pids renumbered densely from 1");
    assertEquals(1, w.value(), "the smallest value that still fails");
    assertEquals(0, w.addr() & 0xfff, "the address moved to its page start");
  }

  @Test
  void shrink_listThatPasses_refused() {
    assertThrows(
        IllegalArgumentException.class, () -> Shrinker.of(l -> false).shrink(generated(3, 10)));
  }

  @Test
  void shrink_forkChainAndEarlierMapping_removedWithRewrites() throws Exception {
    // Only the last three operations matter, but they name pid 3 (made by a chain of forks) and an
    // address placed after an unrelated mapping: ddmin alone cannot remove those.
    List<Op> ops =
        TraceParser.parse(
                "t",
                String.join(
                    "\n",
                    "spawn 1",
                    "fork 1 2",
                    "fork 2 3",
                    "mmap 3 0 4 rw private anon",
                    "mmap 3 0 2 rw private anon",
                    "write 3 0x10004000 5",
                    "read 3 0x10004000"))
            .lines()
            .stream()
            .map(TraceLine::op)
            .collect(java.util.stream.Collectors.toList());
    Shrinker s =
        Shrinker.of(
            list -> {
              ModelVm vm = new ModelVm();
              Result last = null;
              for (Op op : list) {
                last = vm.apply(op);
              }
              return list.get(list.size() - 1) instanceof Op.Read && Result.value(5).equals(last);
            });
    List<Op> small = s.shrink(ops);
    assertEquals(
        "spawn 1\nmmap 1 0x0 1 rw private anon\nwrite 1 0x10000000 5\nread 1 0x10000000\n",
        TracePrinter.print(new Trace("s", lines(small))));
  }

  @Test
  void shrink_hintedMapping_placedInsteadWithTheAddressesIntoIt() throws Exception {
    List<Op> ops =
        TraceParser.parse(
                "t",
                String.join(
                    "\n",
                    "spawn 1",
                    "mmap 1 0x10003000 6 rw shared anon",
                    "write 1 0x10005008 5",
                    "read 1 0x10005008"))
            .lines()
            .stream()
            .map(TraceLine::op)
            .collect(java.util.stream.Collectors.toList());
    Shrinker s =
        Shrinker.of(
            list -> {
              ModelVm vm = new ModelVm();
              Result last = null;
              for (Op op : list) {
                last = vm.apply(op);
              }
              return list.get(list.size() - 1) instanceof Op.Read && Result.value(5).equals(last);
            });
    // Placed at MMAP_BASE (the store and load moved along), private, half as long, and the word
    // moved to its page start in both at once.
    assertEquals(
        "spawn 1\nmmap 1 0x0 3 rw private anon\nwrite 1 0x10002000 5\nread 1 0x10002000\n",
        TracePrinter.print(new Trace("s", lines(s.shrink(ops)))));
  }

  // ---------------------------------------------------------------- planted divergence

  /** Pid the liar starts lying at: a generated run (seed 7) meets it at operation 8,790. */
  private static final int LIAR_PID = 400;

  @Test
  void divergenceShrinker_plantedLieInTenThousandOperationRun_atMostFifteenOperations()
      throws Exception {
    List<Op> run = generated(7, 10_000);
    Divergence d = Liar.run(run, LIAR_PID).orElseThrow();
    assertTrue(d.step() > 5000, "the lie is met late in the run: at " + d.step());

    DivergenceShrinker.Shrunk s =
        DivergenceShrinker.shrink(run, d, Liar.subject(LIAR_PID), Duration.ofSeconds(60));

    assertTrue(s.ops().size() <= 15, s.ops().size() + " operations: " + s.ops());
    assertTrue(s.complete());
    assertEquals(Divergence.Kind.RESULT, s.divergence().kind());
    assertEquals(OpKind.READ, OpKind.of(s.divergence().op()), "a wrong read stays a wrong read");
    assertEquals(s.ops().size() - 1, s.divergence().step(), "it fails at the last line");
    assertEquals(d.step() + 1, s.originalLength());

    // Expectations are the model's: the model passes, the liar fails at the last line only.
    Trace t = TraceParser.parse("shrunk", TracePrinter.print(s.trace()));
    assertTrue(Replay.run(t, new ModelVm()).passed());
    Replay.Report lied = Replay.run(t, new Liar(LIAR_PID));
    assertFalse(lied.passed());
    assertEquals(t.lines().size(), lied.unmet().get().line().line());
  }

  @Test
  void divergenceShrinker_sameInputTwice_sameTrace() {
    List<Op> run = generated(8, 4000);
    Divergence d = Liar.run(run, 20).orElseThrow();
    DivergenceShrinker.Shrunk a =
        DivergenceShrinker.shrink(run, d, Liar.subject(20), Duration.ofSeconds(30));
    DivergenceShrinker.Shrunk b =
        DivergenceShrinker.shrink(run, d, Liar.subject(20), Duration.ofSeconds(30));
    assertEquals(a.ops(), b.ops());
  }

  @Test
  void divergenceShrinker_runThatAgrees_notReproducible() {
    List<Op> run = generated(9, 50);
    Divergence fake = new Divergence(Divergence.Kind.RESULT, run.get(49), 49, "made up", null);
    assertThrows(
        IllegalStateException.class,
        () -> DivergenceShrinker.shrink(run, fake, Liar.subject(1000), Duration.ofSeconds(5)));
  }

  @Test
  void divergenceShrinker_wrongReadAfterBrokenInvariant_staysAWrongReadWithTheOtherAsSecond() {
    // Step by step the two-faced liar breaks an invariant at the store before the wrong read: a
    // shrinker that took the step-by-step failure as the one to keep would drift to it.
    List<Op> run = generated(7, 10_000);
    Subject two = Liar.twoFaced(LIAR_PID, true);
    Divergence d = two.run(run, 0).orElseThrow();
    assertEquals(Signature.of(d).toString(), "RESULT at read");

    DivergenceShrinker.Shrunk s = DivergenceShrinker.shrink(run, d, two, Duration.ofSeconds(60));

    assertEquals(Divergence.Kind.RESULT, s.divergence().kind(), s.divergence().getMessage());
    assertEquals(OpKind.READ, OpKind.of(s.divergence().op()), "a wrong read stays a wrong read");
    assertEquals(s.ops().size() - 1, s.divergence().step(), "it fails at the last line");
    assertTrue(s.ops().get(s.ops().size() - 1) instanceof Op.Read, s.ops().toString());
    assertEquals(
        Optional.of(s.divergence().getMessage()),
        two.run(s.ops(), 0).map(Divergence::getMessage),
        "the trace fails as kept when checked the way the hunt checks");
    assertFalse(s.stepByStepSame());
    assertEquals(Divergence.Kind.INVARIANT, s.stepByStep().kind());
    assertEquals(OpKind.WRITE, OpKind.of(s.stepByStep().op()));

    // The broken invariant, a failure of another kind, is the second finding, shrunk on its own.
    DivergenceShrinker.Shrunk other = s.other().orElseThrow();
    assertEquals(Divergence.Kind.INVARIANT, other.divergence().kind());
    assertTrue(other.ops().size() < s.ops().size(), other.ops() + " vs " + s.ops());
    assertTrue(other.other().isEmpty(), "a second finding has no second finding of its own");
    assertEquals(
        Optional.of(Signature.of(other.divergence()).toString()),
        two.run(other.ops(), 0).map(x -> Signature.of(x).toString()));
  }

  @Test
  void divergenceShrinker_brokenInvariantAtAFork_staysBrokenAtAFork() {
    // The invariant breaks at a small store; the hunt saw it first at the next fork. The shortest
    // list that breaks it ends at the store: shrinking may not slide there.
    List<Op> run = generated(7, 10_000);
    Subject two = Liar.twoFaced(LIAR_PID, false);
    int store = (int) two.run(run, 1).orElseThrow().step();
    int fork = store + 1;
    while (!(run.get(fork) instanceof Op.Fork)) {
      fork++;
    }
    List<Op> found = run.subList(0, fork + 1);
    Divergence d = two.run(found, 0).orElseThrow();
    assertEquals("INVARIANT at fork", Signature.of(d).toString());

    DivergenceShrinker.Shrunk s = DivergenceShrinker.shrink(found, d, two, Duration.ofSeconds(60));

    assertEquals("INVARIANT at fork", Signature.of(s.divergence()).toString(), s.ops().toString());
    assertTrue(s.ops().get(s.ops().size() - 1) instanceof Op.Fork, s.ops().toString());
    assertTrue(s.ops().size() <= 6, s.ops().toString());
    assertEquals(
        "INVARIANT at write", Signature.of(s.other().orElseThrow().divergence()).toString());
  }

  @Test
  void signature_result_keepsTheOperationKind() {
    Op read = new Op.Read(1, 0x10000000);
    Op write = new Op.Write(1, 0x10000000, 1);
    Signature s = Signature.of(new Divergence(Divergence.Kind.RESULT, read, 3, "x", null));
    assertTrue(s.matches(new Divergence(Divergence.Kind.RESULT, read, 9, "y", null)));
    assertFalse(s.matches(new Divergence(Divergence.Kind.RESULT, write, 3, "x", null)));
    assertFalse(s.matches(new Divergence(Divergence.Kind.VIEW, read, 3, "x", null)));
  }

  @Test
  void signature_viewOrInvariant_keepsTheOperationKindToo() {
    Op read = new Op.Read(1, 0x10000000);
    Op write = new Op.Write(1, 0x10000000, 1);
    for (Divergence.Kind k : List.of(Divergence.Kind.VIEW, Divergence.Kind.INVARIANT)) {
      Signature v = Signature.of(new Divergence(k, read, 3, "x", null));
      assertTrue(v.matches(new Divergence(k, read, 5, "y", null)), k.toString());
      assertFalse(v.matches(new Divergence(k, write, 3, "x", null)), k + " at another operation");
    }
  }

  @Test
  void simplify_candidates_areSimplerAndEnd() {
    // Repeatedly taking a candidate must end: every candidate is smaller by some measure.
    for (Op op : generated(10, 3000)) {
      Op cur = op;
      for (int steps = 0; ; steps++) {
        assertTrue(steps < 200, "simplification of " + op + " does not end");
        List<Op> next = Simplify.candidates(cur);
        if (next.isEmpty()) {
          break;
        }
        assertFalse(next.contains(cur), cur + " offers itself");
        cur = next.get(next.size() - 1);
      }
    }
  }

  private static List<TraceLine> lines(List<Op> ops) {
    List<TraceLine> out = new ArrayList<>();
    for (int i = 0; i < ops.size(); i++) {
      out.add(new TraceLine(i + 1, ops.get(i), Optional.empty()));
    }
    return out;
  }
}
