package org.vmoracle.checks.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Iterator;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.vmoracle.checks.cover.Coverage;
import org.vmoracle.checks.gen.Profile;
import org.vmoracle.checks.hunt.ConfigText;
import org.vmoracle.checks.hunt.Hunt;
import org.vmoracle.checks.hunt.Reproducer;
import org.vmoracle.checks.lin.ConcurrentHunt;
import org.vmoracle.checks.lin.HistoryFile;
import org.vmoracle.checks.nativ.NativeHunt;
import org.vmoracle.checks.sched.Strategy;
import org.vmoracle.checks.shrink.DivergenceShrinker;
import org.vmoracle.checks.shrink.Signature;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.trace.TracePrinter;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.ITypeConverter;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;
import picocli.CommandLine.TypeConversionException;

/**
 * {@code vmoracle hunt}: random operation sequences through model and implementation side by side
 * until the budget is spent or they disagree; a disagreement is shrunk into a short trace, written
 * to {@code target/vmoracle/findings/<profile>-<kind>-<seed>.trace}, and the hunt ends with exit
 * code 1.
 *
 * <p>Output: a first line saying what is hunted; on standard error a progress line about every two
 * seconds; on a finding, the divergence, the shrunk trace and its path; the last line of standard
 * output is the summary, {@code hunt: 1,234,567 operations in 10.0 s, 123,456 ops/s, 617 runs, 0
 * findings}.
 */
@Command(
    name = "hunt",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Hunts for disagreements between the model and the implementation: runs of random,"
          + " state-aware operations (5,000 each, from seeds S, S+1, S+2, ...), every result"
          + " compared, the implementation's invariants and both views compared at the end of"
          + " every run (and every --check-every operations if given).",
      "A disagreement is shrunk to a short trace whose expectations are the model's results,"
          + " written to target/vmoracle/findings/PROFILE-KIND-SEED.trace (under the current"
          + " directory). Its header line '# vmoracle: --system both --bug ... --config ...'"
          + " holds the hunt's settings, so 'vmoracle replay FILE' fails the same way until the"
          + " implementation is fixed. The last line is a one-line summary.",
      "With --bug NAME the implementation runs with that injected bug switched on: a hunt that"
          + " proves the checks can see that class of bug (vmoracle zoo does it for every bug)."
          + " Its finding is a planted bug, not one for the regression corpus.",
      "With --threads 2 or more, a burst whose history is not linearizable (or that breaks an"
          + " invariant or crashes) is written to target/vmoracle/findings/threads-KIND-SEED.history;"
          + " 'vmoracle replay-history' checks it again and reruns it."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:the budget was spent and nothing was found",
      "1:model and implementation disagreed (the shrunk trace or the history was written)",
      "2:bad usage (unknown profile or bug, negative number)"
    })
final class HuntCommand implements Callable<Integer> {

  /** Reads --strategy: a usage error naming what was expected. */
  static final class StrategyConverter implements CommandLine.ITypeConverter<Strategy> {
    @Override
    public Strategy convert(String value) {
      try {
        return Strategy.parse(value);
      } catch (IllegalArgumentException e) {
        throw new CommandLine.TypeConversionException(e.getMessage());
      }
    }
  }

  /** Seconds hunted when neither --seconds nor --ops is given. */
  static final double DEFAULT_SECONDS = 10;

  /**
   * Invariants and views between the ends of runs by default: never. Results are compared at every
   * operation; a comparison of views costs a few milliseconds on a run's typical state (both sides
   * list every non-zero word of every process, some 24,000 words), as much as a thousand
   * operations, so comparing every 50 operations would spend 95% of the hunt comparing views. At
   * the end of every 5,000-operation run it costs about a fifth.
   */
  static final int DEFAULT_CHECK_EVERY = 0;

  /** Seconds between progress lines on standard error. */
  static final double PROGRESS_SECONDS = 2;

  /** Longest time spent shrinking one finding. */
  static final Duration SHRINK_BUDGET = Duration.ofMinutes(2);

