package org.vmoracle.checks.rules;

import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.assertViewEquals;
import static org.vmoracle.checks.rules.RuleHarness.replay;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.View;

/** SYS-*: pageout and collapse, which change nothing a process can observe. */
class SysRulesTest {

  /** Memory of every kind: image pages, private copies, shared files, segments, a fork chain. */
  static final String BUSY_SYSTEM =
      """
      file f 3
      shmget 1 2
      spawn 1
      exec 1 dynamic
      mmap 1 0 3 rw private file f 0 -> 0x10000000
      mmap 1 0 3 rw shared file f 0 -> 0x10003000
      mmap 1 0 2 rw shared shm 1 -> 0x10006000
      mmap 1 0 4 rw private anon -> 0x10008000
      write 1 0x10000000 1
      write 1 0x10004000 2
      write 1 0x10006000 3
      write 1 0x10008000 4
      write 1 0x410000 5
      write 1 0x7fffeffffff8 6
      fork 1 2
      write 2 0x10008000 7
      fork 2 3
      write 3 0x10009000 8
      fork 3 4
      write 4 0x10008000 9
      fork 4 5
      write 5 0x1000a000 10
      fork 5 6
      write 6 0x10008008 11
      fork 6 7
      mlock 7 0x10008000 4
      write 7 0x1000b000 12
      exit 4
      """;

  // SYS-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void pageout_anyCountOnABusySystem_okAndNothingObservableChanges(NamedSystem sys) {
    Run run = replay(sys, BUSY_SYSTEM);
    for (String n : new String[] {"0", "1", "7", "100000", "0x800000000"}) {
      run.unchanged("pageout " + n + " -> ok");
    }
    run.then(
        """
        read 1 0x10000000 -> 1
        read 6 0x10008000 -> 9
        read 7 0x1000b000 -> 12
        fread f 0x1000 -> 2
        fwrite f 0 20
        read 1 0x10000000 -> 1
        read 2 0x10000000 -> 1
        read 1 0x10003000 -> 20
        read 5 0x10001000 -> 2
        """);
    assertViewEquals(
        replay(sys, BUSY_SYSTEM + "fwrite f 0 20\n").view(),
        run.view(),
        "pageouts then fwrite, against the fwrite alone");
  }

  // SYS-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void collapse_everyMappedPageOfEveryProcess_okAndNothingObservableChanges(NamedSystem sys) {
    Run run = replay(sys, BUSY_SYSTEM);
    for (int pid : new int[] {1, 2, 3, 5, 6, 7}) {
      View before = run.view();
      for (String addr :
          new String[] {
            "0x10000000",
            "0x10004000",
            "0x10007000",
            "0x10008000",
            "0x1000b000",
            "0x410000",
            "0x7f0000040000",
            "0x7ffffffff000"
          }) {
        run.then("collapse " + pid + " " + addr + " -> ok");
      }
      assertViewEquals(before, run.view(), "collapse of every mapped kind in pid " + pid);
    }
    run.then(
        """
        read 7 0x10008000 -> 9
        read 7 0x10008008 -> 11
        read 3 0x10008000 -> 7
        read 1 0x10008000 -> 4
        """);
  }

  // SYS-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void collapse_unmappedAddressOrDeadPid_failsAndNothingChanges(NamedSystem sys) {
    replay(sys, "spawn 1\nmmap 1 0 2 rw private anon\nfork 1 2\nexit 2\n")
        .unchanged("collapse 1 0x10002000 -> ENOMEM")
        .unchanged("collapse 1 0 -> ENOMEM")
        .unchanged("collapse 1 0x800000000000 -> ENOMEM")
        .unchanged("collapse 2 0x10000000 -> ESRCH")
        .unchanged("collapse 1 0x10001000 -> ok");
  }

  // SYS-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void pageout_wiredPagesOfEveryKind_keepTheirContents(NamedSystem sys) {
    replay(
        sys,
        """
        file f 2
        shmget 1 1
        spawn 1
        mmap 1 0 2 rw private file f 0 -> 0x10000000
        mmap 1 0 1 rw shared shm 1 -> 0x10002000
        mmap 1 0 2 rw private anon -> 0x10003000
        write 1 0x10000000 1
        write 1 0x10002000 2
        write 1 0x10004ff8 3
        mlock 1 0x10000000 5
        pageout 100000
        fwrite f 0x1000 9
        pageout 100000
        read 1 0x10000000 -> 1
        read 1 0x10001000 -> 0
        read 1 0x10002000 -> 2
        read 1 0x10004ff8 -> 3
        munlock 1 0x10000000 5
        pageout 100000
        read 1 0x10000000 -> 1
        read 1 0x10001000 -> 0
        read 1 0x10004ff8 -> 3
        """);
  }

  // SYS-4: on the model and every configuration (the matrix has sharing and the fast path each
  // on alone, both on, both off), the same answers and views.
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void sharedAndWiredSegments_sameAnswersEverywhere_SYS4(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 1 1024
            spawn 1
            spawn 2
            mmap 1 0 1024 rw shared shm 1 -> 0x10000000
            mmap 2 0 1024 rw shared shm 1 -> 0x10000000
            write 1 0x10000008 5
            read 2 0x10000008 -> 5
            mlock 2 0x10200000 512 -> ok
            write 2 0x10200008 6
            read 1 0x10200008 -> 6
            mprotect 2 0x10000000 1 r -> ok
            write 1 0x10000010 7
            read 2 0x10000010 -> 7
            exit 1
            spawn 3
            mmap 3 0 1024 r shared shm 1 -> 0x10000000
            """);
    run.then(
        """
        read 3 0x10000008 -> 5
        read 3 0x10200008 -> 6
        write 3 0x10000008 1 -> SEGV
        munmap 2 0x10001000 1 -> ok
        read 3 0x10001000 -> 0
        read 2 0x10000010 -> 7
        """);
  }
}
