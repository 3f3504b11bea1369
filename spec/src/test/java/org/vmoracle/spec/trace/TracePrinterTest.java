package org.vmoracle.spec.trace;

import static java.util.stream.Collectors.joining;
import static java.util.stream.Collectors.toSet;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;

/** The printer, and the round trip through printer and parser. */
class TracePrinterTest {

  private static final long SEED = 0x5EED_7ACEL;
  private static final int CORPUS_LINES = 20_000;

  private static Trace parse(String source, String text) {
    try {
      return TraceParser.parse(source, text);
    } catch (TraceSyntaxException e) {
      throw new AssertionError("printed text did not parse back:\n" + e.getMessage(), e);
    }
  }

  /** The same operations and expectations, in the same order; line numbers may differ. */
  private static void assertSameLines(Trace expected, Trace actual) {
    assertEquals(expected.lines().size(), actual.lines().size(), "number of lines");
    for (int i = 0; i < expected.lines().size(); i++) {
      TraceLine e = expected.lines().get(i);
      TraceLine a = actual.lines().get(i);
      assertEquals(e.op(), a.op(), "op of line " + e.line());
      assertEquals(e.expect(), a.expect(), "expectation of line " + e.line());
    }
  }

  @Test
  void print_designExample_isCanonical() {
    assertEquals(Examples.DESIGN_CANONICAL, TracePrinter.print(parse("t", Examples.DESIGN)));
  }

  @Test
  void print_designExample_roundTrips() {
    Trace once = parse("t", Examples.DESIGN);
    String printed = TracePrinter.print(once);
    Trace twice = parse("t", printed);
    assertSameLines(once, twice);
    assertEquals(printed, TracePrinter.print(twice));
    assertFalse(printed.contains("#"), "comments are dropped");
  }

  @Test
  void print_line_appendsExpectationAfterArrow() {
    Op read = new Op.Read(1, 0x10000008L);
    assertEquals("read 1 0x10000008", TracePrinter.print(new TraceLine(1, read, Optional.empty())));
    assertEquals(
        "read 1 0x10000008 -> 42",
        TracePrinter.print(new TraceLine(1, read, Optional.of(Result.value(42)))));
    assertEquals(
        "read 1 0x10000008 -> 0xffffffffffffffff",
        TracePrinter.print(new TraceLine(1, read, Optional.of(Result.value(-1)))));
    assertEquals(
        "read 1 0x10000008 -> BUS",
        TracePrinter.print(new TraceLine(1, read, Optional.of(Result.of(Errno.BUS)))));
    assertEquals(
        "spawn 2 -> ok",
        TracePrinter.print(new TraceLine(7, new Op.Spawn(2), Optional.of(Result.OK))));
  }

  @Test
  void print_emptyTrace_isEmptyText() {
    assertEquals("", TracePrinter.print(new Trace("t", List.of())));
  }

  @Test
  void roundTrip_randomCorpus_sameOpsAndExpectations() {
    Trace corpus = new RandomOps(SEED).trace("corpus", CORPUS_LINES);
    assertSameLines(corpus, parse("corpus", TracePrinter.print(corpus)));
  }

  @Test
  void roundTrip_randomCorpus_printIsFixedPoint() {
    String printed = TracePrinter.print(new RandomOps(SEED + 1).trace("corpus", CORPUS_LINES));
    assertEquals(printed, TracePrinter.print(parse("corpus", printed)));
  }

  @Test
  void roundTrip_randomCorpus_coversEveryOperationAndResultKind() {
    Trace corpus = new RandomOps(SEED).trace("corpus", CORPUS_LINES);
    Set<Class<?>> ops =
        corpus.lines().stream().<Class<?>>map(l -> l.op().getClass()).collect(toSet());
    assertEquals(Set.of(Op.class.getPermittedSubclasses()), ops, "every kind of Op generated");
    Set<Class<?>> results =
        corpus.lines().stream()
            .flatMap(l -> l.expect().stream())
            .<Class<?>>map(Object::getClass)
            .collect(toSet());
    assertEquals(Set.of(Result.class.getPermittedSubclasses()), results);
  }

  /**
   * The parser does not depend on the printer's spacing or number bases: each printed line is
   * re-spaced with tabs and runs of spaces, its hex numbers written in decimal where they fit below
   * 2^63, and commented, and it still reads back to the same line.
   */
  @Test
  void roundTrip_respacedDecimalCommentedCorpus_sameOpsAndExpectations() {
    Trace corpus = new RandomOps(SEED + 2).trace("corpus", CORPUS_LINES / 4);
    SplittableRandom random = new SplittableRandom(SEED + 3);
    StringBuilder text = new StringBuilder("# a rewritten corpus\n");
    for (String line : TracePrinter.print(corpus).split("\n")) {
      String[] tokens = line.split(" ");
      StringBuilder sb = new StringBuilder(random.nextBoolean() ? "\t" : "");
      for (String token : tokens) {
        sb.append(rewrite(token, random)).append(random.nextBoolean() ? "\t" : "   ");
      }
      if (random.nextBoolean()) {
        sb.append("# comment -> 5");
      }
      text.append(sb).append('\n');
      if (random.nextInt(8) == 0) {
        text.append("\n   # an interruption\n");
      }
    }
    assertSameLines(corpus, parse("corpus", text.toString()));
  }

  private static String rewrite(String token, SplittableRandom random) {
    if (token.startsWith("0x") && random.nextBoolean()) {
      long v = Long.parseUnsignedLong(token.substring(2), 16);
      return v >= 0 ? Long.toString(v) : Long.toUnsignedString(v);
    }
    return token;
  }

  @Test
  void roundTrip_everyErrnoExpectation_readsBack() {
    Set<Errno> seen = new HashSet<>();
    StringBuilder text = new StringBuilder();
    for (Errno e : Errno.values()) {
      text.append("spawn 1 -> ").append(e).append('\n');
    }
    for (TraceLine line : parse("t", text.toString()).lines()) {
      seen.add(((Result.Failed) line.expect().orElseThrow()).errno());
    }
    assertEquals(Set.of(Errno.values()), seen);
    assertEquals(
        Arrays.stream(Errno.values()).map(e -> "spawn 1 -> " + e + "\n").collect(joining()),
        TracePrinter.print(parse("t", text.toString())));
  }
}
