package org.vmoracle.checks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vmoracle.checks.zoo.Zoo;
import org.vmoracle.impl.core.Bug;

/** The CLI's contract: verdict lines, the summary as the last line, exit codes 0, 1 and 2. */
class MainTest {

  @TempDir Path dir;

  /** What one run printed and answered. */
  record Run(int code, List<String> out, String err) {
    String last() {
      return out.isEmpty() ? "" : out.get(out.size() - 1);
    }
  }

  private static Run vmoracle(String... args) {
    StringWriter out = new StringWriter();
    StringWriter err = new StringWriter();
    int code = Main.run(args, new PrintWriter(out), new PrintWriter(err));
    String o = out.toString();
    return new Run(code, o.isEmpty() ? List.of() : List.of(o.split("\n")), err.toString());
  }

  /** The words of {@code line}, then {@code more} as they are (a path may hold spaces). */
  private static String[] words(String line, String... more) {
    List<String> all = new ArrayList<>(List.of(line.split(" ")));
    all.addAll(List.of(more));
    return all.toArray(new String[0]);
  }

  private String trace(String name, String... lines) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(p, String.join("\n", lines) + "\n");
    return p.toString();
  }

  @Test
  void replay_expectationsMet_passesWithExitZero() throws IOException {
    String f = trace("ok.trace", "spawn 1", "read 1 0x7ffffffff000 -> 0xc0de0000  # shared page");
    Run r = vmoracle("replay", f);
    assertEquals(0, r.code(), r.toString());
    assertEquals(
        List.of("PASS " + f + " (2 ops)", "replay: 1 file, 1 passed, 0 failed, 2 operations"),
        r.out());
  }

  @Test
  void replay_unmetExpectation_failsNamingTheLineWithExitOne() throws IOException {
    String good = trace("good.trace", "spawn 1");
    String bad = trace("bad.trace", "spawn 1", "# a comment", "read 1 0x7ffffffff000 -> 5");
    Run r = vmoracle("replay", good, bad);
    assertEquals(1, r.code(), r.toString());
    assertEquals("PASS " + good + " (1 op)", r.out().get(0));
    assertTrue(
        r.out().get(1).startsWith("FAIL " + bad + ":3: expected 5, got 0xc0de0000"), r.toString());
    assertEquals("replay: 2 files, 1 passed, 1 failed, 3 operations", r.last());
  }

  @Test
  void replay_syntaxErrors_listsEveryProblemAndRunsNothingOfThatFile() throws IOException {
    String bad = trace("bad.trace", "spawn 1", "sapwn 2", "read 1", "fork 1 2");
    String good = trace("good.trace", "spawn 1", "spawn 2");
    Run r = vmoracle("replay", bad, good);
    assertEquals(1, r.code(), r.toString());
    assertTrue(r.out().get(0).startsWith(bad + ":2:1: expected "), r.toString());
    assertTrue(r.out().get(1).startsWith(bad + ":3:"), r.toString());
    assertEquals("FAIL " + bad + ": 2 bad lines, nothing run", r.out().get(2));
    assertEquals("PASS " + good + " (2 ops)", r.out().get(3));
    assertEquals("replay: 2 files, 1 passed, 1 failed, 2 operations", r.last());
  }

  @Test
  void replay_missingFile_usageErrorAndNothingRuns() throws IOException {
    String good = trace("good.trace", "spawn 1");
    String missing = dir.resolve("nope.trace").toString();
    Run r = vmoracle("replay", good, missing);
    assertEquals(2, r.code(), r.toString());
    assertEquals(List.of(), r.out());
    assertEquals("vmoracle: cannot read " + missing + ": no such file\n", r.err());
  }

  @Test
  void replay_directory_cannotBeRead() {
    Run r = vmoracle("replay", dir.toString());
    assertEquals(2, r.code(), r.toString());
    assertEquals("vmoracle: cannot read " + dir + ": is a directory\n", r.err());
  }

  @Test
  void replay_noFiles_usageError() {
    Run r = vmoracle("replay");
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("FILE"), r.err());
  }

  @Test
  void replay_unknownOption_usageError() {
    Run r = vmoracle("replay", "--frobnicate", "x.trace");
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().startsWith("vmoracle replay: Unknown option: '--frobnicate'"), r.err());
  }

  @Test
  void replay_systemModel_accepted() throws IOException {
    String f = trace("ok.trace", "spawn 1");
    assertEquals(0, vmoracle("replay", "--system", "model", f).code());
  }

  @Test
  void replay_systemImplAndBoth_passAndFindTheSameUnmetExpectation() throws IOException {
    String ok = trace("ok.trace", "spawn 1", "mmap 1 0 1 rw private anon -> 0x10000000");
    String bad = trace("bad.trace", "spawn 1", "read 1 0x10000000 -> 5");
    for (String system : List.of("impl", "both")) {
      Run r = vmoracle("replay", "--system=" + system, ok, bad);
      assertEquals(1, r.code(), system + ": " + r);
      assertTrue(r.out().get(0).startsWith("PASS"), system + ": " + r);
      assertTrue(r.out().get(1).contains("bad.trace:2: expected 5, got SEGV"), system + ": " + r);
    }
  }

  @Test
  void replay_unknownSystem_usageError() throws IOException {
    String f = trace("ok.trace", "spawn 1");
    Run r = vmoracle("replay", "--system=linux", f);
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("model, impl, both"), r.err());
  }

  @Test
  void noCommand_usageError() {
    Run r = vmoracle();
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().startsWith("vmoracle: missing command"), r.err());
  }

  @Test
  void unknownCommand_usageError() {
    Run r = vmoracle("frobnicate");
    assertEquals(2, r.code(), r.toString());
  }

  @Test
  void hunt_shortCleanRun_exitZeroWithSummaryLast() {
    Run r = vmoracle("hunt", "--ops", "3000", "--seed", "1", "--findings", dir.toString());
    assertEquals(0, r.code(), r.toString());
    assertTrue(
        r.out().get(0).startsWith("hunt: profile mixed, seed 1, 3,000 operations"), r.out().get(0));
    assertTrue(
        r.last().matches("hunt: 3,000 operations in [\\d.]+ s, [\\d,]+ ops/s, 1 run, 0 findings"),
        r.last());
  }

  @Test
  void hunt_everyProfile_listedOneALine() {
    Run r = vmoracle("hunt", "--list-profiles");
    assertEquals(0, r.code(), r.toString());
    assertEquals(7, r.out().size(), r.toString());
    for (String p : List.of("mixed", "fork", "collapse", "wire", "file", "shm", "pressure")) {
      assertTrue(r.out().stream().anyMatch(l -> l.startsWith(p + " ")), p + ": " + r);
    }
  }

  @Test
  void hunt_otherProfile_runsIt() {
    Run r = vmoracle("hunt", "--profile", "fork", "--ops", "500", "--seed", "2");
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.out().get(0).startsWith("hunt: profile fork, seed 2"), r.toString());
  }

  @Test
  void hunt_unknownProfile_usageErrorNamingTheProfiles() {
    Run r = vmoracle("hunt", "--profile", "forks", "--ops", "10");
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("unknown profile 'forks'"), r.err());
    assertTrue(r.err().contains("mixed, fork, collapse, wire, file, shm, pressure"), r.err());
  }

  @Test
  void hunt_negativeNumbers_usageError() {
    for (String[] args :
        List.of(
            new String[] {"hunt", "--seconds", "-1"},
            new String[] {"hunt", "--ops", "-5"},
            new String[] {"hunt", "--ops", "10", "--check-every", "-1"},
            new String[] {"hunt", "--ops", "10", "--frames", "8"},
            new String[] {"hunt", "--ops", "10", "--burst", "8"},
            new String[] {"hunt", "--threads", "2", "--burst", "0"},
            new String[] {"hunt", "--seconds", "0", "--ops", "0"})) {
      Run r = vmoracle(args);
      assertEquals(2, r.code(), String.join(" ", args) + ": " + r);
      assertTrue(r.out().isEmpty(), r.toString());
    }
  }

  @Test
  void help_everyCommand_exitZero() {
    for (String[] args :
        List.of(
            new String[] {"--help"},
            new String[] {"replay", "--help"},
            new String[] {"hunt", "--help"},
            new String[] {"help", "replay"})) {
      Run r = vmoracle(args);
      assertEquals(0, r.code(), String.join(" ", args));
      assertTrue(String.join("\n", r.out()).contains("replay"), r.toString());
    }
  }

  @Test
  void help_zoo_saysWhatItIsForAndListsTheBugs() {
    Run r = vmoracle("zoo", "--help");
    assertEquals(0, r.code(), r.toString());
    String help = String.join("\n", r.out());
    assertTrue(help.contains("Proves the checks can see each class of bug"), help);
    for (Bug b : Bug.values()) {
      assertTrue(help.contains(b.name()), b + ": " + help);
    }
  }

  @Test
  void version_printsProjectVersion() {
    Run r = vmoracle("--version");
    assertEquals(0, r.code());
    assertTrue(r.out().get(0).matches("vmoracle \\d+\\.\\d+\\.\\d+.*"), r.toString());
  }

  @Test
  void bench_smallWorkload_reportsModelThroughputLast() {
    Run r = vmoracle("bench", "--quick", "--ops", "2000", "--zfod-pages", "256");
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.last().matches("bench: model [\\d,]+ ops/s .*zfod 1 thread .*"), r.toString());
  }

  @Test
  void bench_zeroZfodPages_usageError() {
    Run r = vmoracle("bench", "--zfod-pages", "0");
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("--zfod-pages"), r.toString());
  }

  @Test
  void bench_zeroOperations_usageError() {
    Run r = vmoracle("bench", "--ops", "0");
    assertEquals(2, r.code(), r.toString());
  }

  @Test
  void hunt_twoThreads_checksHistoriesAndReportsThemLast() {
    Run r = vmoracle("hunt", "--threads", "2", "--seconds", "2", "--seed", "1");
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.last().matches("hunt: clean: [\\d,]+ histories checked, .*"), r.toString());
  }

  @Test
  void hunt_injectedBug_foundShrunkAndWrittenWithExitOne() throws IOException {
    // COLLAPSE_DROPS_FILE shows in the file profile's first 100 operations of seed 1.
    Run r =
        vmoracle(
            words(
                "hunt --bug collapse_drops_file --profile file --seed 1 --seconds 20 --findings",
                dir.toString()));
    assertEquals(1, r.code(), r.toString());
    assertTrue(
        r.out().get(0).startsWith("hunt: profile file, injected bug COLLAPSE_DROPS_FILE, seed 1"),
        r.out().get(0));
    // PROFILE-KIND-SEED-BUG.trace: the kind and run seed are whatever the hunt met first.
    assertTrue(
        r.last().matches(".* 1 finding \\(.*file-[a-z]+-\\d+-collapse-drops-file\\.trace\\)"),
        r.last());
    Path file = Path.of(r.last().substring(r.last().indexOf(" (") + 2, r.last().length() - 1));
    assertTrue(file.startsWith(dir), file.toString());
    String text = Files.readString(file);
    assertTrue(text.contains("--bug COLLAPSE_DROPS_FILE"), text);
    // Without the bug, the implementation agrees with the model on the reproducer.
    Run clean = vmoracle("replay", "--system", "both", file.toString());
    assertEquals(0, clean.code(), clean.toString());
  }

  @Test
  void hunt_unknownBug_usageErrorNamingTheBugs() {
    Run r = vmoracle("hunt", "--bug", "no_such_bug", "--ops", "10");
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("unknown bug 'no_such_bug'"), r.err());
    assertTrue(r.err().contains("LOST_ZERO_FILL_RACE, UNLOCKED_FAULTS"), r.err());
    assertTrue(r.out().isEmpty(), r.toString());
  }

  @Test
  void hunt_bugWithNative_usageError() {
    Run r = vmoracle("hunt", "--native", "--bug", "STALE_PTE_AFTER_MUNMAP");
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("--native"), r.err());
  }

  @Test
  void hunt_twoThreadsWithInjectedBug_foundWithExitOne() {
    // Stale PTEs break the invariants after the first bursts that unmap anything.
    Run r = vmoracle(words("hunt --threads 2 --bug stale_pte_after_munmap --seconds 20 --seed 1"));
    assertEquals(1, r.code(), r.toString());
    assertTrue(r.out().get(0).contains("injected bug STALE_PTE_AFTER_MUNMAP"), r.out().get(0));
    assertTrue(r.out().stream().anyMatch(l -> l.startsWith("FOUND ")), r.toString());
    assertTrue(r.last().matches("hunt: 1 finding: [\\d,]+ histories checked, .*"), r.last());
  }

  @Test
  void zoo_twoFastBugs_bothCaughtOneLineEachWithReproducers() {
    Run r =
        vmoracle(
            words(
                "zoo --bug STALE_PTE_AFTER_MUNMAP --bug collapse_drops_file --seed 1 --seconds 20"
                    + " --findings",
                dir.toString()));
    assertEquals(0, r.code(), r.toString());
    assertEquals(4, r.out().size(), r.toString());
    assertTrue(
        r.out().get(0).startsWith("zoo: 2 injected bugs, up to 20 s each, seed 1"), r.out().get(0));
    for (String[] bug :
        List.of(
            new String[] {"STALE_PTE_AFTER_MUNMAP", "mixed"},
            new String[] {"COLLAPSE_DROPS_FILE", "file"})) {
      String line =
          r.out().stream().filter(l -> l.contains(" " + bug[0] + " ")).findFirst().orElseThrow();
      assertTrue(
          line.matches(
              "caught "
                  + bug[0]
                  + " +by hunt --profile "
                  + bug[1]
                  + " +[\\d.]+ s +[\\d,]+ ops  \\w+ at \\w+; reproducer \\d+ operations: .+\\.trace"),
          line);
      Path file = Path.of(line.substring(line.lastIndexOf(": ") + 2));
      assertTrue(file.startsWith(dir) && Files.exists(file), line);
    }
    assertTrue(r.last().matches("zoo: 2 of 2 caught, [\\d.]+ s in all"), r.last());
  }

  @Test
  void zoo_noTimeToHunt_everyBugMissedWithExitOne() {
    // A budget under a nanosecond ends every hunt before its first operation (a microsecond can
    // still let the first 128 operations of a run through, and catch DOUBLE_COUNTED_PT_PAGES).
    Run r = vmoracle("zoo", "--seconds", "1e-12", "--seed", "1", "--findings", dir.toString());
    assertEquals(1, r.code(), r.toString());
    int bugs = Bug.values().length;
    assertEquals(bugs + 2, r.out().size(), r.toString());
    for (Bug b : Bug.values()) {
      // A race's line says why it can be missed; a sequential bug's says nothing more.
      String tail = Zoo.check(b).orElseThrow().threads() > 1 ? " \\(a race: .*\\)" : "";
      assertTrue(
          r.out().stream()
              .anyMatch(
                  l ->
                      l.matches("MISSED " + b.name() + " +by hunt .* 0 ops  nothing found" + tail)),
          b + ": " + r);
    }
    assertTrue(
        r.last().startsWith("zoo: 0 of " + bugs + " caught, MISSED " + Bug.values()[0].name()),
        r.last());
  }

  @Test
  void zoo_list_everyBugWithItsCheck() {
    Run r = vmoracle("zoo", "--list");
    assertEquals(0, r.code(), r.toString());
    assertEquals(Bug.values().length, r.out().size(), r.toString());
    for (Bug b : Bug.values()) {
      assertTrue(
          r.out().stream()
              .anyMatch(
                  l ->
                      l.matches(b.name() + " +by hunt --(profile \\w+|threads \\d+ --burst \\d+)")),
          b + ": " + r);
    }
  }

  @Test
  void zoo_unknownBugOrBadSeconds_usageError() {
    for (String[] args :
        List.of(
            new String[] {"zoo", "--bug", "LOST"},
            new String[] {"zoo", "--seconds", "0"},
            new String[] {"zoo", "--seconds", "-3"})) {
      Run r = vmoracle(args);
      assertEquals(2, r.code(), String.join(" ", args) + ": " + r);
      assertTrue(r.out().isEmpty(), r.toString());
    }
  }

  @Test
  void hunt_zeroThreads_usageError() {
    Run r = vmoracle("hunt", "--threads", "0");
    assertEquals(2, r.code(), r.toString());
  }
}
