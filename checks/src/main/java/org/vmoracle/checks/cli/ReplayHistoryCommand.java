package org.vmoracle.checks.cli;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.vmoracle.checks.lin.HistoryFile;
import org.vmoracle.checks.lin.HistoryReplay;
import org.vmoracle.spec.trace.TraceSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vmoracle replay-history FILE…}: checks each concurrent history file ({@link HistoryFile},
 * as {@code hunt --threads} writes them) again for linearizability against the model, then reruns
 * its threads' calls on the implementation of its configuration.
 *
 * <p>Output: for each file, {@code PASS FILE (linearizable: …)} or {@code FAIL FILE: not
 * linearizable: …}, then {@code reruns: 3 of 10 failed (…)}; a file that does not parse has each
 * problem printed ({@code FILE:LINE:COL: expected …, found …}) and fails. The last line is the
 * summary, {@code replay-history: 2 files, 1 passed, 1 failed}.
 */
@Command(
    name = "replay-history",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Checks concurrent history files (.history, as 'hunt --threads' writes them) again: the"
          + " setup through the model from boot, then whether some order of the threads' calls"
          + " that keeps their real-time order gives the answers recorded and the end recorded"
          + " (deterministic: a history the model cannot linearize fails every time).",
      "Then reruns the same threads' calls on a fresh implementation of the file's frames and"
          + " injected bugs, --reruns times, each history checked as the hunt checks one, and"
          + " says how many failed (a race comes back only sometimes). The last line is a"
          + " one-line summary."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:every recorded history is linearizable and no rerun failed",
      "1:a recorded history is not linearizable, a rerun failed, or a file has a syntax error",
      "2:bad usage, or a file cannot be read (nothing is run)"
    })
final class ReplayHistoryCommand implements Callable<Integer> {

  /** Reruns of each file's threads by default. */
  static final int DEFAULT_RERUNS = 10;

  @Spec CommandSpec spec;

  @Option(
      names = "--reruns",
      paramLabel = "N",
      defaultValue = "" + DEFAULT_RERUNS,
      description =
          "Rerun each file's threads on the implementation N times (default: ${DEFAULT-VALUE};"
              + " 0: only check the recorded history).")
  int reruns;

  @Parameters(arity = "1..*", paramLabel = "FILE", description = "History files.")
  List<String> files = new ArrayList<>();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (reruns < 0 || reruns > 10_000) {
      throw new ParameterException(
          spec.commandLine(), "--reruns must lie in [0, 10000], not " + reruns);
    }
    Map<String, String> texts = ReplayCommand.readAll(files, err);
    if (texts == null) {
      return Main.USAGE;
    }
    int passed = 0;
    int failed = 0;
    for (Map.Entry<String, String> e : texts.entrySet()) {
      if (one(e.getKey(), e.getValue(), out)) {
        passed++;
      } else {
        failed++;
      }
      out.flush();
    }
    out.printf(
        "replay-history: %s, %d passed, %d failed%n",
        ReplayCommand.count(passed + failed, "file"), passed, failed);
    return failed == 0 ? Main.OK : Main.FOUND;
  }

  /** Checks and reruns one file, printing its verdict; answers whether it passed. */
  private boolean one(String file, String text, PrintWriter out) {
    HistoryFile.History h;
    try {
      h = HistoryFile.parse(file, text);
    } catch (TraceSyntaxException e) {
      for (TraceSyntaxException.Problem p : e.problems()) {
        out.println(p);
      }
      int bad = e.problems().size() + e.omitted();
      out.println(
          "FAIL " + file + ": " + bad + (bad == 1 ? " bad line" : " bad lines") + ", nothing run");
      return false;
    }
    HistoryReplay.Verdict v = HistoryReplay.check(h);
    out.println(
        (v.linearizable()
            ? "PASS " + file + " (" + v.why() + ")"
            : "FAIL " + file + ": " + v.why()));
    if (reruns == 0) {
      return v.linearizable();
    }
    HistoryReplay.Reruns r = HistoryReplay.rerun(h, reruns);
    out.printf(
        "  reruns on the implementation (%,d frames%s): %d of %d failed%s%n",
        h.frames(),
        h.bugs().isEmpty()
            ? ""
            : ", injected "
                + h.bugs().stream()
                    .sorted()
                    .map(Enum::name)
                    .reduce((a, b) -> a + ", " + b)
                    .orElse(""),
        r.failed(),
        r.runs(),
        r.first().map(w -> ", the first: " + w.split("\n", 2)[0]).orElse(""));
    return v.linearizable() && r.failed() == 0;
  }
}
