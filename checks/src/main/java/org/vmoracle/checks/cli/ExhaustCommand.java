package org.vmoracle.checks.cli;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import org.vmoracle.checks.exhaust.Exhaust;
import org.vmoracle.checks.exhaust.Scope;
import org.vmoracle.checks.exhaust.ZooDepths;
import org.vmoracle.checks.hunt.ConfigText;
import org.vmoracle.checks.hunt.FindingFile;
import org.vmoracle.checks.shrink.DivergenceShrinker;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.trace.TracePrinter;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.Spec;

/** {@code vmoracle exhaust}: every operation sequence of a small scope, up to a depth. */
@Command(
    name = "exhaust",
    mixinStandardHelpOptions = true,
    description = {
      "Checks every sequence of a small scope's operations up to --depth, breadth first, states"
          + " deduplicated by the model's canonical form (ids renamed, unreachable objects"
          + " dropped, pids and stored values permuted within the scope), and by default by the"
          + " implementation's shape too (--states). Every transition's path is replayed on the"
          + " implementation beside the model (results, then invariants and views), and the"
          + " model's own properties are checked on every state and transition.",
      "It stops at the first divergence and writes its path, a shortest one, as a trace file"
          + " that 'vmoracle replay' runs; every shorter sequence passed.",
      "Scopes (--list-scopes): small (the default), fork, chain, file, wire, shm, pressure."
    },
    exitCodeListHeading = "%nExit codes:%n",
    exitCodeList = {
      "0:every sequence up to the depth held",
      "1:a divergence or a broken model property was found (or --seconds ran out first)",
      "2:bad usage (unknown scope or bug, negative depth)"
    })
final class ExhaustCommand implements Callable<Integer> {

  @Spec CommandSpec spec;

  @Option(
      names = "--depth",
      paramLabel = "N",
      defaultValue = "3",
      description = "Operations after the scope's prelude, at most (default: ${DEFAULT-VALUE}).")
  int depth;

  @Option(
      names = "--scope",
      paramLabel = "NAME",
      defaultValue = "small",
      description = "The universe searched (default: ${DEFAULT-VALUE}); --list-scopes lists them.")
  String scopeName;

  @Option(
      names = "--states",
      paramLabel = "KIND",
      defaultValue = "model+impl",
      description =
          "What tells states apart: model+impl (the model's canonical form and the"
              + " implementation's page-table and chain shape; every transition is replayed, so a"
              + " read, pageout or collapse that the model cannot see is checked and searched on"
              + " from) or model (its canonical form alone, the spec's own state space: only each"
              + " new state's path is replayed, which is faster and blind to transitions into"
              + " states already seen). Default: ${DEFAULT-VALUE}.")
  String statesName;

  @Option(
      names = "--workers",
      paramLabel = "N",
      description = "Threads (default: one for each core).")
  Integer workers;

  @Option(
      names = "--seconds",
      paramLabel = "S",
      defaultValue = "0",
      description =
          "Stop after about this long; the depth then being searched is left unfinished"
              + " (default: no limit).")
  double seconds;

  @Option(
      names = "--model-only",
      description = "Check the model's properties only; the implementation is not run.")
  boolean modelOnly;

  @Option(
      names = "--no-symmetry",
      description =
          "Search states that differ only by a permutation of the scope's pids or stored values"
              + " apart (the reduction's switch: the same checks, more states).")
  boolean noSymmetry;

  @Option(names = "--list-scopes", description = "List the scopes, their operations and settings.")
  boolean listScopes;

  @Option(
      names = "--zoo",
      description =
          "Search for every sequential injected bug of the zoo (or those --bug names) in its own"
              + " scope, to its own depth, and print a table: bug, scope, depth found, states,"
              + " seconds, reproducer length. Exit 0 when every one was found.")
  boolean zoo;

  @Mixin BugNames.Choice bugChoice;

  @Mixin ImplOptions impl;

  @Mixin FindingsDir findings;

