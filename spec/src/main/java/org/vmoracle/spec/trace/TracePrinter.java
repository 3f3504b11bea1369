package org.vmoracle.spec.trace;

/**
 * Writes a trace in canonical form: one operation a line as {@link org.vmoracle.spec.Op#toString()}
 * spells it, then {@code " -> "} and {@link org.vmoracle.spec.Result#toString()} when the line has
 * an expectation. Comments, blank lines and the original spacing and number bases are not kept.
 *
 * <p>{@link TraceParser} reads the output back to the same operations and expectations, and
 * printing that again gives the same text: printing is a fixed point.
 */
public final class TracePrinter {
  private TracePrinter() {}

  /** The whole trace, each line ended by {@code \n}; the empty string for an empty trace. */
  public static String print(Trace trace) {
    StringBuilder sb = new StringBuilder();
    for (TraceLine line : trace.lines()) {
      sb.append(print(line)).append('\n');
    }
    return sb.toString();
  }

  /** One line, without its line ending. */
  public static String print(TraceLine line) {
    return line.expect().map(r -> line.op() + " -> " + r).orElseGet(() -> line.op().toString());
  }
}
