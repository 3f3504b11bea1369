package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vmoracle.checks.rules.RuleHarness.BASE;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.replay;

import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Mapping.Backing;

/** SHM-*: shared-memory segments. */
class ShmRulesTest {

  // SHM-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void shmget_newSegments_shownWithSizeAndZeroFilled(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 0 3 -> ok
            shmget 2147483647 1 -> ok
            spawn 1
            mmap 1 0 3 r shared shm 0 -> 0x10000000
            mmap 1 0 1 rw private shm 2147483647 -> 0x10003000
            read 1 0x10002ff8 -> 0
            read 1 0x10003000 -> 0
            """);
    assertEquals(Map.of(0L, 3L, 2147483647L, 1L), run.view().shmPages());
    assertTrue(run.words(1, BASE, 4).isEmpty());
  }

  // SHM-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void shmget_keyInUseOrZeroLength_failsAndNothingChanges(NamedSystem sys) {
    replay(
            sys,
            """
            shmget 1 2
            spawn 1
            mmap 1 0 2 rw shared shm 1
            write 1 0x10001000 5
            """)
        .unchanged("shmget 1 2 -> EEXIST")
        .unchanged("shmget 1 7 -> EEXIST")
        .unchanged("shmget 2 0 -> EINVAL")
        .then("read 1 0x10001000 -> 5\nshmget 2 1 -> ok\n");
  }

  // SHM-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void segment_mappedByThreeProcessesAndTwiceInOne_sameMemoryEverywhere(NamedSystem sys) {
    replay(
        sys,
        """
        shmget 9 2
        spawn 1
        spawn 2
        spawn 3
        mmap 1 0 2 rw shared shm 9 -> 0x10000000
        mmap 1 0 1 rw shared shm 9 -> 0x10002000
        mmap 2 0x20000000 2 rw shared shm 9 -> 0x20000000
        mmap 3 0 1 r shared shm 9 -> 0x10000000
        write 2 0x20000008 1
        read 1 0x10000008 -> 1
        read 1 0x10002008 -> 1
        read 3 0x10000008 -> 1
        write 1 0x10002008 2
        read 2 0x20000008 -> 2
        write 1 0x10001ff8 3
        read 2 0x20001ff8 -> 3
        fork 3 4
        write 2 0x20000000 4
        read 4 0x10000000 -> 4
        """);
  }

  // SHM-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void shmrm_mappedSegment_keyGoneMappingsKeepWorkingAndSharing(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 1 2
            spawn 1
            mmap 1 0 2 rw shared shm 1 -> 0x10000000
            fork 1 2
            shmrm 1 -> ok
            write 2 0x10000000 5
            read 1 0x10000000 -> 5
            fork 1 3
            write 3 0x10001000 6
            read 2 0x10001000 -> 6
            mmap 1 0 1 rw shared shm 1 -> ENOENT
            shmrm 1 -> ENOENT
            shmget 1 1 -> ok
            mmap 1 0 1 rw shared shm 1 -> 0x10002000
            write 1 0x10002000 9
            read 1 0x10000000 -> 5
            read 3 0x10000000 -> 5
            """);
    assertEquals(Map.of(1L, 1L), run.view().shmPages());
    assertEquals(Backing.shm(1, 0), run.lineAt(2, BASE).backing());
    assertEquals(Backing.shm(1, 0), run.lineAt(1, BASE + 0x2000).backing());
  }

  // SHM-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void shmrm_unknownKey_enoentAndNothingChanges(NamedSystem sys) {
    replay(sys, "shmget 1 1\nspawn 1\nmmap 1 0 1 rw shared shm 1\nwrite 1 0x10000000 5\n")
        .unchanged("shmrm 2 -> ENOENT")
        .unchanged("shmrm 0 -> ENOENT")
        .then("shmrm 1 -> ok")
        .unchanged("shmrm 1 -> ENOENT");
  }

  // SHM-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void readWrite_pastTheSegmentsEnd_busSharedAndPrivate(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 1 2
            spawn 1
            mmap 1 0 4 rw shared shm 1 -> 0x10000000
            mmap 1 0 3 rw private shm 1 -> 0x10004000
            write 1 0x10001ff8 1 -> ok
            """);
    for (String addr : new String[] {"0x10002000", "0x10003ff8", "0x10006000"}) {
      run.unchanged("read 1 " + addr + " -> BUS").unchanged("write 1 " + addr + " 2 -> BUS");
    }
    assertEquals(Map.of(BASE + 0x1ff8, 1L, BASE + 0x5ff8, 1L), run.words(1, BASE, 7));
    assertEquals(2L, run.view().shmPages().get(1L));
  }

  // SHM-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void keyedSegment_unmappedByMunmapAndExec_keepsItsContents(NamedSystem sys) {
    replay(
        sys,
        """
        shmget 1 3
        spawn 1
        mmap 1 0 3 rw shared shm 1
        write 1 0x10000000 1
        write 1 0x10002ff8 3
        munmap 1 0x10000000 3
        mmap 1 0 3 r shared shm 1 -> 0x10000000
        read 1 0x10002ff8 -> 3
        mprotect 1 0x10000000 3 rw
        write 1 0x10001000 2
        exec 1 static
        pageout 100
        mmap 1 0 3 r private shm 1 -> 0x10000000
        read 1 0x10000000 -> 1
        read 1 0x10001000 -> 2
        read 1 0x10002ff8 -> 3
        """);
  }

  // SHM-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmapPrivateShm_segmentWrittenByOthers_seenUntilCopiedStoresStayPrivate(NamedSystem sys) {
    replay(
        sys,
        """
        shmget 1 2
        spawn 1
        spawn 2
        mmap 1 0 2 rw private shm 1 -> 0x10000000
        mmap 2 0 2 rw shared shm 1 -> 0x10000000
        write 2 0x10000000 1
        write 2 0x10001000 2
        read 1 0x10000000 -> 1
        read 1 0x10001000 -> 2
        write 1 0x10000008 3
        read 2 0x10000008 -> 0
        write 2 0x10000000 4
        read 1 0x10000000 -> 1
        write 2 0x10001000 5
        read 1 0x10001000 -> 5
        fork 1 3
        write 2 0x10001008 6
        read 3 0x10001008 -> 6
        read 3 0x10000008 -> 3
        """);
  }
}
