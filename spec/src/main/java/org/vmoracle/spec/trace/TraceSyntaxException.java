package org.vmoracle.spec.trace;

import java.io.Serializable;
import java.util.List;
import java.util.Objects;

/**
 * A trace that does not follow the grammar: one {@link Problem} for each bad line (the first
 * problem on that line), so that a whole file can be fixed in one pass. Nothing of such a trace is
 * run.
 */
public final class TraceSyntaxException extends Exception {
  private static final long serialVersionUID = 1L;

  /**
   * What the text should have had at one place, and what it had instead.
   *
   * @param source the trace's source, as in {@link Trace#source()}
   * @param line counted from 1
   * @param column counted from 1, in characters (a tab counts as one)
   * @param expected what the grammar wanted there, as a phrase ({@code "a pid"})
   * @param found the offending token in single quotes, or {@link #END_OF_LINE}
   */
  public record Problem(String source, int line, int column, String expected, String found)
      implements Serializable {

    private static final long serialVersionUID = 1L;

    /** What {@link #found} says when the line ended where more was expected. */
    public static final String END_OF_LINE = "end of line";

    public Problem {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(expected, "expected");
      Objects.requireNonNull(found, "found");
      if (line < 1 || column < 1) {
        throw new IllegalArgumentException(
            "bad position " + line + ":" + column + ": lines and columns count from 1");
      }
    }

    /** {@code SOURCE:LINE:COL: expected EXPECTED, found FOUND}. */
    @Override
    public String toString() {
      return source + ":" + line + ":" + column + ": expected " + expected + ", found " + found;
    }
  }

  private final List<Problem> problems;
  private final int omitted;

  /**
   * @param problems the problems to report, in line order; at least one
   * @param omitted how many further bad lines there were that are not listed
   */
  public TraceSyntaxException(List<Problem> problems, int omitted) {
    super(message(problems, omitted));
    this.problems = List.copyOf(problems);
    this.omitted = omitted;
  }

  /** Every problem listed; none omitted. */
  public TraceSyntaxException(List<Problem> problems) {
    this(problems, 0);
  }

  private static String message(List<Problem> problems, int omitted) {
    if (problems.isEmpty()) {
      throw new IllegalArgumentException("a syntax error needs at least one problem");
    }
    if (omitted < 0) {
      throw new IllegalArgumentException("omitted " + omitted + " problems: it cannot be negative");
    }
    StringBuilder sb = new StringBuilder();
    for (Problem p : problems) {
      if (sb.length() > 0) {
        sb.append('\n');
      }
      sb.append(p);
    }
    if (omitted > 0) {
      sb.append("\n... and ")
          .append(omitted)
          .append(omitted == 1 ? " more bad line" : " more bad lines");
    }
    return sb.toString();
  }

  /** The problems, one per bad line, in line order. */
  public List<Problem> problems() {
    return problems;
  }

  /** How many bad lines there were beyond those in {@link #problems()}. */
  public int omitted() {
    return omitted;
  }
}
