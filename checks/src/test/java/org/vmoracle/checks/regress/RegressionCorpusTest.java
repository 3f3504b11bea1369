package org.vmoracle.checks.regress;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.vmoracle.checks.ProjectFiles;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.checks.diff.Lockstep;
import org.vmoracle.checks.hunt.ConfigText;
import org.vmoracle.checks.impl.ImplConfigs;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.trace.Replay;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceParser;

/**
 * The regression corpus ({@code checks/src/test/resources/regressions/}, see its README): every
 * trace there is replayed through the model, which must meet every expectation, and through model
 * and implementation side by side ({@code replay --system both}: results, views and invariants
 * compared after every operation), which must agree. A failure names the file and line.
 *
 * <p>Traces in {@code pending/} record divergences found but not yet fixed: the model must still
 * pass them, and model and implementation must still disagree on them; when they agree, the fix is
 * in and the trace moves up into the corpus.
 *
 * <p>Traces in {@code injected/} are the zoo's shrunk reproducers of injected bugs ({@code
 * core.Bug}), which no fix will ever remove: each must fail with the bugs its header's options line
 * names on, and pass with them off. They keep the checks honest: a change to the checks or to the
 * implementation that stops seeing one of them shows here.
 *
 * <p>A trace is replayed on 16,384 frames, as {@code vmoracle replay} does, unless its header gives
 * replay's options ({@code # vmoracle: --system both --config frames=128,...}) or names the
 * implementation it was found on ({@code # implementation: 128 frames, 2,048 swap slots, collapse
 * depth 5}), as the hunt writes them. Every trace is replayed on every reverse map ({@link
 * ImplConfigs#everyKind}), whichever one it was found on.
 */
class RegressionCorpusTest {

  /** What {@code vmoracle replay} runs traces on. */
  private static final Config REPLAY = Config.defaults().withFrames(16_384);

  private static final Pattern IMPLEMENTATION =
      Pattern.compile(
          "^# implementation: ([\\d,]+) frames, ([\\d,]+) swap slots, collapse depth (\\d+)",
          Pattern.MULTILINE);

  /** replay's options on a header line, as a finding file writes them ({@code FindingFile}). */
  private static final Pattern OPTIONS = Pattern.compile("^# vmoracle:(.*)$", Pattern.MULTILINE);

  @TestFactory
  Stream<DynamicTest> corpus_everyTraceOnEveryKind_modelAndImplementationAgree()
      throws IOException {
    return onEveryKind(traces(dir()));
  }

