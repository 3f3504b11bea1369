package org.vmoracle.checks.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.View;
import org.vmoracle.spec.VmSystem;
import org.vmoracle.spec.trace.Replay;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceParser;
import org.vmoracle.spec.trace.TraceSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code vmoracle replay FILE…}: runs each trace file through a freshly booted system and checks
 * every expectation ({@code -> R}) in it.
 *
 * <p>Output, on standard output: one verdict line per file, in the order given,
 *
 * <pre>
 * PASS examples/fork.trace (17 ops)
 * FAIL examples/cow.trace:12: expected 42, got 7 (read 1 0x10000008)
 * </pre>
 *
 * <p>A file that does not parse has each of its problems printed ({@code FILE:LINE:COL: expected …,
 * found …}) before its verdict, and nothing of it is run. The last line is the summary: {@code
 * replay: 12 files, 12 passed, 0 failed, 345 operations}, counting every operation that ran.
 *
 * <p>All files are read before any is run: a file that cannot be read is a usage error (exit 2) and
 * nothing runs. Otherwise the exit code is 1 when any file failed, 0 when all passed.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Replays trace files, each through a freshly booted system, and checks every expectation"
          + " (-> R) in them. Prints PASS or FAIL for each file, then a one-line summary."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:every file passed",
      "1:an expectation was not met, or a file has a syntax error",
      "2:bad usage, or a file cannot be read (nothing is run)"
    })
final class ReplayCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--system",
      paramLabel = "SYSTEM",
      defaultValue = "model",
      converter = SystemChoice.Converter.class,
      completionCandidates = SystemChoice.Words.class,
      description = {
        "The system to replay through: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).",
        "impl: the implementation, its invariants checked after every operation;"
            + " both: model and implementation side by side, results and views compared"
            + " after every operation."
      })
  SystemChoice system;

  @Parameters(
      arity = "1..*",
      paramLabel = "FILE",
      description = "Trace files, replayed in the order given.")
  List<String> files = new ArrayList<>();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();

    Map<String, String> texts = readAll(files, err);
    if (texts == null) {
      return Main.USAGE;
    }

    Tally tally = new Tally();
    for (Map.Entry<String, String> e : texts.entrySet()) {
      replayOne(e.getKey(), e.getValue(), out, err, tally);
    }
    out.println(tally.summary());
    return tally.failed == 0 ? Main.OK : Main.FOUND;
  }

  /** Parses and runs one file, printing its verdict. No requirements. */
  private void replayOne(String file, String text, PrintWriter out, PrintWriter err, Tally tally) {
    Trace trace;
    try {
      trace = TraceParser.parse(file, text);
    } catch (TraceSyntaxException e) {
      for (TraceSyntaxException.Problem p : e.problems()) {
        out.println(p);
      }
      int bad = e.problems().size() + e.omitted();
      if (e.omitted() > 0) {
        out.println("... and " + e.omitted() + " more bad " + plural(e.omitted(), "line"));
      }
      out.println("FAIL " + file + ": " + bad + " bad " + plural(bad, "line") + ", nothing run");
      tally.fail(0);
      return;
    }

    Watched watched = new Watched(system.boot());
    Replay.Report report;
    try {
      report = Replay.run(trace, watched);
    } catch (Divergence e) {
      // Model and implementation disagreed: a finding, reported without a stack trace.
      String where =
          watched.applied == 0 ? file : file + ":" + trace.lines().get(watched.applied - 1).line();
      out.println("FAIL " + where + ": " + e.getMessage());
      tally.fail(watched.applied);
      return;
    } catch (RuntimeException e) {
      // The system broke, not the trace: it threw instead of answering a result.
      String where =
          watched.applied == 0 ? file : file + ":" + trace.lines().get(watched.applied - 1).line();
      out.println(
          "FAIL " + where + ": the " + system.word + " threw " + e + "  (" + watched.last + ")");
      e.printStackTrace(err);
      tally.fail(watched.applied);
      return;
    }
    if (report.passed()) {
      out.println("PASS " + file + " (" + count(report.operations(), "op") + ")");
      tally.pass(report.operations());
    } else {
      String why =
          report.unmet().map(u -> u.message()).orElse(file + ": failed, with no unmet expectation");
      out.println("FAIL " + why);
      tally.fail(report.operations());
    }
  }

  /**
   * Every file's text, in the order given, read before anything runs; null, after saying why on
   * {@code err}, when any of them cannot be read (a usage error: nothing is run).
   */
  static Map<String, String> readAll(List<String> files, PrintWriter err) {
    Map<String, String> texts = new LinkedHashMap<>();
    boolean unreadable = false;
    for (String file : files) {
      try {
        texts.put(file, read(Paths.get(file)));
      } catch (IOException e) {
        err.println("vmoracle: cannot read " + file + ": " + reason(e));
        unreadable = true;
      }
    }
    return unreadable ? null : texts;
  }

  /** The whole file as UTF-8 text; bad UTF-8 is an error, not replacement characters. */
  private static String read(Path p) throws IOException {
    if (Files.isDirectory(p)) {
      throw new IOException("is a directory");
    }
    return Files.readString(p, StandardCharsets.UTF_8);
  }

  /**
   * Why a file could not be read, in words (the exception of a missing file says only its name).
   */
  static String reason(IOException e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof CharacterCodingException) {
      return "not UTF-8 text";
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  static String count(long n, String noun) {
    return n + " " + plural(n, noun);
  }

  private static String plural(long n, String noun) {
    return n == 1 ? noun : noun + "s";
  }

  /** A system that remembers how many operations it was given, to say which one threw. */
  private static final class Watched implements VmSystem {
    private final VmSystem inner;
    int applied;
    Op last;

    Watched(VmSystem inner) {
      this.inner = inner;
    }

    @Override
    public Result apply(Op op) {
      applied++;
      last = op;
      return inner.apply(op);
    }

    @Override
    public View view() {
      return inner.view();
    }
  }

  /** Files and operations so far. */
  private static final class Tally {
    int passed;
    int failed;
    long operations;

    void pass(long ops) {
      passed++;
      operations += ops;
    }

    void fail(long ops) {
      failed++;
      operations += ops;
    }

    /** {@code replay: 12 files, 12 passed, 0 failed, 345 operations}. */
    String summary() {
      return "replay: "
          + count(passed + failed, "file")
          + ", "
          + passed
          + " passed, "
          + failed
          + " failed, "
          + count(operations, "operation");
    }
  }
}
