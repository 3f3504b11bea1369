package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vmoracle.checks.rules.RuleHarness.BASE;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.assertViewEquals;
import static org.vmoracle.checks.rules.RuleHarness.mapping;
import static org.vmoracle.checks.rules.RuleHarness.replay;

import java.time.Duration;
import java.util.List;
import java.util.NavigableMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Mapping.Backing;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.View;

/** WIRE-*: mlock and munlock. */
class WireRulesTest {

  // WIRE-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_middleOfMapping_exactlyThatRangeWiredContentsKept(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 3 rw private anon
            write 1 0x10000000 1
            write 1 0x10001000 2
            write 1 0x10002000 3
            """);
    NavigableMap<Long, Long> words = run.words(1);
    run.then("mlock 1 0x10001000 1 -> ok");
    assertEquals(
        List.of(
            mapping(BASE, 1, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false),
            mapping(BASE + 0x1000, 1, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, true),
            mapping(BASE + 0x2000, 1, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false)),
        run.maps(1).subList(0, 3));
    assertEquals(words, run.words(1));
    run.then("mlock 1 0x10000000 3 -> ok");
    assertEquals(
        mapping(BASE, 3, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, true),
        run.maps(1).get(0));
    assertEquals(words, run.words(1));
  }

  // WIRE-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_acrossAdjacentMappingsOfEveryKind_allWired(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 1 1
            spawn 1
            mmap 1 0 1 rw private anon -> 0x10000000
            mmap 1 0 1 r shared file bin/static 0 -> 0x10001000
            mmap 1 0 1 rw shared shm 1 -> 0x10002000
            mmap 1 0 1 rx private file lib/libc 0 -> 0x10003000
            mlock 1 0x10000000 4 -> ok
            mlock 1 0x7ffffffff000 1 -> ok
            read 1 0x10001000 -> 0x100000000
            read 1 0x10003000 -> 0x300000000
            """);
    assertTrue(run.wired(1, BASE, 4));
    assertTrue(run.wired(1, 0x7ffffffff000L, 1));
  }

  // WIRE-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_middlePageOfWritablePrivateFile_onlyItStopsFollowingTheFile(NamedSystem sys) {
    replay(
        sys,
        """
        file f 3
        fwrite f 0x1000 1
        spawn 1
        mmap 1 0 3 rw private file f 0
        mlock 1 0x10001000 1 -> ok
        fwrite f 0 5
        fwrite f 0x1000 6
        fwrite f 0x2000 7
        read 1 0x10000000 -> 5
        read 1 0x10001000 -> 1
        read 1 0x10002000 -> 7
        munlock 1 0x10001000 1 -> ok
        fwrite f 0x1008 8
        read 1 0x10001008 -> 0
        write 1 0x10001000 9
        fread f 0x1000 -> 6
        """);
  }

  // WIRE-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_writablePrivateSegmentMapping_segmentStoresNoLongerSeen(NamedSystem sys) {
    replay(
        sys,
        """
        shmget 1 2
        spawn 1
        spawn 2
        mmap 1 0 2 rwx private shm 1
        mmap 2 0 2 rw shared shm 1
        write 2 0x10000000 1
        mlock 1 0x10000000 2 -> ok
        write 2 0x10000000 2
        write 2 0x10001000 3
        read 1 0x10000000 -> 1
        read 1 0x10001000 -> 0
        """);
  }

  // WIRE-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_readOnlyPrivateFileRanges_keepFollowingTheFile(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 2
            spawn 1
            mmap 1 0 1 r private file f 0
            mmap 1 0 1 rx private file f 1
            mmap 1 0 1 r private file f 0
            mlock 1 0x10000000 3 -> ok
            fwrite f 0 5
            fwrite f 0x1000 6
            read 1 0x10000000 -> 5
            read 1 0x10001000 -> 6
            read 1 0x10002000 -> 5
            munlock 1 0x10000000 3
            fwrite f 0 7
            read 1 0x10000000 -> 7
            """);
    assertFalse(run.anyWired(1));
  }

  // WIRE-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_holeAnywhereInRange_enomemNothingWiredNothingCopied(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 1
            spawn 1
            mmap 1 0x10000000 1 rw private file f 0 -> 0x10000000
            mmap 1 0x10002000 1 rw private anon -> 0x10002000
            """);
    run.unchanged("mlock 1 0x10000000 3 -> ENOMEM")
        .unchanged("mlock 1 0x10000000 2 -> ENOMEM")
        .unchanged("mlock 1 0xffff000 2 -> ENOMEM")
        .unchanged("mlock 1 0x10002000 2 -> ENOMEM")
        .unchanged("mlock 1 0x7fffffffe000 2 -> ENOMEM");
    assertFalse(run.anyWired(1));
    run.then("fwrite f 0 5\nread 1 0x10000000 -> 5\n");
  }

  // WIRE-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_filePagePastTheEnd_enomemNothingWiredNothingCopied(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 1
            spawn 1
            mmap 1 0 1 rw private anon -> 0x10000000
            mmap 1 0 2 rw private file f 0 -> 0x10001000
            mmap 1 0 1 r shared file f 3 -> 0x10003000
            """);
    run.unchanged("mlock 1 0x10000000 3 -> ENOMEM")
        .unchanged("mlock 1 0x10003000 1 -> ENOMEM")
        .unchanged("mlock 1 0x10000000 4 -> ENOMEM");
    assertFalse(run.anyWired(1));
    run.then(
        """
        fwrite f 0 5
        read 1 0x10001000 -> 5
        mlock 1 0x10000000 2 -> ok
        file f 2
        mlock 1 0x10000000 3 -> ok
        """);
    assertTrue(run.wired(1, BASE, 3));
  }

  // WIRE-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlockMunlock_unalignedOrZeroLength_einvalAndNothingChanges(NamedSystem sys) {
    replay(sys, "spawn 1\nmmap 1 0 2 rw private anon\nmlock 1 0x10001000 1\n")
        .unchanged("mlock 1 0x10000008 1 -> EINVAL")
        .unchanged("mlock 1 0x10000800 1 -> EINVAL")
        .unchanged("mlock 1 0x10000000 0 -> EINVAL")
        .unchanged("mlock 1 0x20000008 1 -> EINVAL")
        .unchanged("munlock 1 0x10001008 1 -> EINVAL")
        .unchanged("munlock 1 0x10001000 0 -> EINVAL")
        .unchanged("munlock 1 0x20000000 0 -> EINVAL");
  }

  // WIRE-7, MEM-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_largeRange_wiredOrEagainWithNothingChanged(NamedSystem sys) {
    Run run = replay(sys, "spawn 1\nmmap 1 0 4096 rw private anon\nwrite 1 0x10000000 5\n");
    View before = run.view();
    Result r = run.apply(new Op.Mlock(1, BASE, 4096));
    if (sys.mayRunOut() && r.equals(Result.of(Errno.EAGAIN))) {
      assertViewEquals(before, run.view(), "mlock answered EAGAIN");
      return;
    }
    assertEquals(Result.OK, r, "the model never answers EAGAIN (WIRE-7)");
    assertTrue(run.wired(1, BASE, 4096));
  }

  // WIRE-7, MEM-1: a range of 2^34 pages (64 TiB) is more than any system here has frames; a
  // system that may run out says so at once, without looking up each of its pages first (that
  // took about 20 s for 2^33 pages).
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_rangeBeyondAllMemory_eagainAtOnceWithNothingChanged(NamedSystem sys) {
    Run run = replay(sys, "spawn 1\nmmap 1 0 0x400000000 rw private anon -> 0x10000000\n");
    View before = run.view();
    Result r =
        assertTimeoutPreemptively(
            Duration.ofSeconds(5), () -> run.apply(new Op.Mlock(1, BASE, 1L << 34)));
    if (sys.mayRunOut()) {
      assertEquals(Result.of(Errno.EAGAIN), r);
      assertViewEquals(before, run.view(), "mlock answered EAGAIN");
    } else {
      assertEquals(Result.OK, r, "the model never answers EAGAIN (WIRE-7)");
    }
  }

  // WIRE-10, FILE-8: rw to rw copies nothing, so a page a truncation took shows the file again.
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotect_wiredRangeWritableAlready_copiesNothing(NamedSystem sys) {
    replay(
        sys,
        """
        file f 1
        spawn 1
        mmap 1 0 1 rw private file f 0
        mlock 1 0x10000000 1
        file f 0
        file f 1
        mprotect 1 0x10000000 1 rw -> ok
        fwrite f 0 5
        read 1 0x10000000 -> 5
        """);
  }

  // WIRE-8
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void munlock_partOfWiredRange_splitsAndUnwiresOnlyThat(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 4 rw private anon
            write 1 0x10003000 5
            mlock 1 0x10000000 4
            munlock 1 0x10001000 2 -> ok
            read 1 0x10003000 -> 5
            """);
    assertTrue(run.wired(1, BASE, 1));
    assertFalse(run.wired(1, BASE + 0x1000, 1));
    assertFalse(run.wired(1, BASE + 0x2000, 1));
    assertTrue(run.wired(1, BASE + 0x3000, 1));
    assertEquals(2, run.wiredLines(1).size());
    run.then("munlock 1 0x10000000 4 -> ok\nmunlock 1 0x10000000 4 -> ok\n");
    assertFalse(run.anyWired(1));
  }

  // WIRE-8
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void munlock_holeInRange_enomemStillWired(NamedSystem sys) {
    Run run =
        replay(
                sys,
                """
                spawn 1
                mmap 1 0x10000000 1 rw private anon -> 0x10000000
                mmap 1 0x10002000 1 rw private anon -> 0x10002000
                mlock 1 0x10000000 1
                mlock 1 0x10002000 1
                """)
            .unchanged("munlock 1 0x10000000 3 -> ENOMEM")
            .unchanged("munlock 1 0xffff000 2 -> ENOMEM")
            .unchanged("munlock 1 0x10002000 2 -> ENOMEM");
    assertTrue(run.wired(1, BASE, 1));
    assertTrue(run.wired(1, BASE + 0x2000, 1));
  }

  // WIRE-9
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_overlappingRangesTwice_oneMunlockUnwiresAll(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 3 rw private anon
            mlock 1 0x10000000 2 -> ok
            mlock 1 0x10001000 2 -> ok
            mlock 1 0x10000000 3 -> ok
            """);
    assertEquals(1, run.wiredLines(1).size());
    run.then("munlock 1 0x10000000 3 -> ok");
    assertFalse(run.anyWired(1));
  }

  // WIRE-10
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotectWritable_wiredPrivateFileRange_everyPageCopied(NamedSystem sys) {
    replay(
        sys,
        """
        file f 3
        fwrite f 0x1000 1
        spawn 1
        mmap 1 0 3 r private file f 0
        mlock 1 0x10000000 3
        mprotect 1 0x10000000 2 rwx -> ok
        fwrite f 0 5
        fwrite f 0x1000 6
        fwrite f 0x2000 7
        read 1 0x10000000 -> 0
        read 1 0x10001000 -> 1
        read 1 0x10002000 -> 7
        """);
  }

  // WIRE-10
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotectWritable_wiredSharedFileRange_noCopy(NamedSystem sys) {
    replay(
        sys,
        """
        file f 1
        spawn 1
        mmap 1 0 1 r shared file f 0
        mlock 1 0x10000000 1
        mprotect 1 0x10000000 1 rw -> ok
        fwrite f 0 5
        read 1 0x10000000 -> 5
        write 1 0x10000008 6
        fread f 8 -> 6
        """);
  }

  // WIRE-11
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_sharedFileAndSegment_storesStillSharedByEveryone(NamedSystem sys) {
    replay(
        sys,
        """
        file f 1
        shmget 1 1
        spawn 1
        spawn 2
        mmap 1 0 1 rw shared file f 0 -> 0x10000000
        mmap 1 0 1 rw shared shm 1 -> 0x10001000
        mmap 2 0 1 rw shared shm 1 -> 0x10000000
        mlock 1 0x10000000 2 -> ok
        fwrite f 0 5
        read 1 0x10000000 -> 5
        write 1 0x10000008 6
        fread f 8 -> 6
        write 2 0x10000000 7
        read 1 0x10001000 -> 7
        write 1 0x10001008 8
        read 2 0x10000008 -> 8
        """);
  }

  // WIRE-12, DEV-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_protNone_enomemNothingWiredContentsKept(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 2 rw private anon
            write 1 0x10000000 5
            mprotect 1 0x10000000 2 none
            mlock 1 0x10000000 2 -> ENOMEM
            """);
    assertEquals(
        mapping(BASE, 2, Prot.NONE, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false),
        run.maps(1).get(0));
    run.then(
        "mprotect 1 0x10000000 2 r -> ok\nmlock 1 0x10000000 2 -> ok\nread 1 0x10000000 -> 5\n");
    assertTrue(run.wired(1, BASE, 2));
  }

  // WIRE-12, WIRE-10
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mlock_readOnlyPrivateFile_copiedOnlyWhenMadeWritable(NamedSystem sys) {
    replay(
        sys,
        """
        file f 2
        spawn 1
        mmap 1 0 2 r private file f 0
        mlock 1 0x10000000 2 -> ok
        mprotect 1 0x10000000 2 none -> ok
        mlock 1 0x10000000 2 -> ENOMEM
        fwrite f 0 1
        mprotect 1 0x10000000 1 r -> ok
        read 1 0x10000000 -> 1
        mprotect 1 0x10001000 1 rw -> ok
        fwrite f 0x1000 2
        read 1 0x10001000 -> 0
        fwrite f 0 3
        read 1 0x10000000 -> 3
        """);
  }
}
