package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.vmoracle.checks.rules.RuleHarness.BASE;
import static org.vmoracle.checks.rules.RuleHarness.SHARED_PAGE_LINE;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.replay;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Inherit;

/** DEV-*: where we deliberately differ from Linux. */
class DevRulesTest {

  // DEV-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void spawnForkCloneExec_anyAddressSpace_sharedPageIsTheTopLine(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            fork 1 2
            clone 1 3
            spawn 4
            exec 4 dynamic
            spawn 5
            exec 5 static
            """);
    for (int pid = 1; pid <= 5; pid++) {
      assertEquals(SHARED_PAGE_LINE, run.lineAt(pid, Boot.SHARED_PAGE) + "\n", "pid " + pid);
      assertEquals(
          Boot.SHARED_PAGE, run.maps(pid).get(run.maps(pid).size() - 1).start(), "last line");
    }
  }

  // DEV-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_addressZero_placedBottomUpFromBase(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        exec 1 dynamic
        mmap 1 0 1 rw private anon -> 0x10000000
        mmap 1 0 3 rw private anon -> 0x10001000
        mmap 1 0 1 rw private anon -> 0x10004000
        mmap 1 0 512 rw private anon -> 0x10200000
        mmap 1 0 1 rw private anon -> 0x10005000
        """);
  }

  // DEV-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void minherit_shareOfPrivateAndCopyOfShared_acceptedAndShown(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 1 rw private file lib/libc 0 -> 0x10000000
            mmap 1 0 1 rw shared anon -> 0x10001000
            minherit 1 0x10000000 1 share -> ok
            minherit 1 0x10001000 1 copy -> ok
            """);
    assertEquals(Inherit.SHARE, run.lineAt(1, BASE).inherit());
    assertEquals(Inherit.COPY, run.lineAt(1, BASE + 0x1000).inherit());
  }

  // DEV-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_failingAfterSeveralMappedEntries_noneOfThemWired(NamedSystem sys) {
    Run run =
        replay(
                sys,
                """
                file f 1
                spawn 1
                mmap 1 0 1 rw private anon -> 0x10000000
                mmap 1 0 1 r shared file bin/static 0 -> 0x10001000
                mmap 1 0 2 rw shared file f 0 -> 0x10002000
                mmap 1 0x10005000 1 rw private anon -> 0x10005000
                """)
            .unchanged("mlock 1 0x10000000 6 -> ENOMEM")
            .unchanged("mlock 1 0x10000000 4 -> ENOMEM");
    assertFalse(run.anyWired(1));
  }

  // DEV-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmapFixed_atOrBelowLowestUserPage_okOrEnomem(NamedSystem sys) {
    replay(sys, "spawn 1\n")
        .unchanged("mmap 1 0 1 rw private anon fixed -> ENOMEM")
        .unchanged("mmap 1 0 2 rw shared anon fixed -> ENOMEM")
        .then(
            """
            mmap 1 0x1000 1 rw private anon fixed -> 0x1000
            write 1 0x1000 1 -> ok
            mmap 1 0x2000 1 rw private anon -> 0x2000
            read 1 0xff8 -> SEGV
            """);
  }

  // DEV-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void minherit_holeAfterMappedEntries_noneOfThemChanged(NamedSystem sys) {
    Run run =
        replay(
                sys,
                """
                spawn 1
                mmap 1 0 1 rw private anon -> 0x10000000
                mmap 1 0 1 rw shared anon -> 0x10001000
                """)
            .unchanged("minherit 1 0x10000000 3 none -> ENOMEM")
            .unchanged("minherit 1 0x10000000 3 share -> ENOMEM");
    assertEquals(Inherit.COPY, run.lineAt(1, BASE).inherit());
    assertEquals(Inherit.SHARE, run.lineAt(1, BASE + 0x1000).inherit());
  }

  // DEV-7
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmapShmAndShmrm_anyLengthOrUnknownKey_mappedOrEnoent(NamedSystem sys) {
    replay(
            sys,
            """
            shmget 1 4
            spawn 1
            mmap 1 0 1 rw shared shm 1 -> 0x10000000
            mmap 1 0 6 rw shared shm 1 -> 0x10001000
            write 1 0x10000000 1
            read 1 0x10001000 -> 1
            read 1 0x10005000 -> BUS
            """)
        .unchanged("shmrm 2 -> ENOENT")
        .then("shmrm 1 -> ok")
        .unchanged("shmrm 1 -> ENOENT");
  }

  // DEV-8
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotectWritable_sharedPageInEveryKindOfProcess_eacces(NamedSystem sys) {
    replay(sys, "spawn 1\nfork 1 2\nspawn 3\nexec 3 dynamic\n")
        .unchanged("mprotect 1 0x7ffffffff000 1 rw -> EACCES")
        .unchanged("mprotect 2 0x7ffffffff000 1 rwx -> EACCES")
        .unchanged("mprotect 3 0x7ffffffff000 1 rwx -> EACCES")
        .then("write 2 0x7ffffffff000 1 -> SEGV");
  }

  // DEV-9
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlockMunlock_addressNotPageAligned_einvalNotRoundedDown(NamedSystem sys) {
    Run run =
        replay(sys, "spawn 1\nmmap 1 0 2 rw private anon\n")
            .unchanged("mlock 1 0x10000010 1 -> EINVAL")
            .unchanged("mlock 1 0x10000ff8 1 -> EINVAL")
            .then("mlock 1 0x10000000 2 -> ok")
            .unchanged("munlock 1 0x10000010 1 -> EINVAL")
            .unchanged("munlock 1 0x10001ff8 1 -> EINVAL");
    assertEquals(2, run.wiredLines(1).get(0).pages());
  }

  // DEV-10
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void rangeOperations_zeroLength_einvalAndNothingChanged(NamedSystem sys) {
    replay(sys, "spawn 1\nmmap 1 0 2 rw private anon -> 0x10000000\n")
        .unchanged("mprotect 1 0x10000000 0 r -> EINVAL")
        .unchanged("minherit 1 0x10000000 0 none -> EINVAL")
        .unchanged("mlock 1 0x10000000 0 -> EINVAL")
        .unchanged("munlock 1 0x10000000 0 -> EINVAL")
        .unchanged("munmap 1 0x10000000 0 -> EINVAL");
  }

  // DEV-11
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_unalignedHintOnFreeOrTakenRange_einval(NamedSystem sys) {
    replay(sys, "spawn 1\nmmap 1 0 1 rw private anon -> 0x10000000\n")
        .unchanged("mmap 1 0x20000008 1 rw private anon -> EINVAL")
        .unchanged("mmap 1 0x10000008 1 rw shared anon -> EINVAL");
  }

  // DEV-12, ERR-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_missingNameAndBadArgument_einvalBeforeEnoent(NamedSystem sys) {
    replay(sys, "spawn 1\n")
        .unchanged("mmap 1 0x10000008 1 r shared file nosuch 0 -> EINVAL")
        .unchanged("mmap 1 0 0 r shared shm 42 -> EINVAL")
        .unchanged("mmap 1 0 1 r shared shm 42 -> ENOENT");
  }
}
