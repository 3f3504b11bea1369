package org.vmoracle.checks.cli;

import java.io.PrintWriter;
import java.math.BigDecimal;
import java.util.ArrayList;
import java.util.Arrays;
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

    long t0 = System.nanoTime();
    List<Bug> missed = new ArrayList<>();
    for (Bug b : bugs) {
      Zoo.Verdict v = Zoo.run(b, secs, s, findings.dir, impl::applyTo);
      if (!v.caught()) {
        missed.add(b);
      }
      out.println(line(v));
      out.flush();
    }
    double all = (System.nanoTime() - t0) / 1e9;
    out.printf(
        "zoo: %d of %d caught%s, %.1f s in all%n",
        bugs.size() - missed.size(),
        bugs.size(),
        missed.isEmpty()
            ? ""
            : ", MISSED " + missed.stream().map(Bug::name).collect(Collectors.joining(", ")),
        all);
    return missed.isEmpty() ? Main.OK : Main.FOUND;
  }

  /**
   * {@code caught BUG by hunt --profile file 0.2 s 156 ops RESULT at read; reproducer 3 operations:
   * FILE}.
   */
  private static String line(Zoo.Verdict v) {
    StringBuilder what = new StringBuilder();
    if (v.check().isEmpty()) {
      what.append(v.note());
    } else if (!v.caught()) {
      what.append("nothing found");
      if (v.check().get().threads() > 1) {
        what.append(
            " (a race: the check sees it only when the threads interleave just so;"
                + " a longer --seconds may catch it)");
      }
    } else {
      what.append(v.found());
      v.reproducer().ifPresent(n -> what.append("; reproducer ").append(n).append(" operations"));
      v.file().ifPresent(f -> what.append(": ").append(f));
      if (!v.second().isEmpty()) {
        what.append("; second finding ").append(v.second());
        v.secondFile().ifPresent(f -> what.append(": ").append(f));
      }
      if (!v.note().isEmpty()) {
        what.append(" (").append(v.note()).append(')');
      }
    }
    return String.format(
        "%-6s %-" + width() + "s %-" + CHECK_WIDTH + "s %6.2f s %,11d ops  %s",
        v.caught() ? "caught" : "MISSED",
        v.bug().name(),
        check(v.check()),
        v.seconds(),
        v.operations(),
        what);
  }

  /** {@code by hunt --profile fork}, or {@code (no check)}. */
  private static String check(Optional<Zoo.Check> c) {
    return c.map(x -> "by " + x.describe()).orElse("(no check)");
  }

  /** The longest check's words ({@code by hunt --profile pressure}), so the columns line up. */
  private static final int CHECK_WIDTH =
      Arrays.stream(Bug.values()).mapToInt(b -> check(Zoo.check(b)).length()).max().orElse(1);

  /** The longest bug name, so that the columns line up. */
  private static int width() {
    return Arrays.stream(Bug.values()).mapToInt(b -> b.name().length()).max().orElse(1);
  }
}