  @TestFactory
  Stream<DynamicTest> injected_everyTrace_failsWithItsBugOn() throws IOException {
    return traces(dir().resolve("injected")).stream()
        .map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> failsWithBug(p)));
  }

  @TestFactory
  Stream<DynamicTest> injected_everyTraceOnEveryKind_passesWithTheBugOff() throws IOException {
    return onEveryKind(traces(dir().resolve("injected")));
  }

  @Test
  void injected_hasAReproducerOfEveryRecordKeepingReverseMapsBug() throws IOException {
    List<Bug> bugs = new ArrayList<>();
    for (Path p : traces(dir().resolve("injected"))) {
      bugs.addAll(bugs(Files.readString(p, StandardCharsets.UTF_8)));
    }
    for (Bug b : List.of(Bug.CHAIN_HEAD_MOVE_DROPS, Bug.PV_LEFT_ON_PARTIAL_MUNMAP)) {
      assertTrue(bugs.contains(b), "no trace in injected/ switches on " + b + ": " + bugs);
    }
  }

  /**
   * Every bug the sequential hunt catches has its reproducer here (the races have schedules:
   * ScheduleCorpusTest).
   */
  @Test
  void injected_hasATraceOfEverySequentialBug() throws IOException {
    List<Bug> bugs = new ArrayList<>();
    for (Path p : traces(dir().resolve("injected"))) {
      bugs.addAll(bugs(Files.readString(p, StandardCharsets.UTF_8)));
    }
    List<Bug> missing = new ArrayList<>();
    for (Bug b : Bug.values()) {
      boolean sequential =
          org.vmoracle.checks.zoo.Zoo.check(b)
              .map(c -> c.kind() == org.vmoracle.checks.zoo.Zoo.Kind.LOCKSTEP)
              .orElse(true);
      if (sequential && !bugs.contains(b)) {
        missing.add(b);
      }
    }
    assertEquals(List.of(), missing, "sequential bugs with no trace in injected/");
  }

  /** A test for each of {@code traces} on each reverse map, without injected bugs. */
  private static Stream<DynamicTest> onEveryKind(List<Path> traces) {
    return traces.stream()
        .flatMap(
            p -> {
              String text = read(p);
              return ImplConfigs.everyKind(withoutBugs(config(text))).stream()
                  .map(
                      k ->
                          DynamicTest.dynamicTest(
                              p.getFileName() + ", " + k.name(), () -> agree(p, k.config())));
            });
  }

  @TestFactory
  Stream<DynamicTest> pending_everyTrace_stillDiverges() throws IOException {
    return traces(dir().resolve("pending")).stream()
        .map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> stillDiverges(p)));
  }

  @Test
  void corpus_hasTracesAndAReadme() throws IOException {
    assertTrue(Files.exists(dir().resolve("README.md")), "regressions/README.md");
    assertTrue(traces(dir()).size() >= 3, "traces: " + traces(dir()));
  }

  private static void agree(Path p, Config config) throws Exception {
    String text = Files.readString(p, StandardCharsets.UTF_8);
    Trace t = TraceParser.parse(name(p), text);
    Replay.Report model = Replay.run(t, new ModelVm());
    assertTrue(model.passed(), () -> "the model: " + model.unmet().get().message());
    Replay.Report both;
    try {
      both = Replay.run(t, new Lockstep(new ImplVm(config), 1, 1));
    } catch (Divergence d) {
      fail(name(p) + ":" + t.lines().get((int) d.step()).line() + ": " + d.getMessage());
      return;
    }
    assertTrue(both.passed(), () -> "model and implementation: " + both.unmet().get().message());
  }

  private static void stillDiverges(Path p) throws Exception {
    assertTrue(
        diverges(p, config(read(p))),
        name(p)
            + ": model and implementation agree now; move the trace from pending/ into the"
            + " corpus and name what it caught");
  }

  private static void failsWithBug(Path p) throws Exception {
    Config c = config(read(p));
    assertFalse(
        c.bugs().isEmpty(), name(p) + ": its '# vmoracle:' line names no --bug to switch on");
    assertTrue(
        diverges(p, c),
        name(p) + ": model and implementation agree with " + c.bugs() + " on: no check sees it");
  }

  /** Whether the model passes {@code p} and model and implementation on {@code c} do not. */
  private static boolean diverges(Path p, Config c) throws Exception {
    Trace t = TraceParser.parse(name(p), read(p));
    Replay.Report model = Replay.run(t, new ModelVm());
    assertTrue(model.passed(), () -> "the model: " + model.unmet().get().message());
    try {
      return !Replay.run(t, new Lockstep(new ImplVm(c), 1, 1)).passed();
    } catch (Divergence d) {
      return true;
    }
  }

  /**
   * The implementation the trace's header gives: replay's options line ({@code --frames}, {@code
   * --rmap}, {@code --config}, {@code --bug}) on replay's 16,384 frames, else the {@code #
   * implementation:} line, else what replay uses.
   */
  static Config config(String text) {
    Matcher o = OPTIONS.matcher(text);
    if (o.find() && o.start() < firstOperation(text)) {
      Config c = REPLAY;
      List<String> words = List.of(o.group(1).trim().split("\\s+"));
      for (int i = 0; i + 1 < words.size(); i++) {
        String value = words.get(i + 1);
        switch (words.get(i)) {
          case "--config":
            for (String kv : value.split(",")) {
              c = ConfigText.parse(kv).applyTo(c);
            }
            break;
          case "--frames":
            c = ConfigText.value(ConfigText.Key.FRAMES, value).applyTo(c);
            break;
          case "--rmap":
            c = ConfigText.value(ConfigText.Key.RMAP, value).applyTo(c);
            break;
          case "--bug":
            c = c.withBug(Bug.valueOf(value.toUpperCase(Locale.ROOT).replace('-', '_')));
            break;
          default: // --system and the values: nothing to set up
            break;
        }
      }
      return c;
    }
    Matcher m = IMPLEMENTATION.matcher(text);
    if (!m.find()) {
      return REPLAY;
    }
    return Config.defaults()
        .withFrames(Integer.parseInt(m.group(1).replace(",", "")))
        .withSwapSlots(Integer.parseInt(m.group(2).replace(",", "")))
        .withCollapseDepth(Integer.parseInt(m.group(3)));
  }

  /** The bugs the header of {@code text} switches on. */
  private static Set<Bug> bugs(String text) {
    return config(text).bugs();
  }

  /** {@code c} without its injected bugs. */
  private static Config withoutBugs(Config c) {
    return new Config(
        c.frames(), c.swapSlots(), c.collapseDepth(), c.rmap(), c.switches(), Set.of());
  }

  /** Where the header ends: the offset of the first line that is neither a comment nor blank. */
  private static int firstOperation(String text) {
    Matcher m = Pattern.compile("^[ \\t]*[^#\\s]", Pattern.MULTILINE).matcher(text);
    return m.find() ? m.start() : text.length();
  }

  private static String read(Path p) {
    try {
      return Files.readString(p, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static List<Path> traces(Path dir) throws IOException {
    if (!Files.isDirectory(dir)) {
      return List.of();
    }
    try (Stream<Path> files = Files.list(dir)) {
      return files
          .filter(f -> f.toString().endsWith(".trace"))
          .sorted()
          .collect(Collectors.toList());
    }
  }

  private static String name(Path p) {
    return ProjectFiles.root().relativize(p.toAbsolutePath()).toString();
  }

  private static Path dir() {
    Path d = ProjectFiles.root().resolve("checks/src/test/resources/regressions");
    assertFalse(!Files.isDirectory(d), "no " + d);
    return d;
  }
}