  @Spec CommandSpec spec;

  @Option(
      names = "--seconds",
      paramLabel = "N",
      description = "Hunt for N seconds (default: 10 when --ops is not given either).")
  Double seconds;

  @Option(
      names = "--ops",
      paramLabel = "N",
      description = "Hunt for N operations at most (default: no limit; with --seconds, the first).")
  Long ops;

  @Option(
      names = "--seed",
      paramLabel = "S",
      description =
          "Seed of the first run; run i uses S+i (default: from the clock, printed first).")
  Long seed;

  @Option(
      names = "--profile",
      paramLabel = "P",
      defaultValue = "mixed",
      converter = ProfileConverter.class,
      completionCandidates = ProfileWords.class,
      description = "The operation mix: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
  Profile profile;

  @Option(
      names = "--list-profiles",
      description = "List the profiles, one a line with what each hunts, and exit.")
  boolean listProfiles;

  @Option(
      names = "--check-every",
      paramLabel = "N",
      description =
          "Also check invariants and compare views every N operations of a run (default: 0,"
              + " only at the end of each run; 50 finds a broken view sooner, at a tenth of"
              + " the speed).")
  Integer checkEvery;

  @Option(
      names = "--run-length",
      paramLabel = "N",
      description = "Operations in one run, each run on freshly booted systems (default: 5000).")
  Integer runLength;

  @Option(
      names = "--native",
      description =
          "Hunt the model against the host Linux kernel instead of the implementation: random"
              + " traces of what the native runner supports, compared line by line; a"
              + " disagreement is shrunk like any finding.")
  boolean nativ;

  @Option(
      names = "--threads",
      paramLabel = "T",
      defaultValue = "1",
      description =
          "Threads on one implementation at once (default: ${DEFAULT-VALUE}). With 2 or more, the"
              + " hunt runs bursts of operations concurrently and checks each burst's history for"
              + " linearizability against the model; the summary counts the histories.")
  int threads;

  @Option(
      names = "--burst",
      paramLabel = "N",
      description =
          "With --threads 2 or more: operations each thread runs in one burst, one history"
              + " (default: "
              + ConcurrentHunt.BURST
              + "; longer bursts run more operations a second, and the zoo uses 16).")
  Integer burst;

  @Option(
      names = "--strategy",
      paramLabel = "S",
      defaultValue = "free",
      converter = StrategyConverter.class,
      description =
          "With --threads 2 or more: how the threads are scheduled (default: ${DEFAULT-VALUE})."
              + " free: as the JVM runs them. Every other strategy runs one thread at a time and"
              + " may switch at the implementation's scheduling points that write or synchronize"
              + " (PTE writes, busy bits, the map lock, page slots, copy-on-write fronts, copies"
              + " and fills, user stores, reverse-map records, waits; never at a read). pct,"
              + " pct:D: probabilistic concurrency testing of depth D (1 to 10, default 3), the"
              + " highest-priority thread running, D-1 random priority drops a burst. random: a"
              + " random thread at every switch point. rr, rr:B: round robin with B random"
              + " preemptions a burst (default 2). portfolio: the bursts rotate through pct:1,"
              + " pct:2, pct:3, random and rr:2. Every strategy but free is deterministic: the"
              + " same seed gives the same schedules and the same finding, which prints its"
              + " schedule and writes it into the history file for --replay-schedule.")
  Strategy strategy;

  @Option(
      names = "--replay-schedule",
      paramLabel = "FILE",
      description =
          "Run the burst of a history file written by a controlled hunt (--strategy other than"
              + " free) again: its setup, then its threads' calls one at a time, making the"
              + " recorded scheduling choices, on the implementation the file names (its"
              + " injected bugs on). Prints the schedule and what the burst gives; exit 1 when it"
              + " fails again, as it does every time for the same implementation.")
  Path replaySchedule;

  @Option(
      names = "--coverage",
      description =
          "Also measure what the hunt reached: each operation classified by kind, arguments"
              + " (address at the bottom or top of user space, unaligned, zero length; length;"
              + " the range against the map and 2 MiB / 1 GiB boundaries), mmap sharing and source,"
              + " protection change, the page an access meets, states reached (page mapped"
              + " read-only then written, private file page copied then the file written, mlock"
              + " over read-only pages, swap-in, collapse, ...) and result (each errno per kind)."
              + " Printed before the summary: every class with its count and share of all"
              + " operations, then those hit 0 times (never) and in under 0.1%% (rare). Sequential"
              + " hunts only.")
  boolean coverage;

  @Mixin BugNames.Choice bugChoice;

  /** --frames and --config, on top of the profile's settings (or the concurrent hunt's). */
  @Mixin ImplOptions impl;

  @Mixin FindingsDir findings;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (listProfiles) {
      for (Profile p : Profile.values()) {
        out.printf("%-9s %s%n", p.word(), p.description());
      }
      return Main.OK;
    }
    if (replaySchedule != null) {
      return replaySchedule(out, err);
    }
    if (coverage && (nativ || threads != 1)) {
      throw usage("--coverage measures the sequential hunt: not with --native or --threads");
    }
    if (nativ) {
      if (!bugChoice.named().isEmpty()) {
        throw usage("--bug plants a bug in the implementation, which --native does not run");
      }
      if (impl.given()) {
        throw usage("--frames and --config set up the implementation, which --native does not run");
      }
      return NativeHunt.run(
          seconds != null ? seconds : DEFAULT_SECONDS,
          seed != null ? seed : System.nanoTime() % 1_000_000,
          profile,
          out,
          err);
    }
    if (threads < 1 || threads > 8) {
      err.println("vmoracle hunt: --threads must lie in [1, 8], not " + threads);
      return Main.USAGE;
    }
    if (burst != null && (threads == 1 || burst < 1 || burst > 64)) {
      throw usage("--burst goes with --threads 2 or more and lies in [1, 64], not " + burst);
    }
    if (threads > 1) {
      return concurrent(out, err);
    }
    Hunt.Settings settings = settings();
    out.printf(
        "hunt: profile %s%s, seed %d, %s, %,d frames%s, runs of %,d operations, invariants and"
            + " views %s%n",
        settings.profile().word(),
        bugNote(),
        settings.seed(),
        budget(settings),
        settings.config().frames(),
        configNote(settings.config(), profile.config()),
        settings.runLength(),
        settings.checkEvery() == 0
            ? "at each run's end"
            : String.format("every %,d operations and at each run's end", settings.checkEvery()));
    out.flush();

    Coverage watched = coverage ? new Coverage(settings.profile().mix()) : null;
    Hunt.Report report =
        Hunt.run(
            settings,
            p ->
                err.printf(
                    "hunt: %,d ops, %,.0f ops/s, %.1f s, %,d runs%n",
                    p.operations(), p.opsPerSecond(), p.seconds(), p.runs()),
            PROGRESS_SECONDS,
            watched != null ? watched : Hunt.Watcher.NONE);
    if (watched != null) {
      watched.print(out);
    }
    Hunt.Progress p = report.progress();
    if (report.finding().isEmpty()) {
      out.println(summary(p, 0, ""));
      return Main.OK;
    }

    Hunt.Finding f = report.finding().get();
    out.println("FOUND " + f.divergence().getMessage());
    out.printf(
        "  run seed %d (run %d), after %,d operations, %.1f s into the hunt%n",
        f.runSeed(), f.run(), f.operationsBefore(), f.seconds());
    out.printf("hunt: shrinking %,d operations...%n", f.divergence().step() + 1);
    out.flush();
    Reproducer made = Reproducer.make(settings, f, SHRINK_BUDGET, findings.dir);
    if (made.shrunk().isEmpty()) {
      // The run agreed when run again on fresh systems: the implementation is not deterministic
      // for one thread, which is a finding too, though not one a trace can hold.
      out.println("hunt: cannot shrink: " + made.problem());
      out.printf(
          "  rerun: vmoracle hunt --profile %s --seed %d --ops %d%s%n",
          settings.profile().word(), f.runSeed(), f.ops().size(), bugOptions());
      out.println(summary(p, 1, " (not reproducible on fresh systems)"));
      return Main.FOUND;
    }
    DivergenceShrinker.Shrunk shrunk = made.shrunk().get();
    if (made.file().isEmpty()) {
      err.println("vmoracle hunt: " + made.problem());
      out.print(TracePrinter.print(shrunk.trace()));
      out.println(summary(p, 1, " (not written)"));
      return Main.FOUND;
    }
    Path file = made.file().get();
    out.printf(
        "shrunk from %,d to %d operations (%d runs, %.1f s), still %s; step by step%s: %s%n",
        shrunk.originalLength(),
        shrunk.ops().size(),
        shrunk.tests(),
        shrunk.seconds(),
        Signature.of(shrunk.divergence()),
        shrunk.stepByStepSame() ? "" : " it fails sooner, another way",
        shrunk.stepByStep().getMessage().split("\n", 2)[0]);
    for (String line : TracePrinter.print(shrunk.trace()).split("\n")) {
      out.println("  " + line);
    }
    out.println("written to " + file);
    shrunk
        .other()
        .ifPresent(
            o ->
                out.printf(
                    "also seen while shrinking, a second finding of another kind: %s in %d"
                        + " operations%s%n",
                    Signature.of(o.divergence()),
                    o.ops().size(),
                    made.second().map(x -> ": written to " + x).orElse(" (not written)")));
    out.println(summary(p, 1, " (" + file + ")"));
    return Main.FOUND;
  }

