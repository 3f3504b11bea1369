package org.vmoracle.checks.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import java.util.stream.LongStream;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.TestFactory;
import org.vmoracle.checks.ProjectFiles;
import org.vmoracle.checks.diff.Lockstep;
import org.vmoracle.checks.gen.Generator;
import org.vmoracle.checks.gen.Profile;
import org.vmoracle.checks.hunt.Hunt;
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
 * results, views and invariants compared after every operation; seeded random runs from the
 * generator, at a roomy size and under memory pressure (pageout, swap, out-of-memory answers); and
 * a short hunt of every profile ({@link Profile}). All of it on every reverse map ({@link
 * ImplConfigs#kinds}): the record-keeping designs get fewer seeds than the default, as a budget.
 */
class ImplDifferentialTest {

  private static final Config ROOMY = Config.defaults().withFrames(2048);

  /** 160 frames: every run pages out, and some operations find no memory at all (MEM-1). */
  private static final Config PRESSURE = Config.defaults().withFrames(160).withSwapSlots(2048);

  /**
   * Operations of each profile's hunt on each reverse map: one run of the hunt's length, some 0.5 s
   * (7 profiles times 4 kinds, about 15 s in all).
   */
  private static final int PROFILE_OPS = Hunt.RUN_LENGTH;

  @TestFactory
  Stream<DynamicTest> examples_everyTraceOnEveryKind_implAgreesWithModelAtEveryStep()
      throws IOException {
    Path dir = ProjectFiles.root().resolve("examples");
    List<Path> traces;
    try (Stream<Path> files = Files.list(dir)) {
      traces =
          files.filter(p -> p.toString().endsWith(".trace")).sorted().collect(Collectors.toList());
    }
    assertTrue(traces.size() >= 12, "examples found: " + traces);
    return ImplConfigs.everyKind(ROOMY).stream()
        .flatMap(
            k ->
                traces.stream()
                    .map(
                        p ->
                            DynamicTest.dynamicTest(
                                p.getFileName() + ", " + k.name(),
                                () -> {
                                  Trace t = TraceParser.parse(p);
                                  Replay.Report r =
                                      Replay.run(t, new Lockstep(new ImplVm(k.config()), 1, 1));
                                  assertTrue(r.passed(), () -> r.unmet().get().message());
                                })));
  }

  @TestFactory
  Stream<DynamicTest> random_roomy_implAgreesWithModel() {
    return onEveryKind(ROOMY, 3000, 50, 10);
  }

  @TestFactory
  Stream<DynamicTest> random_memoryPressure_implAgreesWithModel() {
    return onEveryKind(PRESSURE, 2000, 25, 5);
  }

  /**
   * {@link #runs} of 12 seeds on {@code base}, then of 2 seeds on each other reverse map ({@link
   * ImplConfigs#otherKinds}), each named after it.
   */
  private static Stream<DynamicTest> onEveryKind(
      Config base, int ops, int viewEvery, int invariantsEvery) {
    return Stream.concat(
        runs(base, 12, ops, viewEvery, invariantsEvery),
        ImplConfigs.otherKinds(base).stream()
            .flatMap(c -> named(c, runs(c.config(), 2, ops, viewEvery, invariantsEvery))));
  }

  /**
   * The profiles that reach the seeds' switches (shm: shared segments and their sharers, seed 001;
   * wire: 2 MiB wiring, seed 003; mixed) with segment page-table sharing on, which is off by
   * default, on every reverse map: a short hunt each, as {@link
   * #hunt_everyProfileOnEveryKind_noFinding} (the fast path is on by default there already).
   */
  @TestFactory
  Stream<DynamicTest> hunt_sharingOn_seedProfilesOnEveryKind_noFinding() {
    return Stream.of(Profile.SHM, Profile.WIRE, Profile.MIXED)
        .flatMap(
            p ->
                profileHunts(
                    p, p.config().with(Config.Switch.SHARE_PAGE_TABLES, true), " sharePageTables"));
  }

  /**
   * Every profile's operation mix on its own implementation settings, on every reverse map: a short
   * hunt of {@link #PROFILE_OPS} operations from seed 1 (what {@code vmoracle hunt --profile P
   * --rmap K} does for longer), invariants and views compared every 250 operations.
   */
  @TestFactory
  Stream<DynamicTest> hunt_everyProfileOnEveryKind_noFinding() {
    return Stream.of(Profile.values()).flatMap(p -> profileHunts(p, p.config(), ""));
  }

  /**
   * A short hunt of profile {@code p} on {@code base} on every reverse map ({@link
   * ImplConfigs#everyKind}), each a test named after the profile, {@code suffix} and the kind: no
   * finding, and every operation run.
   */
  private static Stream<DynamicTest> profileHunts(Profile p, Config base, String suffix) {
    return ImplConfigs.everyKind(base).stream()
        .map(
            k ->
                DynamicTest.dynamicTest(
                    p.word() + suffix + ", " + k.name(),
                    () -> {
                      Hunt.Report r =
                          Hunt.run(
                              new Hunt.Settings(p, k.config(), 1, PROFILE_OPS, 0, PROFILE_OPS, 250),
                              x -> {},
                              0);
                      assertTrue(
                          r.finding().isEmpty(), () -> r.finding().get().divergence().getMessage());
                      assertEquals(PROFILE_OPS, r.progress().operations());
                    }));
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

  /**
   * The same matrix on the record-keeping reverse maps (pv entries, pte chains), one short seed a
   * configuration (some 20 s in all): every switch's slow path must keep their records right too.
   */
  @TestFactory
  Stream<DynamicTest> random_everyConfigurationOnEveryOtherKind_implAgreesWithModel() {
    return Stream.of(Config.Rmap.values())
        .filter(r -> r != ROOMY.rmap())
        .flatMap(
            r -> {
              Config base = ROOMY.withRmap(r);
              List<Named> configs = new ArrayList<>(ImplConfigs.ends(base).subList(1, 2));
              configs.addAll(ImplConfigs.eachOff(base));
              configs.addAll(ImplConfigs.eachAlone(base));
              return configs.stream()
                  .map(c -> new Named(r.word() + " " + c.name(), c.config()))
                  .flatMap(c -> named(c, runs(c.config(), 1, 1000, 50, 10)));
            });
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
