package org.vmoracle.checks.regress;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
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
import org.vmoracle.impl.ImplVm;
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
 * <p>A trace is replayed on 16,384 frames, as {@code vmoracle replay} does, unless its header names
 * the implementation it was found on ({@code # implementation: 128 frames, 2,048 swap slots,
 * collapse depth 5}, as the hunt writes it).
 */
class RegressionCorpusTest {

  /** What {@code vmoracle replay} runs traces on. */
  private static final Config REPLAY = Config.defaults().withFrames(16_384);

  private static final Pattern IMPLEMENTATION =
      Pattern.compile(
          "^# implementation: ([\\d,]+) frames, ([\\d,]+) swap slots, collapse depth (\\d+)",
          Pattern.MULTILINE);

  @TestFactory
  Stream<DynamicTest> corpus_everyTrace_modelAndImplementationAgree() throws IOException {
    return traces(dir()).stream()
        .map(p -> DynamicTest.dynamicTest(p.getFileName().toString(), () -> agree(p)));
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

  private static void agree(Path p) throws Exception {
    String text = Files.readString(p, StandardCharsets.UTF_8);
    Trace t = TraceParser.parse(name(p), text);
    Replay.Report model = Replay.run(t, new ModelVm());
    assertTrue(model.passed(), () -> "the model: " + model.unmet().get().message());
    Replay.Report both;
    try {
      both = Replay.run(t, new Lockstep(new ImplVm(config(text)), 1, 1));
    } catch (Divergence d) {
      fail(name(p) + ":" + t.lines().get((int) d.step()).line() + ": " + d.getMessage());
      return;
    }
    assertTrue(both.passed(), () -> "model and implementation: " + both.unmet().get().message());
  }

  private static void stillDiverges(Path p) throws Exception {
    String text = Files.readString(p, StandardCharsets.UTF_8);
    Trace t = TraceParser.parse(name(p), text);
    Replay.Report model = Replay.run(t, new ModelVm());
    assertTrue(model.passed(), () -> "the model: " + model.unmet().get().message());
    boolean diverged;
    try {
      diverged = !Replay.run(t, new Lockstep(new ImplVm(config(text)), 1, 1)).passed();
    } catch (Divergence d) {
      diverged = true;
    }
    assertTrue(
        diverged,
        name(p)
            + ": model and implementation agree now; move the trace from pending/ into the"
            + " corpus and name what it caught");
  }

  /** The implementation the trace's header names, or what replay uses. */
  static Config config(String text) {
    Matcher m = IMPLEMENTATION.matcher(text);
    if (!m.find()) {
      return REPLAY;
    }
    return Config.defaults()
        .withFrames(Integer.parseInt(m.group(1).replace(",", "")))
        .withSwapSlots(Integer.parseInt(m.group(2).replace(",", "")))
        .withCollapseDepth(Integer.parseInt(m.group(3)));
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
