package org.vmoracle.checks.gen;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Source;

/**
 * The hunting profiles: each makes every kind of operation it weighs, the same operations for the
 * same seed, and reaches the paths it is for (collapse, pageout, segments).
 */
class ProfileTest {

  private static final int OPS = 6000;

  /** {@code n} operations of {@code p} from {@code seed}, the generator fed the model's answers. */
  private static List<Op> ops(Profile p, long seed, int n) {
    Generator g = p.generator(seed);
    ModelVm vm = new ModelVm();
    List<Op> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      Op op = g.next();
      g.observe(op, vm.apply(op));
      out.add(op);
    }
    return out;
  }

  /** Runs {@code n} operations of {@code p} on its implementation config; answers its stats. */
  private static Map<String, Long> implStats(Profile p, long seed, int n) {
    Generator g = p.generator(seed);
    ImplVm vm = new ImplVm(p.config());
    for (int i = 0; i < n; i++) {
      Op op = g.next();
      g.observe(op, vm.apply(op));
    }
    return vm.stats();
  }

  @TestFactory
  Stream<DynamicTest> profile_everyWeighedKind_isMade() {
    return Stream.of(Profile.values())
        .map(
            p ->
                DynamicTest.dynamicTest(
                    p.word(),
                    () -> {
                      Set<OpKind> made = EnumSet.noneOf(OpKind.class);
                      for (Op op : ops(p, 1, OPS)) {
                        made.add(OpKind.of(op));
                      }
                      Set<OpKind> promised = EnumSet.copyOf(p.mix().kinds());
                      promised.removeAll(made);
                      assertTrue(promised.isEmpty(), p.word() + " never made " + promised);
                    }));
  }

  @TestFactory
  Stream<DynamicTest> profile_sameSeed_sameOperations() {
    return Stream.of(Profile.values())
        .map(
            p ->
                DynamicTest.dynamicTest(
                    p.word(),
                    () -> {
                      assertEquals(ops(p, 42, 2000), ops(p, 42, 2000));
                      assertTrue(!ops(p, 42, 200).equals(ops(p, 43, 200)), "seeds differ");
                    }));
  }

  @Test
  void mixed_isTheGeneratorsOriginalMix() {
    Generator original = new Generator(5);
    List<Op> a = new ArrayList<>();
    ModelVm vm = new ModelVm();
    for (int i = 0; i < 3000; i++) {
      Op op = original.next();
      original.observe(op, vm.apply(op));
      a.add(op);
    }
    assertEquals(a, ops(Profile.MIXED, 5, 3000));
  }

  @Test
  void byWord_everyProfile_foundByItsNameOnly() {
    for (Profile p : Profile.values()) {
      assertEquals(p, Profile.byWord(p.word()).orElseThrow());
      assertEquals(p, Profile.byWord(p.word().toUpperCase()).orElseThrow());
    }
    assertTrue(Profile.byWord("nosuch").isEmpty());
  }

  @Test
  void collapse_forksPastDepthFive_chainsAreCollapsed() {
    // SYS-2: collapse happens (on fork past the depth limit and on collapse ops).
    Map<String, Long> s = implStats(Profile.COLLAPSE, 1, OPS);
    assertTrue(s.get("collapses") > 0, s.toString());
    assertTrue(s.get("collapsedPages") > 0, s.toString());
  }

  @Test
  void pressure_tinyMemory_pagesOutAndRunsOut() {
    // SYS-1, MEM-1, MEM-2: 96 to 160 frames, so pageout and swap run all the time.
    int frames = Profile.PRESSURE.config().frames();
    assertTrue(frames >= 96 && frames <= 160, "frames " + frames);
    Map<String, Long> s = implStats(Profile.PRESSURE, 1, OPS);
    assertTrue(s.get("swapOuts") > 0, s.toString());
    assertTrue(s.get("swapIns") > 0, s.toString());
  }

  @Test
  void shm_wholeSegments_mappedShared() {
    // SHM-2 and seed 001: 2 MiB segments, mapped whole.
    long segments =
        ops(Profile.SHM, 1, OPS).stream()
            .filter(
                op ->
                    op instanceof Op.Mmap
                        && ((Op.Mmap) op).source() instanceof Source.Shm
                        && ((Op.Mmap) op).pages() == 512)
            .count();
    assertTrue(segments > 10, segments + " whole-segment mappings");
  }

  @Test
  void file_truncationAndGrowth_underMappings() {
    // FILE-1, FILE-8, FILE-9: files resized both ways while mapped.
    List<Op> ops = ops(Profile.FILE, 1, OPS);
    long shrinks = ops.stream().filter(op -> op instanceof Op.File).count();
    long fileMaps =
        ops.stream()
            .filter(
                op -> op instanceof Op.Mmap && ((Op.Mmap) op).source() instanceof Source.FileRange)
            .count();
    assertTrue(shrinks > 300 && fileMaps > 300, shrinks + " resizes, " + fileMaps + " file maps");
  }

  @Test
  void wire_mlockSucceedsOften() {
    // WIRE-1: the wire profile wires for real, not only into holes.
    Generator g = Profile.WIRE.generator(1);
    ModelVm vm = new ModelVm();
    int wired = 0;
    for (int i = 0; i < OPS; i++) {
      Op op = g.next();
      Result r = vm.apply(op);
      g.observe(op, r);
      if (op instanceof Op.Mlock && r.equals(Result.OK)) {
        wired++;
      }
    }
    assertTrue(wired > 100, wired + " successful mlocks");
  }

  @Test
  void wire_fastPathAndItsDemotions_common() {
    // Seed 003: whole 2 MiB segments wired by one PS leaf, then demoted by munmap, mprotect,
    // munlock or fork of part of them, in every run of the profile, not once in a while.
    Map<String, Long> s = implStats(Profile.WIRE, 1, OPS);
    long demotions = s.get("pmapDemotions") + s.get("pmapDemotionsLive");
    assertTrue(s.get("superpageWires") > 20, s.toString());
    assertTrue(demotions > 10, demotions + " demotions: " + s);
  }

  @Test
  void shm_fastPathOverSharedSegments_taken() {
    // Seed 003 on shm and shared anonymous objects: an mlock of a whole shared segment.
    Map<String, Long> s = implStats(Profile.SHM, 1, OPS);
    assertTrue(s.get("superpageWires") > 0, s.toString());
  }

  @Test
  void shm_withPageTableSharing_segmentsLinkTheirObjectsTables() {
    // Seed 001: with sharing on, the shm profile's whole segments keep their tables with the
    // object, and its processes link them.
    Generator g = Profile.SHM.generator(1);
    ImplVm vm =
        new ImplVm(
            Profile.SHM
                .config()
                .with(org.vmoracle.impl.core.Config.Switch.SHARE_PAGE_TABLES, true));
    long leaves = 0;
    for (int i = 0; i < OPS; i++) {
      Op op = g.next();
      g.observe(op, vm.apply(op));
      if (i % 100 == 0) {
        leaves = Math.max(leaves, vm.stats().get("sharedTableLeaves"));
      }
    }
    assertTrue(leaves > 8, leaves + " leaves at most in shared tables");
  }
}
