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

/** {@code vmoracle replay-history}, and {@code hunt --threads} writing the files it reads. */
class ReplayHistoryCommandTest {

  @TempDir Path dir;

  private record Run(int code, List<String> out, String err) {
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

  /** A store on thread 0, and on thread 1 a load of 0 invoked at {@code loadAt}. */
  private String history(String name, long loadAt) throws IOException {
    Path p = dir.resolve(name);
    Files.writeString(
        p,
        String.join(
            "\n",
            "vmoracle-history 1",
            "setup",
            "spawn 1",
            "mmap 1 0 1 rw shared anon -> 0x10000000",
            "thread 0",
            "0 10 write 1 0x10000000 5 -> ok",
            "thread 1",
            loadAt + " 30 read 1 0x10000000 -> 0",
            ""));
    return p.toString();
  }

  @Test
  void replayHistory_linearizableAndNot_passAndFailWithExitOne() throws IOException {
    String ok = history("overlap.history", 5);
    String bad = history("late.history", 20);
    Run r = vmoracle("replay-history", "--reruns", "3", ok, bad);
    assertEquals(1, r.code(), r.toString());
    assertEquals("PASS " + ok + " (linearizable: t1#0, t0#0)", r.out().get(0));
    assertEquals(
        "  reruns on the implementation (2,048 frames): 0 of 3 failed",
        r.out().get(1),
        r.toString());
    assertTrue(r.out().get(2).startsWith("FAIL " + bad + ": not linearizable: "), r.toString());
    assertEquals("replay-history: 2 files, 1 passed, 1 failed", r.last());

    Run alone = vmoracle("replay-history", "--reruns", "0", ok);
    assertEquals(0, alone.code(), alone.toString());
  }

  @Test
  void replayHistory_badLine_fileLineColumnAndExitOne() throws IOException {
    Path p = dir.resolve("bad.history");
    Files.writeString(p, "vmoracle-history 1\nsetup\nthread 0\n0 10 raed 1 0x10000000 -> 0\n");
    Run r = vmoracle("replay-history", p.toString());
    assertEquals(1, r.code(), r.toString());
    assertTrue(r.out().get(0).startsWith(p + ":4:6: expected an operation"), r.toString());
    assertEquals("FAIL " + p + ": 1 bad line, nothing run", r.out().get(1));
  }

  @Test
  void replayHistory_noSuchFile_usageError() {
    Run r = vmoracle("replay-history", dir.resolve("none.history").toString());
    assertEquals(2, r.code(), r.toString());
  }

  @Test
  void hunt_twoThreadsWithInjectedBug_writesAHistoryThatReplaysAsFailing() throws IOException {
    // COLLAPSE_DROPS_FILE: wrong reads of file pages after a collapse, within the first bursts.
    List<String> args =
        new ArrayList<>(
            List.of(
                "hunt",
                "--threads",
                "2",
                "--bug",
                "collapse_drops_file",
                "--seconds",
                "30",
                "--seed",
                "1",
                "--findings",
                dir.toString()));
    Run hunt = vmoracle(args.toArray(new String[0]));
    assertEquals(1, hunt.code(), hunt.toString());
    assertTrue(
        hunt.last()
            .matches("hunt: 1 finding: .* \\(.*threads-[a-z]+-1-collapse-drops-file\\.history\\)"),
        hunt.last());
    Path file =
        Path.of(hunt.last().substring(hunt.last().lastIndexOf(" (") + 2, hunt.last().length() - 1));
    assertTrue(file.startsWith(dir), file.toString());
    String text = Files.readString(file);
    assertTrue(text.contains("\nbug COLLAPSE_DROPS_FILE\n"), text);
    assertTrue(text.contains("\nthread 1\n"), text);

    Run replay = vmoracle("replay-history", "--reruns", "2", file.toString());
    assertEquals(1, replay.code(), replay.toString());
    assertTrue(
        replay.out().get(0).startsWith("FAIL ")
            || replay.out().get(1).matches(".*: [12] of 2 failed.*"),
        replay.toString());
    assertEquals("replay-history: 1 file, 0 passed, 1 failed", replay.last());
  }
}
