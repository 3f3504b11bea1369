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

    /**
     * {@code expected} and {@code found} are made safe to print: control and format characters are
     * escaped and words longer than {@link #MAX_ECHO} characters are cut ({@link #clip}), since
     * both may carry text of the trace.
     */
    public Problem {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(expected, "expected");
      Objects.requireNonNull(found, "found");
      if (line < 1 || column < 1) {
        throw new IllegalArgumentException(
            "bad position " + line + ":" + column + ": lines and columns count from 1");
      }
      expected = clip(expected);
      found = clip(found);
    }

    /** {@code SOURCE:LINE:COL: expected EXPECTED, found FOUND}. */
    @Override
    public String toString() {
      return source + ":" + line + ":" + column + ": expected " + expected + ", found " + found;
    }
  }

  /**
   * The longest token a message echoes whole, in characters: a line of a trace is a few dozen
   * characters, so anything longer is shown by its start and its length (a number of a million
   * digits is not repeated back).
   */
  public static final int MAX_ECHO = 80;

  /**
   * The longest word {@link #clip} lets through, in characters: longer than anything {@link #echo}
   * gives (a quoted, escaped {@link #MAX_ECHO} characters take at most 6 each), so that clipping an
   * echo changes nothing.
   */
  public static final int MAX_WORD = 8 * MAX_ECHO;

  /**
   * {@code token} as a problem shows what was found: in single quotes, with control and format
   * characters escaped ({@link #escape}: an echo must not drive the terminal or hide text); longer
   * than {@link #MAX_ECHO} characters, its first {@code MAX_ECHO} and its length: {@code '12345…'
   * (a token of 1,000,000 characters)}. No requirements.
   */
  public static String echo(String token) {
    if (token.length() <= MAX_ECHO) {
      return "'" + escape(token) + "'";
    }
    return String.format(
        "'%s…' (a token of %,d characters)", escape(start(token, MAX_ECHO)), token.length());
  }

  /**
   * {@code text} with control and format characters escaped ({@link #escape}) and every word (a run
   * without spaces) longer than {@link #MAX_WORD} characters cut to its first {@link #MAX_ECHO} and
   * its length, so that a message built around an echoed value stays about a line long. Idempotent:
   * what {@link #echo} gives comes through unchanged. No requirements.
   */
  public static String clip(String text) {
    StringBuilder sb = new StringBuilder(Math.min(text.length(), 4 * MAX_ECHO));
    int i = 0;
    while (i < text.length()) {
      int end = text.indexOf(' ', i);
      end = end < 0 ? text.length() : end;
      String word = text.substring(i, end);
      if (word.length() > MAX_WORD) {
        sb.append(escape(start(word, MAX_ECHO)))
            .append(String.format("…(%,d characters)", word.length()));
      } else {
        sb.append(escape(word));
      }
      if (end < text.length()) {
        sb.append(' ');
      }
      i = end + 1;
    }
    return sb.toString();
  }

  /**
   * {@code s} with every character that does not print as itself escaped: a backslash and t, n or r
   * for a tab, newline or carriage return; a backslash, u and four hex digits for other control
   * characters (C0, DEL, C1), format characters (a byte-order mark, zero-width and bidirectional
   * marks), line and paragraph separators and unpaired surrogates. No requirements.
   */
  public static String escape(String s) {
    StringBuilder sb = null;
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      String e = escaped(s, i);
      if (e != null && sb == null) {
        sb = new StringBuilder(s.length() + 8).append(s, 0, i);
      }
      if (sb != null) {
        if (e != null) {
          sb.append(e);
        } else {
          sb.append(c);
        }
      }
    }
    return sb == null ? s : sb.toString();
  }

  /** How the char at {@code i} is written when escaped; null when it prints as itself. */
  private static String escaped(String s, int i) {
    char c = s.charAt(i);
    switch (c) {
      case '\t':
        return "\\t";
      case '\n':
        return "\\n";
      case '\r':
        return "\\r";
      default:
        break;
    }
    boolean unpaired =
        Character.isHighSurrogate(c)
            ? i + 1 >= s.length() || !Character.isLowSurrogate(s.charAt(i + 1))
            : Character.isLowSurrogate(c)
                && (i == 0 || !Character.isHighSurrogate(s.charAt(i - 1)));
    int type = Character.getType(c);
    if (Character.isISOControl(c)
        || unpaired
        || type == Character.FORMAT
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR) {
      return String.format("\\u%04x", (int) c);
    }
    return null;
  }

  /** The first {@code n} characters of {@code s}, one fewer if a surrogate pair would be split. */
  private static String start(String s, int n) {
    int end = Character.isHighSurrogate(s.charAt(n - 1)) ? n - 1 : n;
    return s.substring(0, end);
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
