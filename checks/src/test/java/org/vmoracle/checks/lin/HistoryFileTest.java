package org.vmoracle.checks.lin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.trace.TraceSyntaxException;

/**
 * History files: hand-written histories the model can and cannot linearize, problems named by line
 * and column, and a finding of the concurrent hunt written and failing again when replayed.
 */
class HistoryFileTest {

  @TempDir Path dir;

  /**
   * Thread 0 stores 5 into shared memory; thread 1 loads 0 from it. Linearizable only if the load
   * may come first: when it was invoked before the store answered ({@code readFrom}).
   */
  private static String storeThenLoad(long readFrom) {
    return String.join(
        "\n",
        "# a store and a load on one word of shared memory",
        "vmoracle-history 1",
        "frames 256",
        "schedule none",
        "setup",
        "spawn 1 -> ok",
        "mmap 1 0 1 rw shared anon -> 0x10000000",
        "clone 1 2",
        "thread 0",
        "0 10 write 1 0x10000000 5 -> ok",
        "thread 1",
        readFrom + " 30 read 2 0x10000000 -> 0   # the load",
        "end",
        "read 1 0x10000000 -> 5",
        "");
  }

  @Test
  void check_loadAfterTheStoreAnsweredSeesNothing_notLinearizable() throws Exception {
    HistoryFile.History h = HistoryFile.parse("late.history", storeThenLoad(20));
    assertEquals(2, h.calls().size());
    assertEquals(2, h.threads());
    HistoryReplay.Verdict v = HistoryReplay.check(h);
    assertFalse(v.linearizable(), v.why());
    assertTrue(v.why().startsWith("not linearizable: no order of the 2 calls"), v.why());
    // Deterministic: again and again the same.
    assertEquals(v, HistoryReplay.check(HistoryFile.parse("late.history", storeThenLoad(20))));
  }

  @Test
  void check_loadOverlappingTheStore_linearizableLoadFirst() throws Exception {
    HistoryReplay.Verdict v = HistoryReplay.check(HistoryFile.parse("o.history", storeThenLoad(5)));
    assertTrue(v.linearizable(), v.why());
    assertEquals("linearizable: t1#0, t0#0", v.why());
  }

  @Test
  void check_endThatNoOrderGives_notLinearizable() throws Exception {
    String text = storeThenLoad(5).replace("read 1 0x10000000 -> 5", "read 1 0x10000000 -> 6");
    assertFalse(HistoryReplay.check(HistoryFile.parse("e.history", text)).linearizable());
  }

  @Test
  void rerun_correctImplementation_neverFails() throws Exception {
    HistoryReplay.Reruns r =
        HistoryReplay.rerun(HistoryFile.parse("o.history", storeThenLoad(5)), 5);
    assertEquals(5, r.runs());
    assertEquals(0, r.failed(), r.first().orElse(""));
  }

  @Test
  void render_parsed_readsBackTheSame() throws Exception {
    HistoryFile.History h = HistoryFile.parse("o.history", storeThenLoad(5));
    String text = HistoryFile.render(List.of("again"), h);
    HistoryFile.History again = HistoryFile.parse("o.history", text);
    assertEquals(h.calls(), again.calls());
    assertEquals(h.setup().lines().size(), again.setup().lines().size());
    assertEquals(h.end().lines().size(), again.end().lines().size());
    assertEquals(text, HistoryFile.render(List.of("again"), again));
  }

  /** A history of a hunt on pv entries reruns on pv entries: its "config" item says so. */
  @Test
  void config_item_givesTheRerunsTheSettings() throws Exception {
    String text =
        storeThenLoad(5).replace("frames 256\n", "frames 256\nconfig rmap=pv,lookupHints=false\n");
    HistoryFile.History h = HistoryFile.parse("pv.history", text);
    assertEquals(Config.Rmap.PV, h.config().rmap());
    assertFalse(h.config().lookupHints());
    assertEquals(256, h.config().frames());
    String again = HistoryFile.render(List.of(), h);
    assertTrue(again.contains("\nconfig rmap=pv,lookupHints=false\n"), again);
    assertEquals(h.config(), HistoryFile.parse("pv.history", again).config());
    assertEquals(0, HistoryReplay.rerun(h, 3).failed());
  }

  @Test
  void config_badSetting_namesItAtItsColumn() {
    String text = storeThenLoad(5).replace("frames 256\n", "frames 256\nconfig rmap=pv,rmap=avl\n");
    TraceSyntaxException e =
        assertThrows(TraceSyntaxException.class, () -> HistoryFile.parse("bad.history", text));
    String got = e.problems().get(0).toString();
    assertTrue(
        got.startsWith(
            "bad.history:4:16: expected a setting (rmap must be one of backing, pv, ptechain"),
        got);
  }