  /**
   * {@code --threads T}: bursts of {@code T} threads at once on one implementation, each burst's
   * history checked for linearizability against the model ({@link ConcurrentHunt}).
   */
  private int concurrent(PrintWriter out, PrintWriter err) {
    long s = seed != null ? seed : System.nanoTime() % 1_000_000;
    double secs = seconds != null ? seconds : 10;
    int perThread = burst != null ? burst : ConcurrentHunt.BURST;
    Config config =
        impl.applyTo(
            BugNames.withAll(
                Config.defaults().withFrames(ConcurrentHunt.FRAMES), bugChoice.named()));
    out.printf(
        "hunt: %d threads%s, seed %d, %.0f s, %,d frames%s, bursts of %d operations a thread,"
            + " scheduled %s%n",
        threads,
        bugNote(),
        s,
        secs,
        config.frames(),
        configNote(config, Config.defaults().withFrames(ConcurrentHunt.FRAMES)),
        perThread,
        strategy.controlled() ? "by " + strategy.word() : "freely by the JVM");
    out.flush();
    ConcurrentHunt.Report r =
        ConcurrentHunt.run(config, threads, s, secs, perThread, strategy, err::println);
    String tally =
        String.format(
            "%,d histories checked, %.1f operations a history, %,d operations, %,.0f ops/s",
            r.histories(), r.callsPerHistory(), r.calls(), r.calls() / Math.max(r.seconds(), 1e-9));
    out.println("hunt: " + r.starts().describe());
    if (r.finding().isEmpty()) {
      out.println("hunt: clean: " + tally);
      return Main.OK;
    }
    ConcurrentHunt.Finding f = r.finding().get();
    if (f.schedule().isPresent()) {
      out.println("FOUND " + f.why().split("\n", 2)[0]);
      out.println("hunt: anchoring the schedule to the setup alone, so that its file replays...");
      out.flush();
      java.util.Optional<ConcurrentHunt.Finding> a = ConcurrentHunt.anchor(config, s, threads, f);
      if (a.isPresent()) {
        f = a.get();
      } else {
        out.println("hunt: not anchored: the schedule below replays only inside this hunt");
      }
    }
    out.println("FOUND " + f.describe());
    try {
      HistoryFile.Written w = HistoryFile.write(findings.dir, config, s, threads, perThread, f);
      out.println(
          "written to "
              + w.file()
              + " (vmoracle replay-history "
              + (w.verdict().linearizable() ? "passes: only its reruns may fail" : "fails on it")
              + w.replays()
                  .map(
                      x ->
                          x
                              ? "; hunt --replay-schedule fails on it, every time"
                              : "; hunt --replay-schedule does not reproduce it")
                  .orElse("")
              + ")");
      out.println("hunt: 1 finding: " + tally + " (" + w.file() + ")");
    } catch (IOException e) {
      err.println("vmoracle hunt: cannot write the finding to " + findings.dir + ": " + e);
      out.println("hunt: 1 finding: " + tally + " (not written)");
    }
    return Main.FOUND;
  }

