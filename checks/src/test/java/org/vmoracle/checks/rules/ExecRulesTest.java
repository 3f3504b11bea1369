package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.vmoracle.checks.rules.RuleHarness.DYNAMIC_MAPS;
import static org.vmoracle.checks.rules.RuleHarness.STATIC_MAPS;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.replay;
import static org.vmoracle.checks.rules.RuleHarness.sharedPageWords;

import java.util.NavigableMap;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.ProcessView;

/** EXEC-*: exec replaces the address space with an image's layout. */
class ExecRulesTest {

  /** The nonzero words of a freshly exec'd image: its file pages, and the shared page. */
  static NavigableMap<Long, Long> imageWords(String file, boolean withLibc) {
    NavigableMap<Long, Long> w = new TreeMap<>(sharedPageWords());
    long number = file.equals("bin/static") ? 1 : 2;
    for (long i = 0; i < 20 * Boot.WORDS_PER_PAGE; i++) {
      w.put(0x400000L + 8 * i, (number << 32) | i);
    }
    if (withLibc) {
      for (long i = 0; i < 68 * Boot.WORDS_PER_PAGE; i++) {
        w.put(0x7f0000000000L + 8 * i, (3L << 32) | i);
      }
    }
    return w;
  }

  // EXEC-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exec_afterMappingsWiringAndInheritance_onlyTheImageRemains(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 1 1
            spawn 1
            mmap 1 0 2 rw private anon -> 0x10000000
            mmap 1 0x414000 1 rw shared shm 1 fixed -> 0x414000
            write 1 0x414000 5
            mlock 1 0x10000000 2
            minherit 1 0x10000000 1 none
            mprotect 1 0x7ffffffff000 1 none
            exec 1 static -> ok
            read 1 0x10000000 -> SEGV
            read 1 0x414000 -> 0
            write 1 0x414000 6
            exec 1 dynamic -> ok
            read 1 0x414000 -> 0
            """);
    assertEquals(DYNAMIC_MAPS, run.mapsText(1));
    assertEquals(imageWords("bin/dynamic", true), run.words(1));
    run.then("exec 1 static -> ok");
    assertEquals(STATIC_MAPS, run.mapsText(1));
    assertEquals(imageWords("bin/static", false), run.words(1));
  }

  // EXEC-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exec_unknownImage_enoentAndNothingChanges(NamedSystem sys) {
    replay(
            sys,
            """
            spawn 1
            mmap 1 0 1 rw private anon
            write 1 0x10000000 5
            mlock 1 0x10000000 1
            clone 1 2
            """)
        .unchanged("exec 1 nosuch -> ENOENT")
        .unchanged("exec 2 static2 -> ENOENT")
        .unchanged("exec 1 libc -> ENOENT")
        .then("read 2 0x10000000 -> 5");
  }

  // EXEC-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exec_static_exactMapLinesAndWords(NamedSystem sys) {
    Run run = replay(sys, "spawn 1\nexec 1 static -> ok\n");
    assertEquals(STATIC_MAPS, run.mapsText(1));
    assertEquals(imageWords("bin/static", false), run.words(1));
    assertFalse(run.anyWired(1));
  }

  // EXEC-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exec_static_boundariesOfEverySegment(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        exec 1 static
        read 1 0x3ffff8 -> SEGV
        read 1 0x40fff8 -> 0x100001fff
        write 1 0x40fff8 1 -> SEGV
        read 1 0x413ff8 -> 0x1000027ff
        write 1 0x413ff8 1 -> ok
        write 1 0x417ff8 2 -> ok
        read 1 0x417ff8 -> 2
        write 1 0x418000 1 -> SEGV
        read 1 0x7fffeffbfff8 -> SEGV
        write 1 0x7fffeffc0000 3 -> ok
        write 1 0x7fffeffffff8 4 -> ok
        read 1 0x7fffeffffff8 -> 4
        read 1 0x7ffff0000000 -> SEGV
        read 1 0x7fffffffeff8 -> SEGV
        read 1 0x7ffffffff000 -> 0xc0de0000
        fread bin/static 0x13ff8 -> 0x1000027ff
        """);
  }

  // EXEC-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exec_dynamic_exactMapLinesAndWords(NamedSystem sys) {
    Run run = replay(sys, "spawn 1\nexec 1 dynamic -> ok\n");
    assertEquals(DYNAMIC_MAPS, run.mapsText(1));
    assertEquals(imageWords("bin/dynamic", true), run.words(1));
    assertFalse(run.anyWired(1));
  }

  // EXEC-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exec_dynamic_libcBoundariesAndPrivateData(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        exec 1 dynamic
        read 1 0x7efffffffff8 -> SEGV
        read 1 0x7f000003fff8 -> 0x300007fff
        write 1 0x7f000003fff8 1 -> SEGV
        read 1 0x7f0000043ff8 -> 0x3000087ff
        write 1 0x7f0000043ff8 5 -> ok
        read 1 0x7f0000043ff8 -> 5
        fread lib/libc 0x43ff8 -> 0x3000087ff
        read 1 0x7f0000044000 -> SEGV
        read 1 0x413ff8 -> 0x2000027ff
        """);
  }

  // EXEC-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exec_byOneOfThreeSharers_othersKeepTheOldSpace(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 1 rw private anon -> 0x10000000
            write 1 0x10000000 5
            mlock 1 0x10000000 1
            clone 1 2
            clone 1 3
            """);
    ProcessView before = run.process(1);
    run.then(
        """
        exec 2 dynamic -> ok
        read 3 0x7ffffffff000 -> 0xc0de0000
        read 3 0x10000000 -> 5
        read 2 0x10000000 -> SEGV
        """);
    assertEquals(before.maps(), run.maps(1));
    assertEquals(before.words(), run.words(1));
    assertEquals(before.maps(), run.maps(3));
    assertEquals(DYNAMIC_MAPS, run.mapsText(2));
    run.then(
        """
        mmap 3 0 1 rw private anon -> 0x10001000
        write 1 0x10001000 6
        read 3 0x10001000 -> 6
        mmap 2 0 1 rw private anon -> 0x10000000
        read 2 0x10000000 -> 0
        exec 1 static -> ok
        read 3 0x10001000 -> 6
        read 3 0x400000 -> SEGV
        read 1 0x400000 -> 0x100000000
        """);
    assertEquals(STATIC_MAPS, run.mapsText(1));
    assertEquals(3, run.maps(3).size());
  }

  // EXEC-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exec_twoProcesses_dataStoresPrivateTextAndUntouchedDataFollowFile(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        spawn 2
        exec 1 static
        exec 2 static
        write 1 0x410000 5
        write 1 0x414000 6
        read 2 0x414000 -> 0
        read 2 0x410000 -> 0x100002000
        fread bin/static 0x10000 -> 0x100002000
        fwrite bin/static 0 7
        read 1 0x400000 -> 7
        read 2 0x400000 -> 7
        fwrite bin/static 0x10000 8
        read 1 0x410000 -> 5
        read 2 0x410000 -> 8
        fwrite bin/static 0x11000 9
        read 1 0x411000 -> 9
        read 1 0x410008 -> 0x100002001
        fork 1 3
        write 3 0x410000 10
        read 1 0x410000 -> 5
        fwrite bin/static 0x12000 11
        read 3 0x412000 -> 11
        """);
  }
}
