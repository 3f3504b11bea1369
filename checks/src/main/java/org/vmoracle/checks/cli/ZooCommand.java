package org.vmoracle.checks.cli;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.vmoracle.checks.hunt.ConfigText;
import org.vmoracle.checks.zoo.Zoo;
import org.vmoracle.impl.core.Bug;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/**
 * {@code vmoracle zoo}: every injected bug ({@link Bug}) hunted by its check ({@link Zoo}) with the
 * bug switched on, one line a bug as each finishes, then the summary, {@code zoo: 7 of 7 caught,
 * 12.3 s in all}.
 */
@Command(
    name = "zoo",
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description = {
      "Proves the checks can see each class of bug they are for: every injected bug of the"
          + " implementation is switched on in turn and hunted by the check best suited to it"
          + " (the sequential hunt with a profile, the concurrent hunt of 2 threads, or the"
          + " reverse map's stress of 2 threads making and removing PTEs of one page), until"
          + " the first finding or the end of the bug's time budget. A bug of one reverse-map"
          + " design is hunted on that design whatever --rmap says.",
      "One line a bug, as each finishes: caught or MISSED, by which check, the time to the"
          + " finding and the operations run, and for a sequential finding the shrunk"
          + " reproducer's length and file (under --findings). A bug that is missed is a"
          + " finding about the checks. The last line is a one-line summary. With --bug, only"
          + " the bugs named are hunted.",
      "The sequential bugs are caught within a second, the same way for the same seed. The"
          + " races (LOST_ZERO_FILL_RACE, UNLOCKED_FAULTS) are caught only when a burst of the"
          + " concurrent hunt happens to interleave just so: in seconds to tens of seconds,"
          + " differently every run; the default budget of 60 s catches them nearly always, 20 s"
          + " about three times in four. The stress catches PV_UNLOCKED_INSERT in well under a"
          + " second."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:every bug was caught",
      "1:some bug was missed (its check found nothing within the budget, or it has none)",
      "2:bad usage (unknown bug, bad number)"
    })
