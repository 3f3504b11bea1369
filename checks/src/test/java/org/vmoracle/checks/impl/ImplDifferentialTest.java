package org.vmoracle.checks.impl;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.vmoracle.checks.ProjectFiles;
import org.vmoracle.checks.diff.Lockstep;
import org.vmoracle.checks.gen.Generator;
import org.vmoracle.checks.impl.ImplConfigs.Named;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.trace.Replay;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceParser;

/**
 * The implementation against the model, step by step ({@link Lockstep}): every example trace, with
 * results, views and invariants compared after every operation; and seeded random runs from the
 * generator, at a roomy size and under memory pressure (pageout, swap, out-of-memory answers).
 */
class ImplDifferentialTest {

  private static final Config ROOMY = Config.defaults().withFrames(2048);

  /** 160 frames: every run pages out, and some operations find no memory at all (MEM-1). */
  private static final Config PRESSURE = Config.defaults().withFrames(160).withSwapSlots(2048);

  @TestFactory
  Stream<DynamicTest> examples_everyTrace_implAgreesWithModelAtEveryStep() throws IOException {
    Path dir = ProjectFiles.root().resolve("examples");
    List<Path> traces;
    try (Stream<Path> files = Files.list(dir)) {
      traces =
          files.filter(p -> p.toString().endsWith(".trace")).sorted().collect(Collectors.toList());
    }
    assertTrue(traces.size() >= 12, "examples found: " + traces);
    return traces.stream()
        .map(
            p ->
                DynamicTest.dynamicTest(
                    p.getFileName().toString(),
                    () -> {
                      Trace t = TraceParser.parse(p);
                      Replay.Report r = Replay.run(t, new Lockstep(new ImplVm(ROOMY), 1, 1));
                      assertTrue(r.passed(), () -> r.unmet().get().message());
                    }));
  }

  @TestFactory
  Stream<DynamicTest> random_roomy_implAgreesWithModel() {
    return runs(ROOMY, 12, 3000, 50, 10);
  }

  @TestFactory
  Stream<DynamicTest> random_memoryPressure_implAgreesWithModel() {
    return runs(PRESSURE, 12, 2000, 25, 5);
  }

  /**
   * Every configuration of {@link ImplConfigs} but the default (which the runs above cover): every
   * optimization off, each one on alone, and each one off alone. The slow paths must agree with the
   * model too, and no fast path may depend on another.
   */
  @TestFactory
  Stream<DynamicTest> random_everyConfiguration_implAgreesWithModel() {
    Named allOff = ImplConfigs.ends(ROOMY).get(1);
    return Stream.of(
            named(allOff, runs(allOff.config(), 6, 3000, 50, 10)),
            ImplConfigs.eachOff(ROOMY).stream()
                .flatMap(c -> named(c, runs(c.config(), 3, 2000, 50, 10))),
            ImplConfigs.eachAlone(ROOMY).stream()
                .flatMap(c -> named(c, runs(c.config(), 2, 2000, 50, 10))))
        .flatMap(t -> t);
  }

  /** {@code tests}, each named after configuration {@code c} first. */
  private static Stream<DynamicTest> named(Named c, Stream<DynamicTest> tests) {
    return tests.map(
        t -> DynamicTest.dynamicTest(c.name() + ", " + t.getDisplayName(), t.getExecutable()));
  }

  private static Stream<DynamicTest> runs(
      Config config, int seeds, int ops, int viewEvery, int invariantsEvery) {
    return LongStream.rangeClosed(1, seeds)
        .mapToObj(
            seed ->
                DynamicTest.dynamicTest(
                    "seed " + seed,
                    () -> {
                      Generator g = new Generator(seed);
                      Lockstep both = new Lockstep(new ImplVm(config), viewEvery, invariantsEvery);
                      for (int i = 0; i < ops; i++) {
                        Op op = g.next();
                        Result r = both.apply(op);
                        g.observe(op, r);
                      }
                      both.view(); // compares the final views
                    }));
  }
}