  /** {@code --replay-schedule FILE}: one controlled burst again, by its recorded choices. */
  private int replaySchedule(PrintWriter out, PrintWriter err) {
    if (!bugChoice.named().isEmpty() || impl.given() || threads != 1 || seed != null) {
      throw usage(
          "--replay-schedule runs the file's own settings, bugs and threads: give it alone");
    }
    String text;
    try {
      text = java.nio.file.Files.readString(replaySchedule);
    } catch (IOException e) {
      err.println("vmoracle hunt: cannot read " + replaySchedule + ": " + e.getMessage());
      return Main.USAGE;
    }
    HistoryFile.History h;
    try {
      h = HistoryFile.parse(replaySchedule.toString(), text);
    } catch (org.vmoracle.spec.trace.TraceSyntaxException e) {
      for (org.vmoracle.spec.trace.TraceSyntaxException.Problem p : e.problems()) {
        err.println(p);
      }
      err.println("vmoracle hunt: " + replaySchedule + " does not parse, nothing run");
      return Main.USAGE;
    }
    if (h.schedule().isEmpty()) {
      err.println(
          "vmoracle hunt: "
              + replaySchedule
              + " has no schedule ('schedule none': the JVM ran its threads); vmoracle"
              + " replay-history reruns it");
      return Main.USAGE;
    }
    ConcurrentHunt.Scheduled x = h.schedule().get();
    out.printf(
        "hunt: replaying the schedule of %s: %d threads, %d calls, %,d choices (%s, burst seed"
            + " %d)%n",
        replaySchedule, h.threads(), h.calls().size(), x.choices().length, x.strategy(), x.seed());
    out.flush();
    org.vmoracle.checks.lin.HistoryReplay.Replayed r =
        org.vmoracle.checks.lin.HistoryReplay.replaySchedule(h);
    out.println("schedule (which thread ran which step, in order):");
    r.lines().forEach(l -> out.println("  " + l));
    if (r.failure().isEmpty()) {
      out.println("hunt: the schedule replayed gives a linearizable history, invariants hold");
      return Main.OK;
    }
    if (r.failure().get().startsWith(org.vmoracle.checks.sched.Scheduler.DIVERGED)) {
      out.println("hunt: not replayed: " + r.failure().get());
      return Main.OK;
    }
    out.println("FOUND " + r.failure().get());
    out.println("hunt: the schedule replayed fails again");
    return Main.FOUND;
  }

