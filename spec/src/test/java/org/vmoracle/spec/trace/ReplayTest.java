package org.vmoracle.spec.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Function;
import org.junit.jupiter.api.Test;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.View;
import org.vmoracle.spec.VmSystem;

class ReplayTest {

  /** A system that answers every operation by a fixed rule and remembers what it was asked. */
  private static final class FakeSystem implements VmSystem {
    final List<Op> applied = new ArrayList<>();
    private final Function<Op, Result> answer;

    FakeSystem(Function<Op, Result> answer) {
      this.answer = answer;
    }

    static FakeSystem always(Result r) {
      return new FakeSystem(op -> r);
    }

    @Override
    public Result apply(Op op) {
      applied.add(op);
      return answer.apply(op);
    }

    @Override
    public View view() {
      return new View(new TreeMap<>(), new TreeMap<>(), new TreeMap<>());
    }
  }

  private static Trace parse(String text) {
    try {
      return TraceParser.parse("r.trace", text);
    } catch (TraceSyntaxException e) {
      throw new AssertionError(e.getMessage(), e);
    }
  }

  @Test
  void run_everyExpectationMet_passesAndCountsOperations() {
    FakeSystem system = FakeSystem.always(Result.OK);
    Replay.Report report = Replay.run(parse("spawn 1 -> ok\nfork 1 2 -> ok\nexit 2\n"), system);
    assertTrue(report.passed());
    assertEquals(Optional.empty(), report.unmet());
    assertEquals(3, report.operations());
    assertEquals(List.of(new Op.Spawn(1), new Op.Fork(1, 2), new Op.Exit(2)), system.applied);
  }

  @Test
  void run_unmetExpectation_namesItsLineAndRunsNothingAfter() {
    FakeSystem system = FakeSystem.always(Result.OK);
    Trace trace =
        parse(
            String.join(
                "\n",
                "spawn 1 -> ok",
                "# the next line expects a value; the system answers ok",
                "",
                "read 1 0x10000008 -> 42",
                "spawn 2",
                "spawn 3 -> ok"));
    Replay.Report report = Replay.run(trace, system);

    assertFalse(report.passed());
    assertEquals(2, report.operations());
    assertEquals(List.of(new Op.Spawn(1), new Op.Read(1, 0x10000008L)), system.applied);
    Replay.Unmet unmet = report.unmet().orElseThrow();
    assertEquals(4, unmet.line().line());
    assertEquals(Result.OK, unmet.actual());
    assertEquals("r.trace", unmet.source());
    assertEquals("r.trace:4: expected 42, got ok  (read 1 0x10000008)", unmet.message());
  }

  @Test
  void run_linesWithoutExpectation_justRun() {
    FakeSystem system = FakeSystem.always(Result.of(Errno.SEGV));
    Replay.Report report = Replay.run(parse("spawn 1\nread 1 0x1000\nwrite 1 0x1000 5\n"), system);
    assertTrue(report.passed());
    assertEquals(3, report.operations());
  }

  @Test
  void run_errnoExpectation_comparedByErrno() {
    FakeSystem system = FakeSystem.always(Result.of(Errno.ENOMEM));
    assertTrue(Replay.run(parse("mlock 1 0x1000 1 -> ENOMEM"), system).passed());
    Replay.Report report = Replay.run(parse("mlock 1 0x1000 1 -> EAGAIN"), system);
    assertEquals(
        "r.trace:1: expected EAGAIN, got ENOMEM  (mlock 1 0x1000 1)",
        report.unmet().orElseThrow().message());
  }

  @Test
  void run_valueExpectation_comparedByValue() {
    Map<Op, Result> answers =
        Map.of(
            new Op.Read(1, 0x1000), Result.value(-1),
            new Op.Read(1, 0x1008), Result.value(7));
    FakeSystem system = new FakeSystem(op -> answers.getOrDefault(op, Result.OK));
    Replay.Report report =
        Replay.run(
            parse("read 1 0x1000 -> 0xffffffffffffffff\nread 1 0x1008 -> 8\nspawn 9"), system);
    assertEquals(2, report.operations());
    assertEquals(
        "r.trace:2: expected 8, got 7  (read 1 0x1008)", report.unmet().orElseThrow().message());
  }

  @Test
  void run_designExampleAgainstScriptedSystem_passes() {
    Trace trace = parse(Examples.DESIGN);
    Iterator<Result> script =
        trace.lines().stream().map(l -> l.expect().orElse(Result.OK)).iterator();
    Replay.Report report = Replay.run(trace, new FakeSystem(op -> script.next()));
    assertTrue(report.passed(), () -> report.unmet().map(Replay.Unmet::message).orElse(""));
    assertEquals(17, report.operations());
  }

  @Test
  void run_emptyTrace_passesWithNoOperations() {
    Replay.Report report = Replay.run(parse("# nothing\n"), FakeSystem.always(Result.OK));
    assertTrue(report.passed());
    assertEquals(0, report.operations());
  }

  @Test
  void run_systemAnswersNull_throwsNamingTheLine() {
    IllegalStateException e =
        assertThrows(
            IllegalStateException.class,
            () -> Replay.run(parse("spawn 1\n\nspawn 2"), new FakeSystem(op -> null)));
    assertEquals("r.trace:1: the system answered null to spawn 1", e.getMessage());
  }

  @Test
  void unmet_lineWithoutExpectation_rejected() {
    TraceLine line = new TraceLine(1, new Op.Spawn(1), Optional.empty());
    assertThrows(IllegalArgumentException.class, () -> new Replay.Unmet("t", line, Result.OK));
  }
}