final class ZooCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--seconds",
      paramLabel = "N",
      defaultValue = "60",
      description =
          "Hunt each bug for N seconds at most (default: ${DEFAULT-VALUE}); shrinking a finding"
              + " comes on top.")
  double seconds;

  @Option(
      names = "--seed",
      paramLabel = "S",
      description = "Seed of every bug's hunt (default: from the clock, printed first).")
  Long seed;

  @Mixin BugNames.Choice only;

  @Option(names = "--list", description = "List every bug with its check, one a line, and exit.")
  boolean list;

  /** --frames and --config, on top of each check's own settings. */
  @Mixin ImplOptions impl;

  @Mixin FindingsDir findings;

  @Override
  public Integer call() {
    PrintWriter out = spec.commandLine().getOut();
    List<Bug> bugs = only.named().isEmpty() ? Arrays.asList(Bug.values()) : only.named();
    if (list) {
      for (Bug b : bugs) {
        out.printf("%-" + width() + "s %s%n", b.name(), check(Zoo.check(b)));
      }
      return Main.OK;
    }
    double secs = seconds;
    if (!(secs > 0) || Double.isInfinite(secs)) {
      throw new ParameterException(
          spec.commandLine(), "--seconds must be a number of seconds above 0, not " + secs);
    }
    long s = seed != null ? seed : Math.floorMod(System.nanoTime(), 1_000_000L);
    out.printf(
        "zoo: %d injected %s, up to %s s each, seed %d%s%n",
        bugs.size(),
        bugs.size() == 1 ? "bug" : "bugs",
        BigDecimal.valueOf(secs).stripTrailingZeros().toPlainString(),
        s,
        impl.given() ? ", --config " + ConfigText.join(impl.settings()) : "");
    out.flush();

    out.println(
        String.format(
            ROW, "bug", "detector", "strategy", "caught", "seconds", "tried", "reproducer"));
    out.flush();
    List<Bug> missed = new ArrayList<>();
    List<Double> times = new ArrayList<>();
    List<String> notes = new ArrayList<>();
    for (Bug b : bugs) {
      Zoo.Verdict v = Zoo.run(b, secs, s, findings.dir, impl::applyTo);
      if (!v.caught()) {
        missed.add(b);
      }
      if (v.check().isPresent()) {
        times.add(v.seconds());
      }
      out.println(row(v));
      out.flush();
      String note = note(v);
      if (!note.isEmpty()) {
        notes.add(b.name() + ": " + note);
      }
    }
    for (String n : notes) {
      out.println("  " + n);
    }
    if (!missed.isEmpty()) {
      out.println(
          "zoo: MISSED " + missed.stream().map(Bug::name).collect(Collectors.joining(", ")));
    }
    Collections.sort(times);
    out.printf(
        "zoo: %d of %d caught, median %.2f s, max %.2f s%n",
        bugs.size() - missed.size(),
        bugs.size(),
        times.isEmpty() ? 0.0 : median(times),
        times.isEmpty() ? 0.0 : times.get(times.size() - 1));
    return missed.isEmpty() ? Main.OK : Main.FOUND;
  }

  /** The median of {@code sorted}, which is not empty. */
  private static double median(List<Double> sorted) {
    int n = sorted.size();
    return n % 2 == 1 ? sorted.get(n / 2) : (sorted.get(n / 2 - 1) + sorted.get(n / 2)) / 2;
  }

  /** The longest detector's words ({@code hunt --profile pressure}), so the columns line up. */
  private static final int DETECTOR_WIDTH =
      Arrays.stream(Bug.values())
          .mapToInt(b -> Zoo.check(b).map(Zoo.Check::detector).orElse("(no check)").length())
          .max()
          .orElse(1);

  /** The table's columns: bug, detector, strategy, caught, seconds, tried, reproducer. */
  private static final String ROW =
      "%-" + width() + "s  %-" + DETECTOR_WIDTH + "s  %-9s %-6s %8s  %-17s %s";

  /**
   * One bug's row: {@code COLLAPSE_DROPS_FILE hunt --profile file - yes 0.21 156 operations 3
   * operations: FILE}.
   */
  private static String row(Zoo.Verdict v) {
    if (v.check().isEmpty()) {
      return String.format(ROW, v.bug().name(), "(no check)", "-", "MISSED", "-", "-", v.note());
    }
    Zoo.Check c = v.check().get();
    String tried =
        String.format(
            "%,d %s",
            v.operations(),
            c.strategy().controlled()
                ? (c.kind() == Zoo.Kind.CONCURRENT ? "schedules" : "rounds")
                : c.kind() == Zoo.Kind.LOCKSTEP ? "operations" : "changes");
    StringBuilder rep = new StringBuilder();
    if (!v.caught()) {
      rep.append("-");
    } else if (v.reproducer().isPresent()) {
      rep.append(v.reproducer().get())
          .append(c.kind() == Zoo.Kind.LOCKSTEP ? " operations" : " calls");
      v.choices()
          .ifPresent(n -> rep.append(", ").append(String.format("%,d", n)).append(" choices"));
      v.file().ifPresent(f -> rep.append(": ").append(f));
    } else if (c.kind() == Zoo.Kind.LOCKSTEP) {
      rep.append("not shrunk: see below");
    } else {
      rep.append("(a stress: its round is below)");
    }
    return String.format(
        ROW,
        v.bug().name(),
        c.detector(),
        c.strategy().controlled() ? c.strategy().word() : "-",
        v.caught() ? "yes" : "MISSED",
        String.format("%.2f", v.seconds()),
        tried,
        rep);
  }

  /** What a bug's row leaves out: what was found, a second finding, a problem; or nothing. */
  private static String note(Zoo.Verdict v) {
    if (v.check().isEmpty()) {
      return "";
    }
    if (!v.caught()) {
      return "nothing found"
          + (v.check().get().threads() > 1
              ? " (a race: this seed's schedules did not reach it; another --seed or a longer"
                  + " --seconds may)"
              : "");
    }
    StringBuilder what = new StringBuilder(v.found());
    if (!v.second().isEmpty()) {
      what.append("; second finding ").append(v.second());
      v.secondFile().ifPresent(f -> what.append(": ").append(f));
    }
    if (!v.note().isEmpty()) {
      what.append(" (").append(v.note()).append(')');
    }
    return what.toString();
  }

  /** {@code by hunt --profile fork}, or {@code (no check)}. */
  private static String check(Optional<Zoo.Check> c) {
    return c.map(x -> "by " + x.describe()).orElse("(no check)");
  }

  /** The longest bug name, so that the columns line up. */
  private static int width() {
    return Arrays.stream(Bug.values()).mapToInt(b -> b.name().length()).max().orElse(1);
  }
}
