package org.vmoracle.spec.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.vmoracle.spec.trace.TraceSyntaxException.Problem;

class TraceSyntaxExceptionTest {

  @Test
  void problem_toString_namesPlaceExpectedAndFound() {
    assertEquals(
        "a.trace:3:9: expected a pid, found 'x'",
        new Problem("a.trace", 3, 9, "a pid", "'x'").toString());
    assertEquals(
        "a.trace:1:7: expected a pid, found end of line",
        new Problem("a.trace", 1, 7, "a pid", Problem.END_OF_LINE).toString());
  }

  @Test
  void problem_positionBelowOne_rejected() {
    assertThrows(IllegalArgumentException.class, () -> new Problem("a", 0, 1, "x", "'y'"));
    assertThrows(IllegalArgumentException.class, () -> new Problem("a", 1, 0, "x", "'y'"));
  }

  @Test
  void getMessage_listsEveryProblemOnItsOwnLine() {
    Problem first = new Problem("a", 1, 1, "an operation", "'frok'");
    Problem second = new Problem("a", 4, 8, "a pid", Problem.END_OF_LINE);
    TraceSyntaxException e = new TraceSyntaxException(List.of(first, second));
    assertEquals(
        "a:1:1: expected an operation, found 'frok'\na:4:8: expected a pid, found end of line",
        e.getMessage());
    assertEquals(List.of(first, second), e.problems());
    assertEquals(0, e.omitted());
  }

  @Test
  void getMessage_omittedProblems_counted() {
    Problem p = new Problem("a", 1, 1, "an operation", "'frok'");
    assertEquals(
        "a:1:1: expected an operation, found 'frok'\n... and 1 more bad line",
        new TraceSyntaxException(List.of(p), 1).getMessage());
  }

  @Test
  void constructor_noProblems_rejected() {
    assertThrows(IllegalArgumentException.class, () -> new TraceSyntaxException(List.of()));
  }
}