  /** The settings the options give; a usage error when they make no sense. */
  private Hunt.Settings settings() {
    if (seconds != null && (seconds < 0 || seconds.isNaN() || seconds.isInfinite())) {
      throw usage("--seconds must be a number of seconds, at least 0, not " + seconds);
    }
    if (ops != null && ops < 0) {
      throw usage("--ops must be at least 0, not " + ops);
    }
    if (checkEvery != null && checkEvery < 0) {
      throw usage("--check-every must be at least 0, not " + checkEvery);
    }
    if (runLength != null && runLength < 1) {
      throw usage("--run-length must be at least 1, not " + runLength);
    }
    double s = seconds != null ? seconds : ops == null ? DEFAULT_SECONDS : 0;
    long n = ops != null ? ops : 0;
    if (s == 0 && n == 0) {
      throw usage(nothingToDo());
    }
    Config config = impl.applyTo(BugNames.withAll(profile.config(), bugChoice.named()));
    long first = seed != null ? seed : Math.floorMod(System.nanoTime(), 1_000_000L);
    int every = checkEvery != null ? checkEvery : DEFAULT_CHECK_EVERY;
    int length = runLength != null ? runLength : Hunt.RUN_LENGTH;
    return new Hunt.Settings(profile, config, first, n, s, length, every);
  }

