package org.vmoracle.checks.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AccessDeniedException;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.checks.diff.Spacing;
import org.vmoracle.checks.hunt.ConfigText;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.View;
import org.vmoracle.spec.VmSystem;
import org.vmoracle.spec.trace.Replay;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceLine;
import org.vmoracle.spec.trace.TraceParser;
import org.vmoracle.spec.trace.TraceSyntaxException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
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
 * FAIL examples/cow.trace:12: expected 42, got 7  (read 1 0x10000008)
 * FAIL found.trace:9: VIEW at line 9 (write 1 0x10001000 70): pid 2 word 0x10001000: model 70, impl 0
 * ERROR gone.trace: cannot read: no such file
 * </pre>
 *
 * <p>A file that does not parse has each of its problems printed ({@code FILE:LINE:COL: expected …,
 * found …}) before its verdict, and nothing of it is run. A file that cannot be read is reported
 * and the others still run. The last line is the summary: {@code replay: 12 files, 12 passed, 0
 * failed, 345 operations}, counting every operation that ran. The exit code is the worst of the
 * files': 2 when one could not be read, else 1 when one failed, else 0.
 *
 * <p>The system, the implementation's settings and its injected bugs come from the command line, or
 * else from the file's header ({@link FindingHeader}, as a finding file has it), or else are
 * replay's defaults; standard error says when a header's are used.
 */
@Command(
    name = "replay",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Replays trace files, each through a freshly booted system, and checks every expectation"
          + " (-> R) in them. Prints PASS, FAIL or ERROR for each file, then a one-line summary.",
      "A finding file of 'vmoracle hunt' has a header line '# vmoracle: --system both --bug NAME"
          + " --config ...': when the command line does not give these options, replay takes them"
          + " from there and says so on standard error (--ignore-header does not).",
      "With --system impl or both, the implementation runs on 16,384 frames unless --frames,"
          + " --config or the header say otherwise; its invariants (and with both, the two views)"
          + " are checked after every operation of a file of up to 10,000 operations, and every"
          + " 1,000 operations and at the end of a longer file, unless --check-every says"
          + " otherwise; without --check-every, once checking has cost about 4 s, checks space out"
          + " further as the state grows (one operation for every 16 words and mappings a check"
          + " compares), so a state of many processes or mappings is not checked at every step. A long replay prints a"
          + " progress line on standard error every --progress seconds."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:every file passed",
      "1:an expectation was not met, model and implementation disagreed, or a file has a"
          + " syntax error",
      "2:bad usage, or a file cannot be read (the other files still run)"
    })
final class ReplayCommand implements Callable<Integer> {

  /** Files with more operations than this are checked every {@link #SAMPLED_EVERY} by default. */
  static final int LARGE = 10_000;

  /**
   * Operations between checks of a large file by default: a check costs about as much as a thousand
   * operations on a grown state (both views list every non-zero word; see {@code hunt
   * --check-every}), so checking every step would spend nearly all the time checking.
   */
  static final int SAMPLED_EVERY = 1_000;

  /** Seconds between progress lines by default. */
  static final double PROGRESS_SECONDS = 2;

  /** Most words of one process that a view in {@code --show} lists. */
  static final int SHOWN_WORDS = 16;

  @Spec CommandSpec spec;

  @Option(
      names = "--system",
      paramLabel = "SYSTEM",
      converter = SystemChoice.Converter.class,
      completionCandidates = SystemChoice.Words.class,
      description = {
        "The system to replay through: ${COMPLETION-CANDIDATES} (default: the file header's, or"
            + " model).",
        "impl: the implementation, its invariants checked; both: model and implementation side by"
            + " side, results compared after every operation, invariants and views checked."
      })
  SystemChoice system;

  @Mixin BugNames.Choice bugChoice;

  /** --frames and --config, on top of replay's defaults (16,384 frames) and a header's. */
  @Mixin ImplOptions impl;

  @Option(
      names = "--ignore-header",
      description =
          "Do not take options from a file's '# vmoracle:' header line: replay's defaults and the"
              + " command line's only.")
  boolean ignoreHeader;

  @Option(
      names = {"--show", "-v"},
      description =
          "Print each line's result as it runs (LINE: OP -> RESULT, unmet expectations marked),"
              + " and on a failure the difference and the views (mappings, words) of model and"
              + " implementation.")
  boolean show;

  @Option(
      names = "--check-every",
      paramLabel = "N",
      description =
          "Check the implementation's invariants (and with both, compare the views) every N"
              + " operations, and always at the end; 1: after every operation, 0: only at the"
              + " end (default: 1 for files of up to 10,000 operations, 1,000 for longer ones).")
  Integer checkEvery;

