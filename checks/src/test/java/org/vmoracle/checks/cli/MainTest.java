package org.vmoracle.checks.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
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
  void replay_missingFile_reportedAndTheOthersStillRunWithExitTwo() throws IOException {
    String good = trace("good.trace", "spawn 1");
    String missing = dir.resolve("nope.trace").toString();
    String other = trace("other.trace", "spawn 1", "spawn 2");
    Run r = vmoracle("replay", good, missing, other);
    assertEquals(2, r.code(), r.toString());
    assertEquals(
        List.of(
            "PASS " + good + " (1 op)",
            "ERROR " + missing + ": cannot read: no such file",
            "PASS " + other + " (2 ops)",
            "replay: 3 files, 2 passed, 0 failed, 1 unreadable, 3 operations"),
        r.out());
  }

  @Test
  void replay_directory_cannotBeRead() {
    Run r = vmoracle("replay", dir.toString());
    assertEquals(2, r.code(), r.toString());
    assertEquals("ERROR " + dir + ": cannot read: is a directory", r.out().get(0));
  }

  @Test
  void replay_failedAndUnreadable_exitIsTheWorst() throws IOException {
    String bad = trace("bad.trace", "spawn 1", "spawn 1 -> ok");
    String missing = dir.resolve("nope.trace").toString();
    assertEquals(1, vmoracle("replay", bad).code());
    assertEquals(2, vmoracle("replay", missing, bad).code());
    assertEquals(2, vmoracle("replay", bad, missing).code());
  }

  @Test
  void replay_emptyTrace_passesWithAWarning() throws IOException {
    String empty = trace("empty.trace", "# nothing here yet", "");
    Run r = vmoracle("replay", "--system", "both", empty);
    assertEquals(0, r.code(), r.toString());
    assertEquals("PASS " + empty + " (0 ops)", r.out().get(0));
    assertEquals("vmoracle replay: warning: " + empty + " has no operations\n", r.err());
  }

  @Test
  void replay_bytesNotUtf8_failNamingLineColumnAndByteOffset() throws IOException {
    Path p = dir.resolve("latin1.trace");
    byte[] text = "spawn 1\nexit 1 # caf\u00e9\n".getBytes(StandardCharsets.ISO_8859_1);
    Files.write(p, text);
    Run r = vmoracle("replay", p.toString());
    assertEquals(1, r.code(), r.toString());
    assertEquals(
        p + ":2:13: expected UTF-8 text, found byte 0xe9 at byte offset 20, which is not UTF-8",
        r.out().get(0));
  }

  @Test
  void replay_byteOrderMark_namedAsSuch() throws IOException {
    String f = trace("bom.trace", "\uFEFFspawn 1");
    Run r = vmoracle("replay", f);
    assertEquals(1, r.code(), r.toString());
    assertTrue(
        r.out().get(0).startsWith(f + ":1:1: expected a trace without a byte-order mark"),
        r.toString());
    assertTrue(
        r.out().get(0).endsWith("found a UTF-8 byte-order mark (U+FEFF, bytes 0xef 0xbb 0xbf)"));
  }

  @Test
  void replay_hugeTokenAndControlCharacters_echoedShortAndEscaped() throws IOException {
    String f = trace("odd.trace", "pageout " + "7".repeat(100_000), "sp\u001b[31mawn 1");
    Run r = vmoracle("replay", f);
    assertEquals(1, r.code(), r.toString());
    assertTrue(r.out().get(0).endsWith("…' (a token of 100,000 characters)"), r.out().get(0));
    assertTrue(r.out().get(0).length() < 300, r.out().get(0));
    assertTrue(r.out().get(1).endsWith("found 'sp\\u001b[31mawn'"), r.out().get(1));
  }

  /** Stores a word, unmaps it: with STALE_PTE_AFTER_MUNMAP the PTE stays (UNMAP-1). */
  private String staleTrace() throws IOException {
    return trace(
        "stale.trace",
        "spawn 1",
        "mmap 1 0 4 rw private anon -> 0x10000000",
        "# a comment, so that operations and lines are counted differently",
        "write 1 0x10000008 42 -> ok",
        "munmap 1 0x10000000 4 -> ok",
        "spawn 2",
        "read 1 0x10000008 -> SEGV");
  }

  @Test
  void replay_show_printsEachLinesResultMarksTheUnmetOneAndShowsTheView() throws IOException {
    String f = trace("show.trace", "spawn 1", "", "read 1 0x7ffffffff008 -> 5", "spawn 2");
    for (String flag : List.of("--show", "-v")) {
      Run r = vmoracle("replay", flag, f);
      assertEquals(1, r.code(), r.toString());
      assertEquals("1: spawn 1 -> ok", r.out().get(0));
      assertEquals("3: read 1 0x7ffffffff008 -> 0xc0de0001  (UNMET: expected 5)", r.out().get(1));
      assertTrue(r.out().get(2).startsWith("FAIL " + f + ":3: expected 5"), r.toString());
      assertEquals("  view after line 3, model:", r.out().get(3));
      assertTrue(r.out().contains("    pid 1 maps:"), r.toString());
      assertTrue(
          r.out().contains("    pid 1 words not zero: 0 (and 512 of the shared page, as booted)"),
          r.toString());
    }
  }

  @Test
  void replay_showBothOnAViewDifference_printsBothViewsAndTheWordsThatDiffer() throws IOException {
    // FILE-7: a private file mapping reads the file; COLLAPSE_DROPS_FILE makes it read zeros.
    String f =
        trace(
            "drops.trace",
            "spawn 1",
            "mmap 1 0 5 rw private file bin/static 0 -> 0x10000000",
            "collapse 1 0x10003000 -> ok");
    Run r = vmoracle("replay", "-v", "--system", "both", "--bug", "collapse_drops_file", f);
    assertEquals(1, r.code(), r.toString());
    String all = String.join("\n", r.out());
    assertTrue(
        all.contains("FAIL " + f + ":3: VIEW at line 3 (collapse 1 0x10003000): pid 1 maps"), all);
    assertTrue(all.contains("\n  views after line 3, model and implementation:\n"), all);
    assertTrue(all.contains("\n    pid 1 maps, model:\n"), all);
    assertTrue(all.contains("\n    pid 1 maps, implementation:\n"), all);
    assertTrue(all.contains("\n      0x10000000: model 0x100000000, implementation 0\n"), all);
  }

  @Test
  void replay_brokenInvariant_sameWordsInImplAndBoth() throws IOException {
    String f = staleTrace();
    List<String> lines = new ArrayList<>();
    for (String system : List.of("impl", "both")) {
      Run r = vmoracle("replay", "--system", system, "--bug", "STALE_PTE_AFTER_MUNMAP", f);
      assertEquals(1, r.code(), system + ": " + r);
      lines.add(r.out().get(0));
    }
    assertTrue(
        lines.get(0).startsWith("FAIL " + f + ":5: INVARIANT at line 5 (munmap 1 0x10000000 4): "),
        lines.get(0));
    assertEquals(lines.get(0), lines.get(1));
  }

  @Test
  void replay_checkEvery_spacesTheChecksAndTheEndIsAlwaysChecked() throws IOException {
    String f = staleTrace();
    Run end =
        vmoracle("replay", "--system=both", "--bug=stale_pte_after_munmap", "--check-every=0", f);
    assertEquals(1, end.code(), end.toString());
    assertTrue(
        end.out().get(0).startsWith("FAIL " + f + ":7: INVARIANT at line 7"), end.toString());
    assertTrue(
        end.out()
            .get(0)
            .endsWith(
                "(checked only at the end: it arose somewhere before;"
                    + " --check-every 1 finds the line)"),
        end.toString());
    Run every2 =
        vmoracle("replay", "--system=impl", "--bug=stale_pte_after_munmap", "--check-every=2", f);
    assertTrue(
        every2.out().get(0).startsWith("FAIL " + f + ":5: INVARIANT at line 5"), every2.toString());
    Run bad = vmoracle("replay", "--check-every", "-1", f);
    assertEquals(2, bad.code(), bad.toString());
  }

  @Test
  void replay_largeFile_checkedEveryThousandByDefault() throws IOException {
    List<String> lines =
        new ArrayList<>(
            List.of(
                "spawn 1",
                "mmap 1 0 4 rw private anon",
                "write 1 0x10000000 1",
                "munmap 1 0x10000000 4"));
    while (lines.size() <= ReplayCommand.LARGE) {
      lines.add("read 1 0x7ffffffff000 -> 0xc0de0000");
    }
    String f = trace("large.trace", lines.toArray(new String[0]));
    Run r = vmoracle("replay", "--system", "impl", "--bug", "STALE_PTE_AFTER_MUNMAP", f);
    assertEquals(1, r.code(), r.toString());
    assertTrue(
        r.out().get(0).startsWith("FAIL " + f + ":1000: INVARIANT at line 1000"), r.toString());
    assertTrue(
        r.out().get(0).contains("(checked at least every 1,000 operations, further apart"),
        r.toString());
    Run one =
        vmoracle(
            "replay",
            "--system",
            "impl",
            "--bug",
            "STALE_PTE_AFTER_MUNMAP",
            "--check-every",
            "1",
            f);
    assertTrue(
        one.out().get(0).startsWith("FAIL " + f + ":4: INVARIANT at line 4"), one.toString());
  }

  @Test
  void replay_progress_linesOnStandardErrorOnlyWhenItTakesLonger() throws IOException {
    List<String> lines = new ArrayList<>(List.of("spawn 1"));
    for (int i = 0; i < 300; i++) {
      lines.add("read 1 0x7ffffffff000 -> 0xc0de0000");
    }
    String f = trace("p.trace", lines.toArray(new String[0]));
    Run quiet = vmoracle("replay", f);
    assertEquals("", quiet.err());
    Run never = vmoracle("replay", "--progress", "0", f);
    assertEquals("", never.err());
    Run often = vmoracle("replay", "--progress", "1e-9", f);
    assertEquals(0, often.code(), often.toString());
    assertTrue(often.err().startsWith("replay: " + f + ": 1 of 301 ops, "), often.err());
    assertTrue(often.err().contains("\nreplay: " + f + ": 301 of 301 ops, "), often.err());
    assertTrue(
        often.err().matches("(?s)(replay: .*: [\\d,]+ of 301 ops, [\\d,]+ ops/s\n)+"), often.err());
    assertEquals(2, vmoracle("replay", "--progress", "-1", f).code());
  }

  @Test
  void replay_framesAndConfig_setUpTheImplementation() throws IOException {
    // WIRE-7, MEM-1: on 16 frames the implementation cannot wire 64 pages and answers EAGAIN.
    String f =
        trace(
            "wire.trace",
            "spawn 1",
            "mmap 1 0 64 rw private anon -> 0x10000000",
            "mlock 1 0x10000000 64 -> ok");
    assertEquals(0, vmoracle("replay", "--system", "impl", f).code());
    Run small = vmoracle("replay", "--system", "impl", "--frames", "16", f);
    assertEquals(1, small.code(), small.toString());
    assertTrue(
        small.out().get(0).startsWith("FAIL " + f + ":3: expected ok, got "), small.toString());
    assertEquals(1, vmoracle("replay", "--system", "impl", "--config", "frames=16", f).code());
    assertEquals(
        0,
        vmoracle("replay", "--system", "impl", "--config", "frames=16", "--frames", "4096", f)
            .code());
  }

  @Test
  void implOptions_unknownKeyOrBadValue_usageErrorEverywhere() throws IOException {
    String f = trace("ok.trace", "spawn 1");
    for (String cmd : List.of("replay", "hunt", "zoo")) {
      for (String[] bad :
          List.of(
              new String[] {"--config", "fram=100"},
              new String[] {"--config", "frames=100,pmapEarlyReturn=maybe"},
              new String[] {"--config", "collapseDepth=0"},
              new String[] {"--frames", "8"},
              new String[] {"--frames", "many"})) {
        List<String> args = new ArrayList<>(List.of(cmd));
        args.addAll(List.of(bad));
        args.addAll(cmd.equals("replay") ? List.of(f) : List.of("--seconds", "1"));
        Run r = vmoracle(args.toArray(new String[0]));
        assertEquals(2, r.code(), args + ": " + r);
        assertTrue(r.out().isEmpty(), args + ": " + r);
      }
    }
    Run r = vmoracle("replay", "--config", "fram=100", f);
    assertTrue(r.err().contains("unknown key 'fram': expected one of frames, swapSlots,"), r.err());
    r = vmoracle("replay", "--config", "pmapEarlyReturn=maybe", f);
    assertTrue(r.err().contains("pmapEarlyReturn must be true or false, not 'maybe'"), r.err());
  }

  @Test
  void replay_bugOrConfigWithSystemModel_usageError() throws IOException {
    String f = trace("ok.trace", "spawn 1");
    for (String[] args :
        List.of(
            new String[] {"replay", "--system", "model", "--bug", "UNLOCKED_FAULTS", f},
            new String[] {"replay", "--system", "model", "--frames", "64", f})) {
      Run r = vmoracle(args);
      assertEquals(2, r.code(), r.toString());
      assertTrue(r.err().contains("--system model does not run"), r.err());
    }
  }

  @Test
  void replay_header_commandLineWins() throws IOException {
    String f =
        trace(
            "h.trace",
            "# vmoracle: --system both --bug STALE_PTE_AFTER_MUNMAP --config frames=512",
            "spawn 1",
            "mmap 1 0 4 rw private anon -> 0x10000000",
            "write 1 0x10000008 42 -> ok",
            "munmap 1 0x10000000 4 -> ok");
    Run fromHeader = vmoracle("replay", f);
    assertEquals(1, fromHeader.code(), fromHeader.toString());
    assertTrue(
        fromHeader.out().get(0).startsWith("FAIL " + f + ":5: INVARIANT"), fromHeader.toString());
    assertEquals(
        "replay: "
            + f
            + ": options from its header (line 1): --system both --bug"
            + " STALE_PTE_AFTER_MUNMAP --config frames=512\n",
        fromHeader.err());
    Run otherBug = vmoracle("replay", "--bug", "UNLOCKED_FAULTS", "--frames", "1024", f);
    assertEquals(0, otherBug.code(), otherBug.toString());
    assertTrue(
        otherBug.err().contains("; the command line's --bug, --config frames won"), otherBug.err());
    Run model = vmoracle("replay", "--system", "model", f);
    assertEquals(0, model.code(), model.toString());
    assertTrue(model.err().contains("its header's options are ignored"), model.err());
    assertEquals(0, vmoracle("replay", "--ignore-header", f).code());
  }

  @Test
  void replay_badHeader_failsNamingItsLine() throws IOException {
    String f = trace("h.trace", "# a comment", "# vmoracle: --bug NO_SUCH_BUG", "spawn 1");
    String ok = trace("ok.trace", "spawn 1");
    Run r = vmoracle("replay", f, ok);
    assertEquals(1, r.code(), r.toString());
    assertTrue(
        r.out().get(0).startsWith("FAIL " + f + ":2: bad options in its header: "), r.toString());
    assertTrue(r.out().get(0).contains("unknown bug 'NO_SUCH_BUG'"), r.toString());
    assertEquals("PASS " + ok + " (1 op)", r.out().get(1));
    assertEquals(0, vmoracle("replay", "--ignore-header", f).code());
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
  void hunt_zeroBudget_messageNamesWhatWasGiven() {
    Run seconds = vmoracle("hunt", "--seconds", "0");
    assertEquals(2, seconds.code(), seconds.toString());
    assertTrue(seconds.err().contains("--seconds 0 leaves no time"), seconds.err());
    assertTrue(!seconds.err().contains("both 0"), seconds.err());
    Run ops = vmoracle("hunt", "--ops", "0");
    assertTrue(ops.err().contains("--ops 0 leaves no operations"), ops.err());
    Run both = vmoracle("hunt", "--ops", "0", "--seconds", "0");
    assertTrue(both.err().contains("--seconds 0 and --ops 0 leave no budget"), both.err());
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
  void bench_onlyE1AndE7_runsThoseWritesTheResultsAndSummarizesLast() throws IOException {
    Run r = vmoracle("bench", "--quick", "--only", "e1,E7");
    assertEquals(0, r.code(), r.toString());
    assertTrue(r.last().matches("bench: E1 pv/backing lock ops .*; E7 chains .*"), r.toString());
    assertTrue(r.out().stream().noneMatch(l -> l.startsWith("model:")), r.toString());
    List<String> csv = Files.readAllLines(Path.of("target", "vmoracle", "bench", "results.csv"));
    assertEquals("experiment,config,metric,value", csv.get(0));
    assertTrue(
        csv.stream().anyMatch(l -> l.startsWith("E1,share64/pv,rmap_lock_ratio,")), csv.toString());
    assertTrue(csv.stream().anyMatch(l -> l.startsWith("E7,dense2/ptechain,")), csv.toString());
  }

  @Test
  void bench_unknownExperiment_usageErrorNamingItAndTheChoices() {
    Run r = vmoracle("bench", "--only", "E1,E9");
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("'E9'") && r.err().contains("E1, E2, E3"), r.toString());
    assertTrue(r.out().isEmpty(), r.toString()); // nothing ran
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
    assertTrue(
        text.contains("\n# vmoracle: --system both --bug COLLAPSE_DROPS_FILE --config frames="),
        text);
    // Its header carries the bug: replayed with no options, it fails as the hunt did, and says so.
    Run again = vmoracle("replay", file.toString());
    assertEquals(1, again.code(), again.toString());
    assertTrue(again.out().get(0).startsWith("FAIL " + file + ":"), again.toString());
    assertTrue(
        again.err().contains("options from its header (line 4): --system both --bug"), again.err());
    // Without the header line, the same operations pass, through both systems too: the header
    // is what makes it fail.
    Path stripped = dir.resolve("stripped.trace");
    Files.writeString(stripped, text.replaceAll("(?m)^# vmoracle: .*\n", ""));
    assertEquals(0, vmoracle("replay", stripped.toString()).code());
    Run clean = vmoracle("replay", "--system", "both", stripped.toString());
    assertEquals(0, clean.code(), clean.toString());
    assertEquals(0, vmoracle("replay", "--ignore-header", "--system=both", file.toString()).code());
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
  void zoo_twoFastBugs_bothCaughtOneRowEachWithReproducers() {
    Run r =
        vmoracle(
            words(
                "zoo --bug STALE_PTE_AFTER_MUNMAP --bug collapse_drops_file --seed 1 --seconds 20"
                    + " --findings",
                dir.toString()));
    assertEquals(0, r.code(), r.toString());
    // The first line, the table's header and two rows, a note a bug, the summary.
    assertEquals(7, r.out().size(), r.toString());
    assertTrue(
        r.out().get(0).startsWith("zoo: 2 injected bugs, up to 20 s each, seed 1"), r.out().get(0));
    assertTrue(
        r.out().get(1).matches("bug +detector +strategy +caught +seconds +tried +reproducer"),
        r.out().get(1));
    for (String[] bug :
        List.of(
            new String[] {"STALE_PTE_AFTER_MUNMAP", "mixed"},
            new String[] {"COLLAPSE_DROPS_FILE", "file"})) {
      String row =
          r.out().stream().filter(l -> l.startsWith(bug[0] + " ")).findFirst().orElseThrow();
      assertTrue(
          row.matches(
              bug[0]
                  + " +hunt --profile "
                  + bug[1]
                  + " +- +yes +[\\d.]+ +[\\d,]+ operations +\\d+ operations: .+\\.trace"),
          row);
      Path file = Path.of(row.substring(row.lastIndexOf(": ") + 2));
      assertTrue(file.startsWith(dir) && Files.exists(file), row);
      String note =
          r.out().stream()
              .filter(l -> l.startsWith("  " + bug[0] + ": "))
              .findFirst()
              .orElseThrow();
      assertTrue(note.matches("  " + bug[0] + ": \\w+ at \\w+.*"), note);
    }
    assertTrue(r.last().matches("zoo: 2 of 2 caught, median [\\d.]+ s, max [\\d.]+ s"), r.last());
  }

  @Test
  void zoo_noTimeToHunt_everyBugMissedWithExitOne() {
    // A budget under a nanosecond ends every hunt before its first operation (a microsecond can
    // still let the first 128 operations of a run through, and catch DOUBLE_COUNTED_PT_PAGES).
    Run r = vmoracle("zoo", "--seconds", "1e-12", "--seed", "1", "--findings", dir.toString());
    assertEquals(1, r.code(), r.toString());
    int bugs = Bug.values().length;
    // The first line, the header, a row and a note a bug, the MISSED line, the summary.
    assertEquals(2 * bugs + 4, r.out().size(), r.toString());
    for (Bug b : Bug.values()) {
      assertTrue(
          r.out().stream()
              .anyMatch(
                  l ->
                      l.matches(
                          b.name()
                              + " +(hunt|rmap stress|wire stress) .* MISSED +[\\d.]+ +0 \\w+ +-")),
          b + ": " + r);
      // A race's note says why it can be missed; a sequential bug's says nothing more.
      String tail = Zoo.check(b).orElseThrow().threads() > 1 ? " \\(a race: .*\\)" : "";
      assertTrue(
          r.out().stream().anyMatch(l -> l.matches("  " + b.name() + ": nothing found" + tail)),
          b + ": " + r);
    }
    assertTrue(
        r.out().get(r.out().size() - 2).startsWith("zoo: MISSED " + Bug.values()[0].name()),
        r.toString());
    assertTrue(
        r.last().matches("zoo: 0 of " + bugs + " caught, median [\\d.]+ s, max [\\d.]+ s"),
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
                      l.matches(
                          b.name()
                              + " +by (hunt --(profile \\w+( --check-every \\d+)?( --run-length"
                              + " \\d+)?|threads \\d+ --burst \\d+ --strategy [\\w:]+)"
                              + "|(rmap|wire) stress --threads \\d+ --strategy [\\w:]+)"
                              + "( --rmap \\w+)?( --config sharePageTables=true)?")),
          b + ": " + r);
    }
  }

  @Test
  void hunt_replaySchedule_ofARaceInTheCorpus_failsAgainWithItsSchedule() {
    Path f =
        Path.of(
            "src/test/resources/regressions/injected/two-zero-fills-of-one-page-both-put-their-frame"
                + ".history");
    Run r = vmoracle("hunt", "--replay-schedule", f.toString());
    assertEquals(1, r.code(), r.toString());
    assertTrue(r.out().get(0).startsWith("hunt: replaying the schedule of "), r.out().get(0));
    assertTrue(r.out().stream().anyMatch(l -> l.matches("  t[01] #\\d+ .*: .*")), r.toString());
    assertTrue(r.out().stream().anyMatch(l -> l.startsWith("FOUND ")), r.toString());
    assertEquals("hunt: the schedule replayed fails again", r.last());
  }

  @Test
  void hunt_badStrategyOrScheduleless_usageError() throws IOException {
    Run bad = vmoracle("hunt", "--threads", "2", "--strategy", "fair");
    assertEquals(2, bad.code(), bad.toString());
    assertTrue(bad.err().contains("unknown strategy 'fair'"), bad.err());
    Path none = dir.resolve("none.history");
    Files.writeString(
        none,
        "vmoracle-history 1\nschedule none\nsetup\nspawn 1\nthread 0\n0 1 read 1 0x1000 -> SEGV\nend\n");
    Run r = vmoracle("hunt", "--replay-schedule", none.toString());
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("has no schedule"), r.err());
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

  @Test
  void exhaust_shallowDepth_holds_andEndsWithItsSummaryLine() {
    Run r = vmoracle("exhaust", "--depth", "1", "--workers", "1");
    assertEquals(0, r.code(), r.toString());
    assertTrue(
        r.last()
            .matches(
                "exhaust: depth 1 complete, [0-9,]+ states, [0-9,]+ transitions, 0"
                    + " divergences, [0-9.]+ s"),
        r.last());
    assertTrue(r.out().stream().anyMatch(l -> l.trim().startsWith("1 ")), r.toString());
  }

  @Test
  void exhaust_unknownScopeOrNegativeDepth_isBadUsage() {
    Run r = vmoracle("exhaust", "--scope", "nope");
    assertEquals(2, r.code(), r.toString());
    assertTrue(r.err().contains("small"), "names the scopes: " + r.err());
    assertEquals(2, vmoracle("exhaust", "--depth", "-1").code());
  }

  @Test
  void exhaust_injectedBug_writesAShortestTraceThatReplayFails() throws IOException {
    Path findings = dir.resolve("found");
    Run r =
        vmoracle(
            "exhaust",
            "--depth",
            "3",
            "--bug",
            "DOUBLE_COUNTED_PT_PAGES",
            "--findings",
            findings.toString());
    assertEquals(1, r.code(), r.toString());
    assertTrue(r.last().startsWith("exhaust: FOUND at depth 1,"), r.last());
    Path file = findings.resolve("exhaust-small-depth1-double-counted-pt-pages.trace");
    assertTrue(Files.isRegularFile(file), r.toString());
    Run again = vmoracle("replay", file.toString());
    assertEquals(1, again.code(), "its header turns the bug on: " + again);
    Run without = vmoracle("replay", "--ignore-header", "--system", "both", file.toString());
    assertEquals(0, without.code(), without.toString());
  }
}
