package org.vmoracle.spec.trace;

import java.util.Objects;
import java.util.Optional;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.VmSystem;

/**
 * Runs a trace against a {@link VmSystem}: every line in order, until the first line whose result
 * is not the one it expects. Lines without an expectation just run.
 */
public final class Replay {
  private Replay() {}

  /**
   * A line whose expectation was not met.
   *
   * @param source the trace's source
   * @param line the line, with the expectation it had
   * @param actual what the system answered instead
   */
  public record Unmet(String source, TraceLine line, Result actual) {
    public Unmet {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(actual, "actual");
      if (line.expect().isEmpty()) {
        throw new IllegalArgumentException("line " + line.line() + " expects nothing to miss");
      }
    }

    /** {@code SOURCE:LINE: expected R, got A (OP)}. */
    public String message() {
      return source
          + ":"
          + line.line()
          + ": expected "
          + line.expect().get()
          + ", got "
          + actual
          + "  ("
          + line.op()
          + ")";
    }

    @Override
    public String toString() {
      return message();
    }
  }

  /**
   * What a replay came to.
   *
   * @param unmet the first unmet expectation; empty when every expectation held
   * @param operations how many operations were applied, the one with the unmet expectation included
   */
  public record Report(Optional<Unmet> unmet, int operations) {
    public Report {
      Objects.requireNonNull(unmet, "unmet");
      if (operations < 0) {
        throw new IllegalArgumentException("ran " + operations + " operations: cannot be negative");
      }
    }

    /** True when every expectation held. */
    public boolean passed() {
      return unmet.isEmpty();
    }
  }

  /**
   * Applies the trace's operations to {@code system} in order and compares each result with the
   * line's expectation; stops after the first that differs, so no later line runs.
   *
   * <p>An exception thrown by the system is not caught: it is the system's failure, not the
   * trace's. Requires a system in the state the trace starts from (usually freshly booted).
   *
   * @throws IllegalStateException if the system answers {@code null}
   */
  public static Report run(Trace trace, VmSystem system) {
    int operations = 0;
    for (TraceLine line : trace.lines()) {
      Result actual = system.apply(line.op());
      operations++;
      if (actual == null) {
        throw new IllegalStateException(
            trace.source() + ":" + line.line() + ": the system answered null to " + line.op());
      }
      if (line.expect().isPresent() && !line.expect().get().equals(actual)) {
        return new Report(Optional.of(new Unmet(trace.source(), line, actual)), operations);
      }
    }
    return new Report(Optional.empty(), operations);
  }
}