  @Option(
      names = "--progress",
      paramLabel = "SECONDS",
      defaultValue = "2",
      description =
          "Seconds between progress lines on standard error (file, operations done of all,"
              + " ops/s) while a file runs; a file done sooner prints none; 0: never (default:"
              + " ${DEFAULT-VALUE}).")
  double progressSeconds;

  @Parameters(
      arity = "1..*",
      paramLabel = "FILE",
      description = "Trace files, replayed in the order given.")
  List<String> files = new ArrayList<>();

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (checkEvery != null && checkEvery < 0) {
      throw usage("--check-every must be at least 0, not " + checkEvery);
    }
    if (!(progressSeconds >= 0) || Double.isInfinite(progressSeconds)) {
      throw usage("--progress must be a number of seconds, at least 0, not " + progressSeconds);
    }
    if (system == SystemChoice.MODEL && (!bugChoice.named().isEmpty() || impl.given())) {
      throw usage(
          "--bug, --frames and --config set up the implementation, which --system model does not"
              + " run");
    }
    Tally tally = new Tally();
    int worst = Main.OK;
    for (String file : files) {
      worst = Math.max(worst, replayOne(file, out, err, tally));
      out.flush();
    }
    out.println(tally.summary());
    return worst;
  }

  /** Reads, parses and runs one file, printing its verdict; answers its exit code. */
  private int replayOne(String file, PrintWriter out, PrintWriter err, Tally tally) {
    byte[] bytes;
    try {
      bytes = read(Paths.get(file));
    } catch (IOException | InvalidPathException e) {
      out.println("ERROR " + file + ": cannot read: " + reason(e));
      tally.error();
      return Main.USAGE;
    }
    Optional<FindingHeader> header = Optional.empty();
    if (!ignoreHeader) {
      try {
        header = FindingHeader.read(bytes);
      } catch (FindingHeader.BadHeader e) {
        out.println(
            "FAIL " + file + ":" + e.line + ": bad options in its header: " + e.getMessage());
        tally.fail(0);
        return Main.FOUND;
      }
    }
    Trace trace;
    try {
      trace = TraceParser.parse(file, bytes);
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
      return Main.FOUND;
    }
    if (trace.lines().isEmpty()) {
      err.println("vmoracle replay: warning: " + file + " has no operations");
    }
    Setup setup = setup(header);
    setup.note.ifPresent(n -> err.println("replay: " + file + ": " + n));
    int ops = trace.lines().size();
    // By default checks are spaced by the state's size too (Spacing): a long fork chain or a
    // process with thousands of mappings would otherwise spend nearly all its time checking.
    int every = checkEvery != null ? checkEvery : ops > LARGE ? SAMPLED_EVERY : 1;
    Spacing spacing = checkEvery == null ? new Spacing(every) : null;
    SystemChoice.Booted booted =
        spacing == null
            ? setup.system.boot(setup.config, every)
            : setup.system.boot(setup.config, spacing);
    Watched watched = new Watched(booted.system(), trace, show ? out : null, err, progressSeconds);
    Replay.Report report;
    try {
      report = Replay.run(trace, watched);
      if (report.passed()) {
        booted.checkNow().run();
      }
    } catch (Divergence d) {
      // Model and implementation disagreed, or the implementation broke or threw: a finding,
      // reported without a stack trace unless the implementation threw.
      Optional<TraceLine> at = lineOf(trace, d.step());
      String line = at.map(l -> String.valueOf(l.line())).orElse("");
      out.println(
          "FAIL "
              + file
              + (line.isEmpty() ? "" : ":" + line)
              + ": "
              + d.kind()
              + (line.isEmpty() ? " at boot" : " at line " + line)
              + (d.op() == null ? "" : " (" + d.op() + ")")
              + ": "
              + d.detail()
              + sampled(d, every, ops, spacing));
      if (d.kind() == Divergence.Kind.CRASH && d.getCause() != null) {
        d.getCause().printStackTrace(err);
      }
      if (show) {
        showViews(out, booted, watched, at);
      }
      tally.fail(watched.applied);
      return Main.FOUND;
    } catch (RuntimeException e) {
      // The system broke, not the trace: it threw instead of answering a result.
      String where =
          watched.applied == 0 ? file : file + ":" + trace.lines().get(watched.applied - 1).line();
      out.println(
          "FAIL "
              + where
              + ": the "
              + setup.system.word
              + " threw "
              + e
              + "  ("
              + watched.last
              + ")");
      e.printStackTrace(err);
      tally.fail(watched.applied);
      return Main.FOUND;
    }
    if (report.passed()) {
      out.println("PASS " + file + " (" + count(report.operations(), "op") + ")");
      tally.pass(report.operations());
      return Main.OK;
    }
    String why =
        report.unmet().map(u -> u.message()).orElse(file + ": failed, with no unmet expectation");
    out.println("FAIL " + why);
    if (show) {
      showViews(out, booted, watched, report.unmet().map(Replay.Unmet::line));
    }
    tally.fail(report.operations());
    return Main.FOUND;
  }

  /**
   * What a sampled check adds to a VIEW or INVARIANT difference: that it arose somewhere since the
   * check before, and how to find the line.
   */
  private static String sampled(Divergence d, int every, int ops, Spacing spacing) {
    boolean checked = d.kind() == Divergence.Kind.VIEW || d.kind() == Divergence.Kind.INVARIANT;
    if (!checked || ops <= 1 || (spacing == null ? every == 1 : spacing.everyStep())) {
      return ""; // checked after every operation so far: the line is the one
    }
    if (spacing != null) {
      return String.format(
          " (checked at least every %,d operations, further apart on a large state: it arose"
              + " since the check before; --check-every 1 finds the line)",
          every);
    }
    return every == 0
        ? " (checked only at the end: it arose somewhere before; --check-every 1 finds the line)"
        : String.format(
            " (checked every %,d operations: it arose within the last %,d; --check-every 1 finds"
                + " the line)",
            every, every);
  }

  /** The line of the operation at 0-based {@code step}; empty before the first. */
  private static Optional<TraceLine> lineOf(Trace trace, long step) {
    return step >= 0 && step < trace.lines().size()
        ? Optional.of(trace.lines().get((int) step))
        : Optional.empty();
  }

  /** The system, implementation settings and bugs to run with, and what to say about a header. */
  private static final class Setup {
    SystemChoice system;
    Config config;
    Optional<String> note = Optional.empty();
  }

  /**
   * The command line's options, else the header's, else the defaults: {@code --system} and {@code
   * --bug} each as a whole, {@code --config} key by key (the command line's last, so they win).
   */
  private Setup setup(Optional<FindingHeader> header) {
    Setup s = new Setup();
    Optional<SystemChoice> fromHeader = header.flatMap(FindingHeader::system);
    s.system = system != null ? system : fromHeader.orElse(SystemChoice.MODEL);
    List<Bug> bugs = bugChoice.named();
    List<ConfigText.Setting> settings = new ArrayList<>();
    if (header.isPresent()) {
      FindingHeader h = header.get();
      if (s.system == SystemChoice.MODEL) {
        if (system != null && (!h.bugs().isEmpty() || h.impl().given())) {
          s.note =
              Optional.of(
                  "its header's options are ignored: --system model runs no" + " implementation");
        }
      } else {
        List<String> wins = new ArrayList<>();
        if (system != null && fromHeader.isPresent()) {
          wins.add("--system");
        }
        if (bugs.isEmpty()) {
          bugs = h.bugs();
        } else if (!h.bugs().isEmpty()) {
          wins.add("--bug");
        }
        settings.addAll(h.impl().settings());
        for (ConfigText.Setting mine : impl.settings()) {
          if (h.impl().settings().stream().anyMatch(x -> x.key() == mine.key())) {
            wins.add("--config " + mine.key().word);
          }
        }
        s.note =
            Optional.of(
                "options from its header (line "
                    + h.line()
                    + "): "
                    + h.text()
                    + (wins.isEmpty()
                        ? ""
                        : "; the command line's "
                            + String.join(", ", new LinkedHashSet<>(wins))
                            + " won"));
      }
    }
    settings.addAll(impl.settings());
    s.config = ConfigText.applyAll(BugNames.withAll(SystemChoice.REPLAY_CONFIG, bugs), settings);
    return s;
  }

  /**
   * After a failure, with {@code --show}: the views of what ran, as of the failing line; model and
   * implementation side by side when both ran, with their differences.
   */
  private static void showViews(
      PrintWriter out, SystemChoice.Booted booted, Watched watched, Optional<TraceLine> at) {
    String after = at.map(l -> "after line " + l.line()).orElse("at boot");
    Optional<View> impl = booted.impl().map(i -> viewOrNull(out, i::view, "implementation"));
    Optional<View> model =
        booted.modelView().isPresent()
            ? booted.modelView().map(Supplier::get)
            : booted.impl().isPresent()
                ? Optional.empty()
                : Optional.ofNullable(viewOrNull(out, booted.system()::view, "model"));
    if (model.isPresent() && impl.isPresent() && model.get().equals(impl.get())) {
      out.println("  view " + after + ", the same in model and implementation:");
      for (String l : Views.describe(model.get(), SHOWN_WORDS)) {
        out.println("    " + l);
      }
      return;
    }
    if (model.isPresent() && impl.isPresent() && impl.get() != null) {
      out.println("  views " + after + ", model and implementation:");
      for (String l : Views.compare(model.get(), impl.get(), SHOWN_WORDS)) {
        out.println("    " + l);
      }
      return;
    }
    Optional<View> one = model.isPresent() ? model : impl.filter(v -> v != null);
    String whose = model.isPresent() ? "model" : "implementation";
    one.ifPresent(
        v -> {
          out.println("  view " + after + ", " + whose + ":");
          for (String l : Views.describe(v, SHOWN_WORDS)) {
            out.println("    " + l);
          }
        });
  }

  /** The view {@code get} gives, or null after saying why there is none. */
  private static View viewOrNull(PrintWriter out, Supplier<View> get, String whose) {
    try {
      return get.get();
    } catch (RuntimeException | AssertionError e) {
      out.println("  (no view of the " + whose + ": it threw " + e + ")");
      return null;
    }
  }

  /**
   * Every file's text, in the order given, read before anything runs; null, after saying why on
   * {@code err}, when any of them cannot be read (a usage error: nothing is run). What {@code
   * vmoracle native} does with its files; replay reads and reports each file in turn instead.
   */
  static Map<String, String> readAll(List<String> files, PrintWriter err) {
    Map<String, String> texts = new LinkedHashMap<>();
    boolean unreadable = false;
    for (String file : files) {
      try {
        Path p = Paths.get(file);
        if (Files.isDirectory(p)) {
          throw new IOException("is a directory");
        }
        texts.put(file, Files.readString(p, StandardCharsets.UTF_8));
      } catch (IOException e) {
        err.println(
            "vmoracle: cannot read "
                + file
                + ": "
                + (e instanceof CharacterCodingException ? "not UTF-8 text" : reason(e)));
        unreadable = true;
      }
    }
    return unreadable ? null : texts;
  }

  /**
   * A file's bytes; a directory or anything else that cannot be read throws, named by {@link
   * #reason}.
   */
  private static byte[] read(Path p) throws IOException {
    if (Files.isDirectory(p)) {
      throw new IOException("is a directory");
    }
    return Files.readAllBytes(p);
  }

  /**
   * Why a file could not be read, in words (the exception of a missing file says only its name).
   */
  static String reason(Exception e) {
    if (e instanceof NoSuchFileException) {
      return "no such file";
    }
    if (e instanceof AccessDeniedException) {
      return "permission denied";
    }
    if (e instanceof InvalidPathException) {
      return "not a path: " + ((InvalidPathException) e).getReason();
    }
    return e.getMessage() != null ? e.getMessage() : e.getClass().getSimpleName();
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  static String count(long n, String noun) {
    return n + " " + plural(n, noun);
  }

  private static String plural(long n, String noun) {
    return n == 1 ? noun : noun + "s";
  }

  /**
   * A system that remembers how many operations it was given, to say which one threw; with {@code
   * --show} prints each line's result, and runs a copy of the model beside a lockstep pair so that
   * a failure can show the model's view; prints progress on long runs.
   */
  private static final class Watched implements VmSystem {
    private final VmSystem inner;
    private final Trace trace;
    private final PrintWriter show;
    private final PrintWriter progress;
    private final long progressNanos;
    private final long started = System.nanoTime();
    private long nextProgress;
    int applied;
    Op last;

    Watched(
        VmSystem inner,
        Trace trace,
        PrintWriter show,
        PrintWriter progress,
        double progressSeconds) {
      this.inner = inner;
      this.trace = trace;
      this.show = show;
      this.progress = progress;
      this.progressNanos = (long) (progressSeconds * 1e9);
      this.nextProgress = started + progressNanos;
    }

    @Override
    public Result apply(Op op) {
      TraceLine line = trace.lines().get(applied);
      applied++;
      last = op;
      Result r = inner.apply(op);
      if (show != null) {
        boolean unmet = line.expect().isPresent() && !line.expect().get().equals(r);
        show.println(
            line.line()
                + ": "
                + op
                + " -> "
                + r
                + (unmet ? "  (UNMET: expected " + line.expect().get() + ")" : ""));
      }
      if (progressNanos > 0 && System.nanoTime() >= nextProgress) {
        long now = System.nanoTime();
        double secs = (now - started) / 1e9;
        progress.printf(
            "replay: %s: %,d of %,d ops, %,.0f ops/s%n",
            trace.source(), applied, trace.lines().size(), applied / Math.max(secs, 1e-9));
        progress.flush();
        nextProgress = now + progressNanos;
      }
      return r;
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
    int unread;
    long operations;

    void pass(long ops) {
      passed++;
      operations += ops;
    }

    void fail(long ops) {
      failed++;
      operations += ops;
    }

    void error() {
      unread++;
    }

    /**
     * {@code replay: 12 files, 12 passed, 0 failed, 345 operations}, with {@code , 1 unreadable}
     * after the failed when a file could not be read.
     */
    String summary() {
      return "replay: "
          + count(passed + failed + unread, "file")
          + ", "
          + passed
          + " passed, "
          + failed
          + " failed, "
          + (unread > 0 ? unread + " unreadable, " : "")
          + count(operations, "operation");
    }
  }
}
