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
  void echo_shortToken_quotedWhole() {
    String eighty = "x".repeat(TraceSyntaxException.MAX_ECHO);
    assertEquals("'" + eighty + "'", TraceSyntaxException.echo(eighty));
  }

  @Test
  void echo_longToken_itsStartAndItsLength() {
    String token = "1".repeat(TraceSyntaxException.MAX_ECHO) + "23456";
    assertEquals(
        "'" + "1".repeat(TraceSyntaxException.MAX_ECHO) + "…' (a token of 85 characters)",
        TraceSyntaxException.echo(token));
  }

  @Test
  void echo_longTokenOfSurrogatePairs_notCutInsideAPair() {
    String token = "x" + "\uD83D\uDE00".repeat(60); // 121 chars: the 80th is a high surrogate
    String echo = TraceSyntaxException.echo(token);
    assertEquals("'x" + "\uD83D\uDE00".repeat(39) + "…' (a token of 121 characters)", echo);
  }

  @Test
  void escape_controlFormatAndLoneSurrogates_writtenAsEscapes() {
    assertEquals(
        "a\\tb\\u001b[0m\\u007f\\u0085\\ufeff\\u202e\\u2028\\ud800z",
        TraceSyntaxException.escape("a\tb\u001b[0m\u007f\u0085\uFEFF\u202E\u2028\uD800z"));
    assertEquals("plain é ✓ \uD83D\uDE00", TraceSyntaxException.escape("plain é ✓ \uD83D\uDE00"));
  }

  @Test
  void clip_longWordCutShortWordsKept_andEchoesPassUnchanged() {
    String clipped = TraceSyntaxException.clip("bad name '" + "n".repeat(10_000) + "': names are");
    assertEquals("bad name " + "'" + "n".repeat(79) + "…(10,003 characters) names are", clipped);
    String echo = TraceSyntaxException.echo("\u0001".repeat(200));
    assertEquals(echo, TraceSyntaxException.clip(echo));
  }

  @Test
  void problem_controlCharactersAndLongWords_madeSafeToPrint() {
    Problem p = new Problem("a", 1, 1, "a pid", "'\u001b]0;owned\u0007'");
    assertEquals("a:1:1: expected a pid, found '\\u001b]0;owned\\u0007'", p.toString());
  }

  @Test
  void constructor_noProblems_rejected() {
    assertThrows(IllegalArgumentException.class, () -> new TraceSyntaxException(List.of()));
  }
}
