package org.vmoracle.spec.trace;

import java.util.Objects;
import java.util.Optional;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;

/**
 * One operation of a trace, with the result it is expected to give, if the trace says.
 *
 * @param line where the operation stands in its source, counted from 1
 * @param op the operation
 * @param expect the result written after {@code ->}; empty when the line has none
 */
public record TraceLine(int line, Op op, Optional<Result> expect) {

  public TraceLine {
    if (line < 1) {
      throw new IllegalArgumentException("bad line number " + line + ": lines count from 1");
    }
    Objects.requireNonNull(op, "op");
    Objects.requireNonNull(expect, "expect");
  }
}
