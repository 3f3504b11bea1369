package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vmoracle.checks.rules.RuleHarness.BASE;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.replay;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;

/** ACC-*: reads and writes. */
class AccRulesTest {

  // ACC-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void readWrite_outsideEveryMapping_segvAndNothingChanges(NamedSystem sys) {
    Run run = replay(sys, "spawn 1\nmmap 1 0 1 rw private anon\nwrite 1 0x10000000 5\n");
    for (String addr :
        List.of(
            "0",
            "0xff8",
            "0xffffff8",
            "0x10001000",
            "0x7fffffffeff8",
            "0x800000000000",
            "0x800000001000",
            "0x7ffffffffffffff8")) {
      run.unchanged("read 1 " + addr + " -> SEGV");
      run.unchanged("write 1 " + addr + " 1 -> SEGV");
    }
    run.then("read 1 0x10000000 -> 5");
  }

  // ACC-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void readWrite_forbiddenByProtection_segvWhateverTheMemoryHolds(NamedSystem sys) {
    replay(
            sys,
            """
            spawn 1
            mmap 1 0 1 rw shared anon -> 0x10000000
            mmap 1 0 1 r shared file bin/static 0 -> 0x10001000
            mmap 1 0 1 rx private file bin/static 0 -> 0x10002000
            fork 1 2
            write 2 0x10000000 5
            mprotect 1 0x10000000 1 none
            """)
        .unchanged("read 1 0x10000000 -> SEGV")
        .unchanged("write 1 0x10000000 6 -> SEGV")
        .unchanged("write 1 0x10001000 6 -> SEGV")
        .unchanged("write 1 0x10002ff8 6 -> SEGV")
        .unchanged("write 1 0x7ffffffff000 6 -> SEGV")
        .then(
            """
            read 2 0x10000000 -> 5
            read 1 0x10001000 -> 0x100000000
            read 1 0x10002ff8 -> 0x1000001ff
            fread bin/static 0xff8 -> 0x1000001ff
            """);
  }

  // ACC-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void read_afterStoresThroughEveryMappingOfAFile_seesTheLast(NamedSystem sys) {
    replay(
        sys,
        """
        file f 2
        spawn 1
        spawn 2
        mmap 1 0 2 rw shared file f 0 -> 0x10000000
        mmap 1 0 1 rw shared file f 1 -> 0x10002000
        mmap 2 0 1 rw shared file f 1 -> 0x10000000
        write 1 0x10001008 1
        read 1 0x10002008 -> 1
        read 2 0x10000008 -> 1
        write 2 0x10000008 2
        read 1 0x10001008 -> 2
        fwrite f 0x1008 3
        read 1 0x10002008 -> 3
        write 1 0x10002008 0xffffffffffffffff
        read 2 0x10000008 -> -1
        fread f 0x1008 -> 0xffffffffffffffff
        write 1 0x10001008 0x8000000000000000
        write 1 0x10001008 0x7fffffffffffffff
        read 2 0x10000008 -> 0x7fffffffffffffff
        """);
  }

  // ACC-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void read_anonymousWords_lastStoreEachWordIndependently(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 2 rw private anon
            write 1 0x10000000 1
            write 1 0x10000008 2
            write 1 0x10000000 3
            write 1 0x10001ff8 4
            write 1 0x10000008 0
            read 1 0x10000000 -> 3
            read 1 0x10000008 -> 0
            read 1 0x10001ff8 -> 4
            read 1 0x10000ff8 -> 0
            """);
    assertEquals(2, run.words(1, BASE, 2).size());
  }

  // ACC-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void read_newAnonymousAndSegmentMemory_zeroWhateverWasThereBefore(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 1 1
            spawn 1
            mmap 1 0 1 rw shared anon -> 0x10000000
            mmap 1 0 1 rw shared shm 1 -> 0x10001000
            mmap 1 0 1 rw private anon -> 0x10002000
            write 1 0x10000000 1
            write 1 0x10001000 2
            write 1 0x10002000 3
            shmrm 1
            exit 1
            spawn 2
            shmget 1 1
            mmap 2 0 1 rw shared anon -> 0x10000000
            mmap 2 0 1 rw shared shm 1 -> 0x10001000
            mmap 2 0 1 rw private anon -> 0x10002000
            read 2 0x10000000 -> 0
            read 2 0x10001000 -> 0
            read 2 0x10002000 -> 0
            write 2 0x10000000 4
            mmap 2 0x10000000 1 rw shared anon fixed -> 0x10000000
            read 2 0x10000000 -> 0
            """);
    assertTrue(run.words(2, BASE, 3).isEmpty());
  }

  // ACC-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void write_segvOrBus_storesNothingCopiesNothingGrowsNothing(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 1
            spawn 1
            mmap 1 0 1 r private anon -> 0x10000000
            mmap 1 0 2 r private file f 0 -> 0x10001000
            mmap 1 0 2 rw shared file f 0 -> 0x10003000
            """);
    run.unchanged("write 1 0x10000000 5 -> SEGV")
        .unchanged("write 1 0x10001000 5 -> SEGV")
        .unchanged("write 1 0x10004000 5 -> BUS")
        .unchanged("read 1 0x10002000 -> BUS")
        .then(
            """
            mprotect 1 0x10000000 3 rw
            read 1 0x10000000 -> 0
            fwrite f 0 6
            read 1 0x10001000 -> 6
            fread f 0x1000 -> EINVAL
            file f 2
            read 1 0x10004000 -> 0
            read 1 0x10002000 -> 0
            """);
  }
}
