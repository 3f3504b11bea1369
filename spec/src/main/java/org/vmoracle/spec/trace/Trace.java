package org.vmoracle.spec.trace;

import java.util.List;
import java.util.Objects;

/**
 * A trace: operations in the order they run, each with its expectation if it has one.
 *
 * @param source where the trace came from (a file name, or a label such as {@code "shrunk"}); it
 *     opens every problem and every unmet expectation reported about the trace
 * @param lines the operations, in order
 */
public record Trace(String source, List<TraceLine> lines) {

  public Trace {
    Objects.requireNonNull(source, "source");
    lines = List.copyOf(lines);
  }
}
