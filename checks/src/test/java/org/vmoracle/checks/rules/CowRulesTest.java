package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vmoracle.checks.rules.RuleHarness.BASE;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.replay;
import static org.vmoracle.checks.rules.RuleHarness.value;

import java.util.NavigableMap;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Op;

/** COW-*: copy-on-write. */
class CowRulesTest {

  // COW-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void fork_privateAnonPages_neitherSideSeesTheOthersStores(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        mmap 1 0 3 rw private anon
        write 1 0x10000000 1
        write 1 0x10001000 2
        fork 1 2
        write 1 0x10000000 10
        write 2 0x10001000 20
        write 2 0x10002000 30
        read 1 0x10000000 -> 10
        read 2 0x10000000 -> 1
        read 1 0x10001000 -> 2
        read 2 0x10001000 -> 20
        read 1 0x10002000 -> 0
        read 2 0x10002000 -> 30
        """);
  }

  // COW-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void fork_privateFilePages_storesPrivateUncopiedPagesFollowFile(NamedSystem sys) {
    replay(
        sys,
        """
        file f 2
        spawn 1
        mmap 1 0 2 rw private file f 0
        write 1 0x10000000 1
        fork 1 2
        write 2 0x10000000 2
        read 1 0x10000000 -> 1
        write 1 0x10001000 3
        read 2 0x10001000 -> 0
        fwrite f 0x1000 4
        read 2 0x10001000 -> 4
        read 1 0x10001000 -> 3
        fread f 0 -> 0
        """);
  }

  // COW-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void write_afterFork_everyOtherWordOfThePageKept(NamedSystem sys) {
    Run run = replay(sys, "spawn 1\nmmap 1 0 1 rw private anon\n");
    for (int w = 0; w < 512; w++) {
      run.apply(new Op.Write(1, BASE + 8L * w, 1000 + w));
    }
    run.then("fork 1 2\nwrite 2 0x10000320 7 -> ok\nwrite 1 0x10000ff8 8 -> ok\n");
    NavigableMap<Long, Long> expected = new TreeMap<>();
    for (int w = 0; w < 512; w++) {
      expected.put(BASE + 8L * w, 1000L + w);
    }
    expected.put(BASE + 0x320, 7L);
    assertEquals(expected, run.words(2, BASE, 1));
    expected.put(BASE + 0x320, 1000L + 100);
    expected.put(BASE + 0xff8, 8L);
    assertEquals(expected, run.words(1, BASE, 1));
  }

  // COW-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void fork_eightGenerations_eachSeesExactlyItsOwnHistory(NamedSystem sys) {
    Run run = replay(sys, "spawn 1\nmmap 1 0 2 rw private anon\n");
    int generations = 8;
    for (int g = 1; g <= generations; g++) {
      if (g > 1) {
        run.apply(new Op.Fork(g - 1, g));
      }
      run.apply(new Op.Write(g, BASE, g));
      run.apply(new Op.Write(g, BASE + 8L * g, 10L * g));
      run.apply(new Op.Write(g, BASE + 0x1000, 100L * g));
    }
    checkGenerations(run, generations, new int[0]);
    run.then(
        """
        collapse 8 0x10000000 -> ok
        collapse 5 0x10001000 -> ok
        pageout 100 -> ok
        exit 3
        exit 6
        collapse 7 0x10000000 -> ok
        """);
    checkGenerations(run, generations, new int[] {3, 6});
  }

  private static void checkGenerations(Run run, int generations, int[] exited) {
    for (int g = 1; g <= generations; g++) {
      boolean gone = false;
      for (int e : exited) {
        gone |= e == g;
      }
      if (gone) {
        continue;
      }
      assertEquals(value(g), run.apply(new Op.Read(g, BASE)), "generation " + g);
      assertEquals(value(100L * g), run.apply(new Op.Read(g, BASE + 0x1000)), "generation " + g);
      for (int k = 1; k <= generations; k++) {
        assertEquals(
            value(k <= g ? 10L * k : 0),
            run.apply(new Op.Read(g, BASE + 8L * k)),
            "generation " + g + " word " + k);
      }
    }
  }

  // COW-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void write_privateFileMapping_copiesTheWholePageFileAndOthersUnchanged(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        spawn 2
        mmap 1 0 2 rw private file bin/dynamic 3 -> 0x10000000
        mmap 2 0 1 r shared file bin/dynamic 3 -> 0x10000000
        write 1 0x10000010 5 -> ok
        read 1 0x10000010 -> 5
        read 1 0x10000000 -> 0x200000600
        read 1 0x10000ff8 -> 0x2000007ff
        fread bin/dynamic 0x3010 -> 0x200000602
        read 2 0x10000010 -> 0x200000602
        fwrite bin/dynamic 0x3ff8 6
        read 1 0x10000ff8 -> 0x2000007ff
        read 2 0x10000ff8 -> 6
        fwrite bin/dynamic 0x4000 9
        read 1 0x10001000 -> 9
        """);
  }
}
