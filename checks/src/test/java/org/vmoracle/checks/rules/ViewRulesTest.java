package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vmoracle.checks.rules.RuleHarness.BASE;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.mapping;
import static org.vmoracle.checks.rules.RuleHarness.replay;
import static org.vmoracle.checks.rules.RuleHarness.sharedPageWords;

import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Set;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Mapping;
import org.vmoracle.spec.Mapping.Backing;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;

/** VIEW-*: what can be observed. */
class ViewRulesTest {

  // VIEW-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void view_zeroStoresAndHiddenPages_wordsAreExactlyTheNonzeroReadableOnes(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 1
            spawn 1
            mmap 1 0 2 rw private anon -> 0x10000000
            write 1 0x10000000 5
            write 1 0x10000008 0
            write 1 0x10000010 6
            write 1 0x10000010 0
            write 1 0x10001000 7
            mprotect 1 0x10001000 1 none
            mmap 1 0 2 r shared file f 0 -> 0x10002000
            fwrite f 0 9
            mmap 1 0 1 rw shared anon -> 0x10004000
            write 1 0x10004ff8 0xffffffffffffffff
            """);
    NavigableMap<Long, Long> expected = new TreeMap<>(sharedPageWords());
    expected.put(BASE, 5L);
    expected.put(BASE + 0x2000, 9L);
    expected.put(BASE + 0x4ff8, -1L);
    assertEquals(expected, run.words(1));
    run.then("mprotect 1 0x10001000 1 r");
    expected.put(BASE + 0x1000, 7L);
    assertEquals(expected, run.words(1));
  }

  // VIEW-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void view_afterExitCloneAndShmrm_liveProcessesFilesAndKeyedSegmentsOnly(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 3
            shmget 3 2
            shmget 4 1
            spawn 1
            spawn 2
            clone 1 5
            fork 1 6
            exit 2
            mmap 1 0 1 rw shared shm 4
            shmrm 4
            """);
    assertEquals(Set.of(1, 5, 6), run.view().processes().keySet());
    for (int pid : new int[] {1, 5, 6}) {
      assertEquals(pid, run.process(pid).pid());
    }
    assertEquals(run.maps(1), run.maps(5));
    assertEquals(
        Map.of("bin/static", 20L, "bin/dynamic", 20L, "lib/libc", 68L, "f", 3L),
        run.view().filePages());
    assertEquals(Map.of(3L, 2L), run.view().shmPages());
  }

  // VIEW-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_twoAdjacentAnonymous_exactlyOneLine(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 1 rw private anon -> 0x10000000
            mmap 1 0 1 rw private anon -> 0x10001000
            mmap 1 0 1 rw shared anon -> 0x10002000
            mmap 1 0 1 rw shared anon -> 0x10003000
            """);
    assertEquals(
        List.of(
            mapping(BASE, 2, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false),
            mapping(BASE + 0x2000, 2, Prot.RW, Sharing.SHARED, Backing.ANON, Inherit.SHARE, false)),
        run.maps(1).subList(0, 2));
    assertEquals(3, run.maps(1).size());
  }

  // VIEW-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmapFile_adjacentRanges_consecutiveOffsetsJoinOthersDoNot(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 1 4
            spawn 1
            mmap 1 0 2 r private file lib/libc 0 -> 0x10000000
            mmap 1 0x10002000 2 r private file lib/libc 2 fixed -> 0x10002000
            mmap 1 0x10004000 1 r private file lib/libc 7 fixed -> 0x10004000
            mmap 1 0x10005000 1 r private file bin/static 8 fixed -> 0x10005000
            mmap 1 0x10006000 2 rw shared shm 1 fixed -> 0x10006000
            munmap 1 0x10007000 1
            mmap 1 0x10007000 1 rw shared shm 1 fixed -> 0x10007000
            """);
    assertEquals(
        List.of(
            mapping(
                BASE, 4, Prot.R, Sharing.PRIVATE, Backing.file("lib/libc", 0), Inherit.COPY, false),
            mapping(
                BASE + 0x4000,
                1,
                Prot.R,
                Sharing.PRIVATE,
                Backing.file("lib/libc", 7),
                Inherit.COPY,
                false),
            mapping(
                BASE + 0x5000,
                1,
                Prot.R,
                Sharing.PRIVATE,
                Backing.file("bin/static", 8),
                Inherit.COPY,
                false),
            mapping(
                BASE + 0x6000, 1, Prot.RW, Sharing.SHARED, Backing.shm(1, 0), Inherit.SHARE, false),
            mapping(
                BASE + 0x7000,
                1,
                Prot.RW,
                Sharing.SHARED,
                Backing.shm(1, 0),
                Inherit.SHARE,
                false)),
        run.maps(1).subList(0, 5));
  }

  // VIEW-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotectMinheritMlock_undone_linesRejoin(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 4 rw private anon
            mprotect 1 0x10000000 1 r
            minherit 1 0x10001000 1 zero
            mlock 1 0x10002000 1
            """);
    assertEquals(5, run.maps(1).size(), run.mapsText(1));
    run.then(
        """
        mprotect 1 0x10000000 1 rw
        minherit 1 0x10001000 1 copy
        munlock 1 0x10002000 1
        """);
    assertEquals(
        List.of(
            mapping(BASE, 4, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false),
            mapping(
                Boot.SHARED_PAGE,
                1,
                Prot.RX,
                Sharing.SHARED,
                Backing.SHARED_PAGE,
                Inherit.SHARE,
                false)),
        run.maps(1));
  }

  // VIEW-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void fork_afterShmrmAndMinherit_everyBackingShown(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 3 4
            spawn 1
            mmap 1 0 4 rw shared shm 3 -> 0x10000000
            munmap 1 0x10000000 1
            mmap 1 0 1 rw private anon -> 0x10000000
            minherit 1 0x10000000 1 zero
            mmap 1 0x10008000 2 r private file lib/libc 3 -> 0x10008000
            mmap 1 0 1 rw private shm 3 -> 0x10004000
            minherit 1 0x10001000 1 copy
            shmrm 3
            fork 1 2
            """);
    for (int pid : new int[] {1, 2}) {
      assertEquals(Backing.ANON, run.lineAt(pid, BASE).backing(), "pid " + pid);
      assertEquals(Backing.shm(3, 1), run.lineAt(pid, BASE + 0x1000).backing(), "pid " + pid);
      assertEquals(Backing.shm(3, 2), run.lineAt(pid, BASE + 0x2000).backing(), "pid " + pid);
      assertEquals(Backing.shm(3, 0), run.lineAt(pid, BASE + 0x4000).backing(), "pid " + pid);
      assertEquals(
          Backing.file("lib/libc", 3), run.lineAt(pid, BASE + 0x8000).backing(), "pid " + pid);
      assertEquals(Backing.SHARED_PAGE, run.lineAt(pid, Boot.SHARED_PAGE).backing());
    }
    Mapping zero = run.lineAt(2, BASE);
    assertEquals(Inherit.ZERO, zero.inherit());
    assertEquals("sharedpage", Backing.SHARED_PAGE.toString());
  }
}