  @Test
  void parse_badLines_everyProblemAtItsLineAndColumn() {
    String text =
        String.join(
            "\n",
            "vmoracle-history 1",
            "bug no_such_bug",
            "setup",
            "spawn 1",
            "sapwn 2",
            "thread 0",
            "0 10 write 1 0x10000000 5",
            "20 x read 1 0x10000000 -> 0",
            "30 25 read 1 0x10000000 -> 0",
            "40 50 read 1 0x10000003 -> 0",
            "thread 2",
            "end",
            "read 1 0x10000000",
            "frames 64");
    TraceSyntaxException e =
        assertThrows(TraceSyntaxException.class, () -> HistoryFile.parse("bad.history", text));
    List<String> got = e.problems().stream().map(Object::toString).collect(Collectors.toList());
    assertEquals(9, got.size(), String.join("\n", got));
    assertTrue(got.get(0).startsWith("bad.history:2:5: expected an injected bug"), got.get(0));
    assertTrue(got.get(1).startsWith("bad.history:5:1: expected "), got.get(1));
    assertEquals(
        "bad.history:7:26: expected '->' and the result a call answered, found end of line",
        got.get(2));
    assertTrue(got.get(3).startsWith("bad.history:8:4: expected the time the call answered"));
    assertTrue(got.get(4).startsWith("bad.history:9:4: expected a time no sooner than"));
    assertTrue(got.get(5).startsWith("bad.history:10:"), got.get(5));
    assertTrue(got.get(6).startsWith("bad.history:11:8: expected thread 1"), got.get(6));
    assertTrue(got.get(7).startsWith("bad.history:13:18: expected '->'"), got.get(7));
    assertTrue(got.get(8).startsWith("bad.history:14:1: expected "), got.get(8));
  }

  @Test
  void parse_traceWithoutTheFormatLine_refused() {
    TraceSyntaxException e =
        assertThrows(
            TraceSyntaxException.class, () -> HistoryFile.parse("t.trace", "spawn 1\nfork 1 2\n"));
    assertEquals(
        "t.trace:1:1: expected 'vmoracle-history 1', the first item, found 'spawn'",
        e.problems().get(0).toString());
  }

  /**
   * A bug of the sequential kind seen by the concurrent hunt: COLLAPSE_DROPS_FILE gives wrong reads
   * of file pages after a collapse, in the first few hundred bursts, on every reverse map. Its
   * history file is written, names the bug and the reverse map (its {@code config} item, when it is
   * not the backing scan), and fails when checked again, as do its reruns on that reverse map.
   */
  @ParameterizedTest
  @EnumSource(Config.Rmap.class)
  void write_concurrentFinding_replaysAsFailing(Config.Rmap rmap) throws Exception {
    Config config =
        Config.defaults()
            .withFrames(ConcurrentHunt.FRAMES)
            .withRmap(rmap)
            .withBug(Bug.COLLAPSE_DROPS_FILE);
    ConcurrentHunt.Report r = ConcurrentHunt.run(config, 2, 1, 30, 4, line -> {});
    ConcurrentHunt.Finding f = r.finding().orElseThrow();

    HistoryFile.Written w = HistoryFile.write(dir, config, 1, 2, 4, f);

    assertTrue(w.file().getFileName().toString().startsWith("threads-"), w.file().toString());
    assertTrue(w.file().toString().endsWith("-1-collapse-drops-file.history"), w.file().toString());
    String text = Files.readString(w.file());
    boolean named = rmap != Config.Rmap.BACKING;
    assertEquals(named, text.contains("\nconfig rmap=" + rmap.word() + "\n"), text);
    assertEquals(named, text.contains(" --config rmap=" + rmap.word()), text);
    HistoryFile.History h = HistoryFile.parse(w.file().toString(), text);
    assertEquals(config, h.config());
    assertEquals(f.history().size(), h.calls().size());
    assertTrue(h.endView().isPresent());
    HistoryReplay.Verdict v = HistoryReplay.check(h);
    assertEquals(v, w.verdict());
    if (f.why().equals(ConcurrentHunt.NOT_LINEARIZABLE)) {
      assertFalse(v.linearizable(), text);
    }
    assertTrue(HistoryReplay.rerun(h, 3).failed() > 0, text);
  }
}
