package org.vmoracle.checks.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.vmoracle.checks.nativ.CProgram;
import org.vmoracle.checks.nativ.NativeRunner;
import org.vmoracle.checks.nativ.NativeUnavailableException;
import org.vmoracle.checks.nativ.NativeVerdict;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceParser;
import org.vmoracle.spec.trace.TraceSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vmoracle native FILE…}: runs each trace in the model and on the host Linux kernel side by
 * side ({@link NativeRunner}) and prints one verdict line per file, in the order given:
 *
 * <pre>
 * AGREE examples/02-fork-and-cow.trace (118 ops)
 * DIFFER t.trace:7: model EINVAL, kernel 0x20000000 (mmap 1 0x20000800 1 rw private anon)
 * UNSUPPORTED examples/01-first-steps.trace:41: DEV-1 the shared page is at 0x7ffffffff000; …
 * </pre>
 *
 * <p>then the summary, {@code native: 13 files, 2 agreed, 0 differed, 11 unsupported, 0 errors,
 * 1234 operations compared}. A file that does not parse has its problems printed and counts as an
 * error.
 *
 * <p>All files are read before any is run: a file that cannot be read is a usage error (exit 2),
 * and so is a machine the runner cannot run on (not Linux on x86-64, no gcc), said in one line.
 * Otherwise the exit code is 1 when a file differed or the runner failed, 0 when every file agreed
 * or was unsupported.
 *
 * <p>{@code --emit-c OUT} takes one trace: it is run as above, then written to OUT as a C program
 * ({@link CProgram}) that replays it on Linux with plain system calls.
 */
@Command(
    name = "native",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Runs trace files in the model and on the host Linux kernel side by side, every result"
          + " compared, and prints AGREE, DIFFER or UNSUPPORTED for each file, then a one-line"
          + " summary.",
      "UNSUPPORTED names the first line the kernel cannot be asked and why: a DEV- rule of"
          + " spec/SEMANTICS.md (where the model deliberately differs from Linux) or a HOST- limit"
          + " of the runner. Expectations (-> R) are not checked here; 'vmoracle replay' does"
          + " that.",
      "With --emit-c, the one trace is run as usual and then written as a standalone C program"
          + " that replays it with plain system calls, printing each line's answer and whether it"
          + " met the trace's expectation (exit 1 at the first that did not); lines the runner"
          + " did not ask the kernel are comments naming their rule. Build it with gcc -Wall.",
      "Needs Linux on x86-64 and gcc with the static C library: the C part of the runner is"
          + " built on first use into target/vmoracle/native next to the jar."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:every file agreed or was unsupported",
      "1:model and kernel disagreed, a file has a syntax error, or the runner failed",
      "2:bad usage, an unreadable file, or a machine the runner cannot run on"
    })
final class NativeCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--skip",
      description = {
        "Pass over lines the kernel cannot be asked when they change nothing in the model (reads"
            + " of the shared page, failed operations), listing them, instead of stopping at the"
            + " first: the kernel is not asked either, so the lines after them stay comparable."
            + " A line that changes the model still ends the file as UNSUPPORTED."
      })
  boolean skip;

  @Option(
      names = "--emit-c",
      paramLabel = "OUT",
      description = {
        "Write the one trace FILE as a C program to OUT (like syzkaller's prog2c), after running"
            + " it as usual: it compiles with gcc -Wall -Werror and, run, answers each line as the"
            + " kernel answered the runner. With --skip, lines passed over are printed as"
            + " unsupported and the rest run; without, the program stops where the runner did."
      })
  Path emitC;

  @Parameters(
      arity = "1..*",
      paramLabel = "FILE",
      description = "Trace files, run in the order given.")
  List<String> files = new ArrayList<>();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();

    Map<String, String> texts = ReplayCommand.readAll(files, err);
    if (texts == null) {
      return Main.USAGE;
    }

    NativeRunner runner;
    try {
      runner = NativeRunner.create();
    } catch (NativeUnavailableException e) {
      err.println("vmoracle native: " + e.getMessage());
      return Main.USAGE;
    }

    if (emitC != null) {
      return emit(texts, runner, out, err);
    }

    Tally tally = new Tally();
    for (Map.Entry<String, String> e : texts.entrySet()) {
      Trace trace = parse(e.getKey(), e.getValue(), out, "nothing run");
      if (trace == null) {
        tally.errors++;
        continue;
      }
      NativeVerdict v = runner.run(trace, skip);
      out.println(v.describe());
      out.flush();
      tally.add(v);
    }
    out.println(tally.summary());
    return tally.differed + tally.errors == 0 ? Main.OK : Main.FOUND;
  }

  /** {@code --emit-c OUT}: one trace, run, then written as a C program. */
  private Integer emit(
      Map<String, String> texts, NativeRunner runner, PrintWriter out, PrintWriter err) {
    if (texts.size() != 1) {
      err.println("vmoracle native: --emit-c writes one trace; " + texts.size() + " were given");
      return Main.USAGE;
    }
    Map.Entry<String, String> e = texts.entrySet().iterator().next();
    Trace trace = parse(e.getKey(), e.getValue(), out, "nothing written");
    if (trace == null) {
      return Main.FOUND;
    }
    NativeVerdict v = runner.run(trace, skip);
    out.println(v.describe());
    try {
      Files.writeString(emitC, CProgram.emit(trace, v), StandardCharsets.UTF_8);
    } catch (IOException x) {
      err.println("vmoracle native: cannot write " + emitC + ": " + x.getMessage());
      return Main.USAGE;
    }
    out.println("native: wrote " + emitC + " (gcc -std=c11 -Wall -Werror -o replay " + emitC + ")");
    return v.kind() == NativeVerdict.Kind.DIFFER || v.kind() == NativeVerdict.Kind.ERROR
        ? Main.FOUND
        : Main.OK;
  }

  /**
   * The trace in {@code text}, or null after printing each of its problems and {@code ERROR FILE: N
   * bad lines, <outcome>}. No requirements.
   */
  private static Trace parse(String file, String text, PrintWriter out, String outcome) {
    try {
      return TraceParser.parse(file, text);
    } catch (TraceSyntaxException x) {
      for (TraceSyntaxException.Problem p : x.problems()) {
        out.println(p);
      }
      int bad = x.problems().size() + x.omitted();
      out.println("ERROR " + file + ": " + ReplayCommand.count(bad, "bad line") + ", " + outcome);
      return null;
    }
  }

  /** Verdicts so far. */
  private static final class Tally {
    int agreed;
    int differed;
    int unsupported;
    int errors;
    long operations;

    void add(NativeVerdict v) {
      operations += v.operations();
      switch (v.kind()) {
        case AGREE:
          agreed++;
          break;
        case DIFFER:
          differed++;
          break;
        case UNSUPPORTED:
          unsupported++;
          break;
        case ERROR:
          errors++;
          break;
      }
    }

    /**
     * {@code native: 13 files, 2 agreed, 0 differed, 11 unsupported, 0 errors, 1234 operations
     * compared}.
     */
    String summary() {
      return "native: "
          + ReplayCommand.count(agreed + differed + unsupported + errors, "file")
          + ", "
          + agreed
          + " agreed, "
          + differed
          + " differed, "
          + unsupported
          + " unsupported, "
          + ReplayCommand.count(errors, "error")
          + ", "
          + ReplayCommand.count(operations, "operation")
          + " compared";
    }
  }
}
