package org.vmoracle.checks.exhaust;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;
import org.vmoracle.checks.ProjectFiles;
import org.vmoracle.checks.zoo.Zoo;
import org.vmoracle.impl.core.Bug;

/**
 * The zoo's sequential bugs, searched exhaustively: each shallow one is found within its depth,
 * with a reproducer no longer than the hunt's shrunk one in the regression corpus. The deeper ones
 * run in {@code vmoracle exhaust --zoo}, not here (they take minutes).
 */
class ExhaustZooTest {
  /** The deepest entry searched here: the rest take longer than a test should. */
  private static final int DEPTH_HERE = 3;

  @Test
  void table_namesOnlySequentialBugs_andEveryScopeExists() {
    for (Map.Entry<Bug, ZooDepths.Entry> e : ZooDepths.all().entrySet()) {
      assertEquals(
          Zoo.Kind.LOCKSTEP, Zoo.check(e.getKey()).orElseThrow().kind(), e.getKey().name());
      assertTrue(Scope.named(e.getValue().scope()).isPresent(), e.getValue().scope());
    }
  }

  @TestFactory
  Stream<DynamicTest> shallowBug_isFoundWithinItsDepth_noLongerThanTheHuntsReproducer()
      throws IOException {
    Map<Bug, Integer> hunts = huntLengths();
    return ZooDepths.all().entrySet().stream()
        .filter(e -> e.getValue().depth() <= DEPTH_HERE)
        .map(
            e ->
                DynamicTest.dynamicTest(
                    e.getKey().name(),
                    () -> {
                      Scope s = e.getValue().scopeWith(e.getKey());
                      Exhaust.Report r =
                          Exhaust.run(
                              new Exhaust.Settings(
                                  s,
                                  e.getValue().depth(),
                                  Exhaust.States.MODEL_AND_IMPL,
                                  2,
                                  0,
                                  true),
                              p -> {},
                              l -> {});
                      assertTrue(r.finding().isPresent(), "not found: " + r.levels());
                      int length = r.finding().get().ops().size();
                      Integer hunt = hunts.get(e.getKey());
                      assertTrue(hunt != null, "the corpus has a trace of " + e.getKey());
                      assertTrue(
                          length <= hunt,
                          "exhaust's " + length + " operations against the hunt's " + hunt);
                    }));
  }

  /** Operations in the corpus's reproducer of each injected bug (its lines with an arrow). */
  private static Map<Bug, Integer> huntLengths() throws IOException {
    Path dir = ProjectFiles.root().resolve("checks/src/test/resources/regressions/injected");
    Map<Bug, Integer> out = new EnumMap<>(Bug.class);
    List<Path> traces;
    try (Stream<Path> files = Files.list(dir)) {
      traces = files.filter(p -> p.toString().endsWith(".trace")).collect(Collectors.toList());
    }
    for (Path p : traces) {
      List<String> lines = Files.readAllLines(p);
      int ops = (int) lines.stream().filter(l -> !l.startsWith("#") && l.contains("->")).count();
      for (String l : lines) {
        if (l.startsWith("# vmoracle:")) {
          String[] w = l.split(" ");
          for (int i = 0; i + 1 < w.length; i++) {
            if (w[i].equals("--bug")) {
              out.merge(Bug.valueOf(w[i + 1]), ops, Math::min);
            }
          }
        }
      }
    }
    return out;
  }
}
