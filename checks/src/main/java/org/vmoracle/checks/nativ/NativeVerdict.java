package org.vmoracle.checks.nativ;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.vmoracle.spec.Op;

/**
 * What a native run of one trace came to.
 *
 * @param kind the verdict
 * @param source the trace's source (its file name)
 * @param line the line of the disagreement, of the unsupported operation or of the runner's
 *     failure; 0 for {@link Kind#AGREE} (and for a failure before the first line)
 * @param op the operation on that line, or {@code null}
 * @param model what the model answered there ({@link Kind#DIFFER}), or {@code null}
 * @param kernel what the kernel answered there ({@link Kind#DIFFER}), or {@code null}
 * @param rule the rule that makes the line unsupported ({@link Kind#UNSUPPORTED}), or {@code null}
 * @param detail the runner's failure ({@link Kind#ERROR}) or a note on a difference, or empty
 * @param operations how many operations both sides ran and agreed on
 * @param exhausted lines where the kernel answered an out-of-memory failure the model allows
 *     (MEM-1) and the run went on as if the operation had not been asked for
 * @param skipped lines the kernel could not be asked but that changed nothing in the model, passed
 *     over (only when the run was asked to, {@link NativeRunner#run(Trace, boolean)})
 */
public record NativeVerdict(
    Kind kind,
    String source,
    int line,
    Op op,
    String model,
    String kernel,
    Deviations.Rule rule,
    String detail,
    int operations,
    List<Integer> exhausted,
    List<Skip> skipped) {

  /** A line passed over: the kernel could not be asked, and in the model it changed nothing. */
  public record Skip(int line, Deviations.Rule rule) {}

  /** The four outcomes. */
  public enum Kind {
    /** Every operation gave the same result on both sides. */
    AGREE,
    /** The first operation whose results differ: the model or the kernel is not what we think. */
    DIFFER,
    /** The trace reaches an operation the kernel cannot be asked (a DEV- or HOST- rule). */
    UNSUPPORTED,
    /** The runner itself failed (a worker died, the coordinator did not answer). */
    ERROR
  }

  public NativeVerdict {
    Objects.requireNonNull(kind, "kind");
    Objects.requireNonNull(source, "source");
    Objects.requireNonNull(detail, "detail");
    exhausted = List.copyOf(exhausted);
    skipped = List.copyOf(skipped);
  }

  /** This verdict with the MEM-1 lines and the skipped lines of the run. */
  NativeVerdict with(List<Integer> exhaustedLines, List<Skip> skippedLines) {
    return new NativeVerdict(
        kind,
        source,
        line,
        op,
        model,
        kernel,
        rule,
        detail,
        operations,
        exhaustedLines,
        skippedLines);
  }

  /** The one line {@code vmoracle native} prints for the trace. */
  public String describe() {
    String where = source + (line > 0 ? ":" + line : "");
    String opText = op == null ? "" : " (" + op + ")";
    switch (kind) {
      case AGREE:
        return "AGREE " + source + " (" + count(operations, "op") + exhaustedNote() + ")";
      case DIFFER:
        return "DIFFER "
            + where
            + ": model "
            + model
            + ", kernel "
            + kernel
            + opText
            + (detail.isEmpty() ? "" : "; " + detail)
            + exhaustedNote();
      case UNSUPPORTED:
        return "UNSUPPORTED "
            + where
            + ": "
            + rule.id()
            + " "
            + rule.title()
            + "; "
            + rule.linux()
            + opText
            + "; "
            + count(operations, "op")
            + " agreed before it"
            + exhaustedNote();
      case ERROR:
        return "ERROR " + where + ": " + detail + opText;
    }
    throw new AssertionError(kind);
  }

  /** The notes on MEM-1 lines and skipped lines, each after "; ", or nothing. */
  private String exhaustedNote() {
    StringBuilder sb = new StringBuilder();
    if (!exhausted.isEmpty()) {
      sb.append("; the kernel ran out of memory (MEM-1) at ")
          .append(exhausted.size() == 1 ? "line " : "lines ")
          .append(exhausted.stream().map(String::valueOf).collect(Collectors.joining(", ")));
    }
    if (!skipped.isEmpty()) {
      Map<String, List<Integer>> byRule = new TreeMap<>();
      for (Skip s : skipped) {
        byRule.computeIfAbsent(s.rule().id(), k -> new ArrayList<>()).add(s.line());
      }
      sb.append("; skipped ")
          .append(count(skipped.size(), "line"))
          .append(" that changed nothing (")
          .append(
              byRule.entrySet().stream()
                  .map(
                      e ->
                          e.getKey()
                              + ": "
                              + e.getValue().stream()
                                  .map(String::valueOf)
                                  .collect(Collectors.joining(" ")))
                  .collect(Collectors.joining("; ")))
          .append(')');
    }
    return sb.toString();
  }

  static String count(long n, String noun) {
    return n + " " + (n == 1 ? noun : noun + "s");
  }

  @Override
  public String toString() {
    return describe();
  }
}