  /**
   * Why a budget of no seconds and no operations leaves nothing to hunt, naming the options that
   * were given: 0 for either means no budget of that kind, so the other one must be set.
   */
  private String nothingToDo() {
    if (seconds != null && ops != null) {
      return "nothing to do: --seconds 0 and --ops 0 leave no budget; give either more than 0";
    }
    if (seconds != null) {
      return "nothing to do: --seconds 0 leaves no time; give more seconds, or --ops N to hunt N"
          + " operations";
    }
    return "nothing to do: --ops 0 leaves no operations; give more, or --seconds N to hunt for N"
        + " seconds";
  }

  /**
   * {@code " (swapSlots=16, prunePageTables=false)"}: the settings other than frames in which
   * {@code c} differs from {@code base}, for the first line; nothing when there are none.
   */
  private static String configNote(Config c, Config base) {
    String changes =
        ConfigText.changes(base, c).stream()
            .filter(x -> x.key() != ConfigText.Key.FRAMES)
            .map(ConfigText.Setting::toString)
            .collect(Collectors.joining(", "));
    return changes.isEmpty() ? "" : " (" + changes + ")";
  }

  /** {@code ", injected bug NAME"} for the first line, or nothing. */
  private String bugNote() {
    List<Bug> bugs = bugChoice.named();
    return bugs.isEmpty()
        ? ""
        : (bugs.size() == 1 ? ", injected bug " : ", injected bugs ")
            + bugs.stream().map(Bug::name).collect(Collectors.joining(", "));
  }

  /**
   * {@code " --bug NAME"} for each bug and the {@code --config} given, for a command line that
   * reruns the hunt.
   */
  private String bugOptions() {
    String bugs =
        bugChoice.named().stream().map(b -> " --bug " + b.name()).collect(Collectors.joining());
    return impl.given() ? bugs + " --config " + ConfigText.join(impl.settings()) : bugs;
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }

  private static String budget(Hunt.Settings s) {
    if (s.maxOps() > 0 && s.maxSeconds() > 0) {
      return String.format("%,d operations or %.0f s", s.maxOps(), s.maxSeconds());
    }
    return s.maxOps() > 0
        ? String.format("%,d operations", s.maxOps())
        : String.format("%.0f s", s.maxSeconds());
  }

  /** {@code hunt: 1,234 operations in 1.0 s, 1,234 ops/s, 1 runs, 0 findings}. */
  private static String summary(Hunt.Progress p, int findings, String where) {
    return String.format(
        "hunt: %,d operations in %.1f s, %,.0f ops/s, %,d %s, %d %s%s",
        p.operations(),
        p.seconds(),
        p.opsPerSecond(),
        p.runs(),
        p.runs() == 1 ? "run" : "runs",
        findings,
        findings == 1 ? "finding" : "findings",
        where);
  }

  /** Parses --profile; an unknown name is a usage error naming the profiles. */
  static final class ProfileConverter implements ITypeConverter<Profile> {
    @Override
    public Profile convert(String value) {
      return Profile.byWord(value)
          .orElseThrow(
              () ->
                  new TypeConversionException(
                      "unknown profile '"
                          + value
                          + "': expected one of "
                          + Profile.words()
                          + " (see --list-profiles)"));
    }
  }

  /** The profile names, for the help ({@code ${COMPLETION-CANDIDATES}}). */
  static final class ProfileWords implements Iterable<String> {
    @Override
    public Iterator<String> iterator() {
      return Arrays.stream(Profile.values()).map(Profile::word).iterator();
    }
  }
}