  @Override
  public Integer call() throws IOException {
    PrintWriter out = spec.commandLine().getOut();
    PrintWriter err = spec.commandLine().getErr();
    if (listScopes) {
      for (Scope s : Scope.all().values()) {
        out.println(s);
        out.println("  operations: " + s.shape());
        out.println("  prelude: " + s.prelude());
        out.println("  implementation: " + ConfigText.join(ConfigText.describe(s.config())));
      }
      out.flush();
      return Main.OK;
    }
    if (zoo) {
      return zoo(out);
    }
    if (depth < 0) {
      throw usage("--depth must be 0 or more, not " + depth);
    }
    if (seconds < 0) {
      throw usage("--seconds must be 0 or more, not " + seconds);
    }
    Scope scope =
        Scope.named(scopeName)
            .orElseThrow(
                () -> usage("no scope '" + scopeName + "': the scopes are " + Scope.names()));
    Exhaust.States states =
        Exhaust.States.named(statesName)
            .orElseThrow(() -> usage("--states is model or model+impl, not '" + statesName + "'"));
    if (modelOnly && (states == Exhaust.States.MODEL_AND_IMPL || !bugChoice.named().isEmpty())) {
      throw usage("--model-only runs no implementation: no --states model+impl, no --bug");
    }
    int n = workers == null ? Runtime.getRuntime().availableProcessors() : workers;
    if (n < 1) {
      throw usage("--workers must be 1 or more, not " + n);
    }
    Config config = impl.applyTo(BugNames.withAll(scope.config(), bugChoice.named()));
    scope = scope.withConfig(config);
    if (noSymmetry) {
      scope = scope.withoutSymmetry();
    }
    Exhaust.Settings settings = new Exhaust.Settings(scope, depth, states, n, seconds, !modelOnly);
    out.printf(
        "exhaust: scope %s, %d operations (%s), depth %d, states by %s%s, %d workers%s%n",
        scope.word(),
        scope.ops().size(),
        scope.description(),
        depth,
        states.word(),
        noSymmetry ? " without symmetry" : "",
        n,
        modelOnly
            ? ", model only"
            : ", implementation " + ConfigText.join(ConfigText.describe(config)));
    out.printf(
        "%5s  %12s  %12s  %14s  %12s  %9s%n",
        "depth", "new states", "states", "transitions", "replays", "seconds");
    out.flush();
    Exhaust.Report r =
        Exhaust.run(
            settings,
            p ->
                err.printf(
                    "exhaust: depth %d, %,d states, %,d transitions, %,d replays, %.1f s%n",
                    p.depth(), p.states(), p.transitions(), p.checked(), p.seconds()),
            l -> {
              out.printf(
                  "%5d  %,12d  %,12d  %,14d  %,12d  %9.1f%n",
                  l.depth(), l.newStates(), l.states(), l.transitions(), l.checked(), l.seconds());
              out.flush();
            });
    err.flush();
    if (states == Exhaust.States.MODEL_AND_IMPL && !r.levels().isEmpty()) {
      out.printf(
          "model states among them: %,d%n", r.levels().get(r.levels().size() - 1).modelStates());
    }
    if (r.exhaustions() > 0) {
      out.printf(
          "replays that met an accepted out-of-memory failure (MEM-1): %,d%n", r.exhaustions());
    }
    long statesSeen = r.states();
    long transitions = r.transitions();
    if (r.finding().isPresent()) {
      Exhaust.Finding f = r.finding().get();
      out.println("found at depth " + f.depth() + " (every shorter sequence held): " + f.what());
      Path file = write(settings, f);
      out.println("shortest path (" + f.ops().size() + " operations with the prelude): " + file);
      out.printf(
          "exhaust: FOUND at depth %d, %,d states, %,d transitions, %.1f s%n",
          f.depth(), statesSeen, transitions, r.seconds());
      out.flush();
      return Main.FOUND;
    }
    if (!r.complete()) {
      out.printf(
          "exhaust: stopped by --seconds after depth %d, %,d states, %,d transitions, %.1f s%n",
          r.depthReached(), statesSeen, transitions, r.seconds());
      out.flush();
      return Main.FOUND;
    }
    out.printf(
        "exhaust: depth %d complete, %,d states, %,d transitions, 0 divergences, %.1f s%n",
        r.depthReached(), statesSeen, transitions, r.seconds());
    out.flush();
    return Main.OK;
  }

