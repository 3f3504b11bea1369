package org.vmoracle.checks.hunt;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.stream.Collectors;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.checks.gen.OpKind;
import org.vmoracle.checks.shrink.DivergenceShrinker;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.trace.TracePrinter;

/**
 * A finding as a trace file: a header of comments saying where it came from (profile, seed, the
 * divergence, how far it shrank, which rule areas to read), then the shrunk operations, each
 * expecting the model's result. It is what goes into the regression corpus ({@code
 * checks/src/test/resources/regressions/}).
 */
public final class FindingFile {
  private FindingFile() {}

  /**
   * {@code <profile>-<kind>-<seed>.trace}: kind of the divergence found, seed of its run; with
   * injected bugs on, {@code <profile>-<kind>-<seed>-<bug>.trace}, one {@code -<bug>} for each.
   */
  public static String name(Hunt.Settings s, Hunt.Finding f) {
    StringBuilder sb =
        new StringBuilder(s.profile().word())
            .append('-')
            .append(f.divergence().kind().name().toLowerCase(Locale.ROOT))
            .append('-')
            .append(f.runSeed());
    for (Bug b : bugs(s.config())) {
      sb.append('-').append(b.name().toLowerCase(Locale.ROOT).replace('_', '-'));
    }
    return sb.append(".trace").toString();
  }

  /** The injected bugs {@code c} has on, in declaration order. */
  static List<Bug> bugs(Config c) {
    return c.bugs().stream().sorted().collect(Collectors.toList());
  }

  /** Writes the file into {@code dir} (made if missing) and answers its path. */
  public static Path write(
      Path dir, Hunt.Settings s, Hunt.Finding f, DivergenceShrinker.Shrunk shrunk)
      throws IOException {
    Files.createDirectories(dir);
    Path p = dir.resolve(name(s, f));
    Files.writeString(p, render(s, f, shrunk), StandardCharsets.UTF_8);
    return p;
  }

  /**
   * What opens the header line that {@code vmoracle replay} reads its options from: {@code #
   * vmoracle: --system both --bug NAME --config frames=N,...}. A comment to the trace language, so
   * every other reader skips it.
   */
  public static final String OPTIONS_MARK = "# vmoracle:";

  /**
   * The options that replay the finding the way the hunt ran it, as the header's {@link
   * #OPTIONS_MARK} line gives them: {@code --system both}, a {@code --bug} for each injected bug,
   * and {@code --config} with the implementation's sizes and every switch that is off.
   */
  public static String replayOptions(Config c) {
    StringBuilder sb = new StringBuilder("--system both");
    for (Bug b : bugs(c)) {
      sb.append(" --bug ").append(b.name());
    }
    return sb.append(" --config ").append(ConfigText.join(ConfigText.describe(c))).toString();
  }

  /** The file's text. */
  public static String render(Hunt.Settings s, Hunt.Finding f, DivergenceShrinker.Shrunk shrunk) {
    return render(s, f, shrunk, List.of());
  }

  /**
   * {@link #name}, with the kind of the second finding {@code other} (see {@link
   * DivergenceShrinker.Shrunk#other()}) and {@code -second} before {@code .trace}.
   */
  public static String secondName(
      Hunt.Settings s, Hunt.Finding f, DivergenceShrinker.Shrunk other) {
    String first = name(s, f);
    String kind = "-" + f.divergence().kind().name().toLowerCase(Locale.ROOT) + "-";
    String theirs = "-" + other.original().kind().name().toLowerCase(Locale.ROOT) + "-";
    int at = first.indexOf(kind);
    String n = first.substring(0, at) + theirs + first.substring(at + kind.length());
    return n.substring(0, n.length() - ".trace".length()) + "-second.trace";
  }

  /**
   * Writes the second finding met while shrinking {@code first} (a failure of another kind) into
   * {@code dir} beside it, and answers its path.
   */
  public static Path writeSecond(
      Path dir, Hunt.Settings s, Hunt.Finding f, Path first, DivergenceShrinker.Shrunk other)
      throws IOException {
    Files.createDirectories(dir);
    Path p = dir.resolve(secondName(s, f, other));
    List<String> why =
        List.of(
            "SECOND FINDING: a failure of another kind, met while shrinking "
                + first.getFileName()
                + "\n  and shrunk on its own; that finding keeps its own kind. Seen as:",
            "  " + other.original().getMessage());
    Files.writeString(p, render(s, f, other, why), StandardCharsets.UTF_8);
    return p;
  }

