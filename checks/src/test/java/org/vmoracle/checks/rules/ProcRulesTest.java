package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vmoracle.checks.rules.RuleHarness.BASE;
import static org.vmoracle.checks.rules.RuleHarness.SHARED_PAGE_LINE;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.replay;
import static org.vmoracle.checks.rules.RuleHarness.sharedPageWords;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.ProcessView;

/** PROC-*: spawn, pid reuse, unknown pids, clone and exit. */
class ProcRulesTest {

  // PROC-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void spawn_severalPids_eachOnlyTheSharedPage(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1 -> ok
            spawn 7 -> ok
            spawn 4096 -> ok
            mmap 7 0 1 rw private anon -> 0x10000000
            mmap 1 0 1 rw private anon -> 0x10000000
            munmap 7 0x10000000 1
            munmap 1 0x10000000 1
            """);
    assertEquals(Set.of(1, 7, 4096), run.view().processes().keySet());
    for (int pid : new int[] {1, 7, 4096}) {
      assertEquals(SHARED_PAGE_LINE, run.mapsText(pid));
      assertEquals(sharedPageWords(), run.words(pid));
    }
  }

  // PROC-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void spawn_pidAliveBySpawnForkOrClone_eexistAndNothingChanges(NamedSystem sys) {
    replay(
            sys,
            """
            spawn 1
            mmap 1 0 2 rw private anon
            write 1 0x10000000 5
            mlock 1 0x10001000 1
            fork 1 2
            clone 1 3
            """)
        .unchanged("spawn 1 -> EEXIST")
        .unchanged("spawn 2 -> EEXIST")
        .unchanged("spawn 3 -> EEXIST")
        .then("read 1 0x10000000 -> 5");
  }

  // PROC-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void spawn_twoProcesses_addressSpacesIndependent(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            spawn 2
            mmap 1 0 1 rw private anon -> 0x10000000
            write 1 0x10000000 5
            read 2 0x10000000 -> SEGV
            mmap 2 0 1 rw private anon -> 0x10000000
            read 2 0x10000000 -> 0
            """);
    assertEquals(1, run.words(1, BASE, 1).size());
    assertTrue(run.words(2, BASE, 1).isEmpty());
  }

  // PROC-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void forkCloneSpawn_exitedPid_reusedWithFreshAddressSpace(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 1 rw private anon
            write 1 0x10000000 5
            fork 1 2 -> ok
            exit 2 -> ok
            fork 1 2 -> ok
            read 2 0x10000000 -> 5
            clone 1 3 -> ok
            exit 3 -> ok
            clone 1 3 -> ok
            read 3 0x10000000 -> 5
            exit 1 -> ok
            spawn 1 -> ok
            read 1 0x10000000 -> SEGV
            read 3 0x10000000 -> 5
            mmap 1 0 1 rw private anon -> 0x10000000
            write 1 0x10000000 6
            read 3 0x10000000 -> 5
            """);
    assertEquals(2, run.maps(3).size());
  }

  // PROC-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void everyProcessOperation_deadOrUnknownPid_esrchAndNothingChanges(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 1 rw private anon
            write 1 0x10000000 5
            spawn 5
            mmap 5 0 1 rw shared anon
            exit 5
            """);
    for (int pid : new int[] {5, 9}) {
      for (String op :
          List.of(
              "fork P 20",
              "clone P 20",
              "exec P static",
              "exec P nosuch",
              "exit P",
              "mmap P 0 1 rw private anon",
              "mmap P 0x10000000 1 rw shared anon fixed",
              "munmap P 0x10000000 1",
              "mprotect P 0x10000000 1 r",
              "minherit P 0x10000000 1 none",
              "mlock P 0x10000000 1",
              "munlock P 0x10000000 1",
              "read P 0x10000000",
              "write P 0x10000000 1",
              "collapse P 0x10000000")) {
        run.unchanged(op.replace("P", Integer.toString(pid)) + " -> ESRCH");
      }
    }
  }

  // PROC-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void forkClone_deadParentOrLiveChild_esrchCheckedBeforeEexist(NamedSystem sys) {
    replay(sys, "spawn 2\n")
        .unchanged("fork 9 2 -> ESRCH")
        .unchanged("clone 9 2 -> ESRCH")
        .unchanged("fork 9 9 -> ESRCH")
        .then("spawn 1")
        .unchanged("fork 1 1 -> EEXIST")
        .unchanged("clone 1 1 -> EEXIST")
        .unchanged("fork 1 2 -> EEXIST")
        .unchanged("clone 2 1 -> EEXIST");
  }

  // PROC-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void clone_chainOfThree_everyMapChangeAndStoreSeenByAll(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            clone 1 2 -> ok
            clone 2 3 -> ok
            mmap 3 0 3 rw private anon -> 0x10000000
            write 1 0x10000000 5
            read 3 0x10000000 -> 5
            mprotect 2 0x10000000 1 r -> ok
            write 1 0x10000000 6 -> SEGV
            write 3 0x10000000 6 -> SEGV
            mlock 3 0x10001000 1 -> ok
            minherit 1 0x10002000 1 none -> ok
            write 2 0x10002000 7
            fork 3 4
            read 4 0x10002000 -> SEGV
            read 4 0x10000000 -> 5
            """);
    ProcessView one = run.process(1);
    assertEquals(one.maps(), run.maps(2));
    assertEquals(one.maps(), run.maps(3));
    assertEquals(one.words(), run.words(2));
    assertEquals(one.words(), run.words(3));
    assertTrue(run.wired(1, BASE + 0x1000, 1));
    assertEquals(4, one.maps().size());
  }

  // PROC-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exit_oneOfTheSharers_othersKeepMapAndWords(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 2 rw private anon
            write 1 0x10000000 5
            mlock 1 0x10001000 1
            clone 1 2
            """);
    ProcessView before = run.process(2);
    run.then("exit 1 -> ok\nexit 1 -> ESRCH\n");
    assertEquals(Set.of(2), run.view().processes().keySet());
    assertEquals(before, run.process(2));
  }

  // PROC-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exit_lastUser_sharedObjectsKeepContentsPrivateCopiesOfOthersKept(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 4 1
            spawn 1
            mmap 1 0 1 rw shared anon -> 0x10000000
            mmap 1 0 1 rw private anon -> 0x10001000
            mmap 1 0 1 rw shared shm 4 -> 0x10002000
            write 1 0x10000000 1
            write 1 0x10001000 2
            write 1 0x10002000 3
            fork 1 2
            write 1 0x10001000 9
            exit 1 -> ok
            read 2 0x10000000 -> 1
            read 2 0x10001000 -> 2
            read 2 0x10002000 -> 3
            exit 2 -> ok
            spawn 3
            mmap 3 0 1 r shared shm 4 -> 0x10000000
            read 3 0x10000000 -> 3
            """);
    assertEquals(Set.of(3), run.view().processes().keySet());
    assertEquals(1L, run.view().shmPages().get(4L));
  }
}