  /** {@code --zoo}: every sequential bug in its scope, to its depth. */
  private int zoo(PrintWriter out) throws IOException {
    List<Bug> bugs =
        bugChoice.named().isEmpty() ? new ArrayList<>(ZooDepths.all().keySet()) : bugChoice.named();
    int n = workers == null ? Runtime.getRuntime().availableProcessors() : workers;
    String row = "%-34s %-8s %6s %6s %10s %8s  %s%n";
    out.printf(row, "bug", "scope", "depth", "found", "states", "seconds", "reproducer");
    out.flush();
    int found = 0;
    int deepest = 0;
    List<Double> times = new ArrayList<>();
    for (Bug b : bugs) {
      ZooDepths.Entry e =
          ZooDepths.of(b)
              .orElseThrow(
                  () ->
                      usage(b.name() + " is a race or a stress's bug: exhaust does not search it"));
      Scope scope = e.scopeWith(b);
      scope = scope.withConfig(impl.applyTo(scope.config()));
      Exhaust.Settings s =
          new Exhaust.Settings(scope, e.depth(), Exhaust.States.MODEL_AND_IMPL, n, seconds, true);
      Exhaust.Report r = Exhaust.run(s, p -> {}, l -> {});
      String where = "-";
      String repro = "not found";
      if (r.finding().isPresent()) {
        Exhaust.Finding f = r.finding().get();
        found++;
        deepest = Math.max(deepest, f.depth());
        times.add(r.seconds());
        where = Integer.toString(f.depth());
        repro = f.ops().size() + " operations: " + write(s, f);
      }
      out.printf(
          row,
          b.name(),
          scope.word() + (e.rmap() == null ? "" : "/" + e.rmap().name().toLowerCase(Locale.ROOT)),
          e.depth(),
          where,
          String.format("%,d", r.states()),
          String.format("%.1f", r.seconds()),
          repro);
      out.flush();
    }
    times.sort(Double::compare);
    double median = times.isEmpty() ? 0 : times.get(times.size() / 2);
    double max = times.isEmpty() ? 0 : times.get(times.size() - 1);
    out.printf(
        "exhaust zoo: %d of %d found, deepest at depth %d, median %.1f s, max %.1f s%n",
        found, bugs.size(), deepest, median, max);
    out.flush();
    return found == bugs.size() ? Main.OK : Main.FOUND;
  }

  /** Writes the finding's path, with the model's results as expectations; answers its path. */
  private Path write(Exhaust.Settings s, Exhaust.Finding f) throws IOException {
    Config c = s.scope().config();
    StringBuilder name =
        new StringBuilder("exhaust-").append(s.scope().word()).append("-depth").append(f.depth());
    for (Bug b : c.bugs().stream().sorted().collect(Collectors.toList())) {
      name.append('-').append(b.name().toLowerCase(Locale.ROOT).replace('_', '-'));
    }
    Files.createDirectories(findings.dir);
    Path p = findings.dir.resolve(name.append(".trace").toString());
    List<String> h = new ArrayList<>();
    h.add(
        String.format(
            "vmoracle exhaust finding: scope %s, depth %d (a shortest path: every sequence of"
                + " fewer operations held), states by %s",
            s.scope().word(), f.depth(), s.states().word()));
    h.add(
        "replay reads its options from the next line, so 'vmoracle replay FILE' runs this the way"
            + " exhaust did");
    String options = FindingFile.OPTIONS_MARK + " " + FindingFile.replayOptions(c);
    h.add("found: " + f.what());
    h.add(
        String.format(
            "reproduce the search: vmoracle exhaust --scope %s --depth %d --states %s%s",
            s.scope().word(),
            f.depth(),
            s.states().word(),
            c.bugs().stream().map(b -> " --bug " + b.name()).collect(Collectors.joining())));
    h.add(
        "every expectation is the model's: replay --system model passes"
            + (f.divergence() == null ? " unless the model broke its own property" : ""));
    StringBuilder sb = new StringBuilder();
    for (String line : h) {
      sb.append("# ").append(line).append('\n');
      if (line.startsWith("replay reads its options")) {
        sb.append(options).append('\n');
      }
    }
    sb.append('\n');
    sb.append(TracePrinter.print(DivergenceShrinker.withModelResults(p.toString(), f.ops())));
    Path tmp = p.resolveSibling(p.getFileName() + ".tmp");
    Files.writeString(tmp, sb.toString(), StandardCharsets.UTF_8);
    Files.move(tmp, p, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    return p;
  }

  private ParameterException usage(String message) {
    return new ParameterException(spec.commandLine(), message);
  }
}