  private static String render(
      Hunt.Settings s, Hunt.Finding f, DivergenceShrinker.Shrunk shrunk, List<String> second) {
    List<String> h = new ArrayList<>(second);
    Config c = s.config();
    h.add(
        String.format(
            "vmoracle hunt finding: profile %s, run seed %d (run %d of a hunt from seed %d)",
            s.profile().word(), f.runSeed(), f.run(), s.seed()));
    String options = OPTIONS_MARK + " " + replayOptions(c);
    h.add(
        "replay reads its options from the next line, so 'vmoracle replay FILE' runs this the way"
            + "\n  the hunt did (options given on the command line win; --ignore-header drops it):");
    h.add(
        String.format(
            "implementation: %,d frames, %,d swap slots, collapse depth %d",
            c.frames(), c.swapSlots(), c.collapseDepth()));
    if (!c.bugs().isEmpty()) {
      h.add(
          "injected bugs on: "
              + bugs(c).stream().map(Bug::name).collect(Collectors.joining(", "))
              + "\n  (planted, not to be fixed: its reproducer goes to the corpus's injected/, if"
              + " anywhere)");
    }
    h.add(String.format("found: %s", f.divergence().getMessage()));
    h.add(
        String.format(
            "  after %,d operations, %.1f s into the hunt", f.operationsBefore(), f.seconds()));
    h.add(
        String.format(
            "shrunk: from %,d to %d operations (%d runs, %.1f s%s)",
            shrunk.originalLength(),
            shrunk.ops().size(),
            shrunk.tests(),
            shrunk.seconds(),
            shrunk.complete() ? "" : ", stopped by the time budget"));
    Divergence d = shrunk.stepByStep();
    String where =
        d.step() == shrunk.ops().size() - 1 ? "the last line" : "operation " + (d.step() + 1);
    if (!shrunk.stepByStepSame()) {
      // The kept failure shows only as the hunt checks; a replay meets another one first.
      h.add(
          "as the hunt checks (results at every operation, invariants and views after the last)"
              + " it fails the way found, at the last line:");
      h.add("  " + shrunk.divergence().getMessage());
    }
    h.add(
        String.format(
            "step by step (everything compared after every operation, as replay --system both"
                + " does) it fails at %s%s:",
            where, shrunk.stepByStepSame() ? "" : ", another way"));
    h.add("  " + d.getMessage());
    h.add("rule areas (spec/SEMANTICS.md): " + areas(d.op(), shrunk.ops()));
    h.add(
        String.format(
            "reproduce the run: vmoracle hunt --profile %s --seed %d --ops %d%s%s",
            s.profile().word(),
            f.runSeed(),
            f.ops().size(),
            bugs(c).stream().map(b -> " --bug " + b.name()).collect(Collectors.joining()),
            rerunConfig(s.profile().config(), c)));
    h.add("every expectation is the model's: replay --system model passes; model and");
    if (c.bugs().isEmpty()) {
      h.add("implementation side by side disagree at the last line until one is fixed.");
    } else {
      h.add("implementation disagree at the last line only with the injected bugs on, as the");
      h.add("options line has them; replay --ignore-header runs the implementation without them");
      h.add("(and on replay's own settings) and passes.");
    }
    StringBuilder sb = new StringBuilder();
    for (String line : h) {
      for (String part : line.split("\n", -1)) {
        sb.append(part.isEmpty() ? "#" : "# " + part).append('\n');
      }
      if (line.startsWith("replay reads its options")) {
        sb.append(options).append('\n');
      }
    }
    sb.append('\n');
    sb.append(TracePrinter.print(shrunk.trace()));
    return sb.toString();
  }

  /**
   * {@code " --config swapSlots=16"}: the settings in which the hunt's implementation differs from
   * its profile's (bugs aside), for the command line that reruns it; nothing when there are none.
   */
  private static String rerunConfig(Config profile, Config c) {
    List<ConfigText.Setting> changes = ConfigText.changes(profile, c);
    return changes.isEmpty() ? "" : " --config " + ConfigText.join(changes);
  }

  /**
   * The rule areas of the diverging operation's kind first ({@code FORK, INH, COW (fork)}), then
   * those of the other operations in the trace.
   */
  static String areas(Op diverging, List<Op> ops) {
    Set<String> seen = new LinkedHashSet<>();
    StringBuilder sb = new StringBuilder();
    if (diverging != null) {
      OpKind k = OpKind.of(diverging);
      seen.addAll(k.areas());
      sb.append(String.join(", ", k.areas())).append(" (").append(k.word()).append(")");
    }
    Set<String> rest = new LinkedHashSet<>();
    for (Op op : ops) {
      for (String a : OpKind.of(op).areas()) {
        if (!seen.contains(a)) {
          rest.add(a);
        }
      }
    }
    if (!rest.isEmpty()) {
      sb.append(sb.length() > 0 ? "; also " : "").append(String.join(", ", rest));
    }
    return sb.toString();
  }
}
