package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vmoracle.checks.rules.RuleHarness.BASE;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.mapping;
import static org.vmoracle.checks.rules.RuleHarness.replay;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Mapping;
import org.vmoracle.spec.Mapping.Backing;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;

/** INH-*: inheritance across fork. */
class InhRulesTest {

  // INH-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_everySourceAndSharing_defaultInheritanceShownAndObeyed(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 2
            shmget 1 2
            spawn 1
            mmap 1 0 1 rw shared anon -> 0x10000000
            mmap 1 0 1 rw shared file f 0 -> 0x10001000
            mmap 1 0 1 rw shared shm 1 -> 0x10002000
            mmap 1 0 1 rw private anon -> 0x10003000
            mmap 1 0 1 rw private file f 1 -> 0x10004000
            mmap 1 0 1 rw private shm 1 -> 0x10005000
            fork 1 2
            write 2 0x10000000 1
            write 2 0x10001000 2
            write 2 0x10002000 3
            write 2 0x10003000 4
            write 2 0x10004000 5
            write 2 0x10005008 6
            read 1 0x10000000 -> 1
            read 1 0x10001000 -> 2
            read 1 0x10002000 -> 3
            read 1 0x10003000 -> 0
            read 1 0x10004000 -> 0
            read 1 0x10005000 -> 3
            read 1 0x10005008 -> 0
            """);
    for (int i = 0; i < 6; i++) {
      Inherit expected = i < 3 ? Inherit.SHARE : Inherit.COPY;
      assertEquals(expected, run.lineAt(1, BASE + 0x1000L * i).inherit(), "page " + i);
      assertEquals(expected, run.lineAt(2, BASE + 0x1000L * i).inherit(), "page " + i);
    }
  }

  // INH-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void minheritShare_privateAnon_sameMemoryForParentChildAndGrandchild(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 2 rw private anon
            write 1 0x10000000 1
            minherit 1 0x10000000 2 share -> ok
            fork 1 2
            write 2 0x10000000 2
            read 1 0x10000000 -> 2
            write 1 0x10001000 3
            read 2 0x10001000 -> 3
            fork 2 3
            write 3 0x10000008 4
            read 1 0x10000008 -> 4
            read 2 0x10000008 -> 4
            """);
    Mapping expected =
        mapping(BASE, 2, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.SHARE, false);
    assertEquals(expected, run.maps(1).get(0));
    assertEquals(expected, run.maps(2).get(0));
    assertEquals(expected, run.maps(3).get(0));
  }

  // INH-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void minheritShare_privateFile_pageCopiedLaterByEitherIsCopiedForBoth(NamedSystem sys) {
    replay(
        sys,
        """
        file f 3
        spawn 1
        mmap 1 0 3 rw private file f 0
        write 1 0x10002000 9
        minherit 1 0x10000000 3 share
        fork 1 2
        read 2 0x10002000 -> 9
        write 2 0x10000000 1
        read 1 0x10000000 -> 1
        fwrite f 8 5
        read 1 0x10000008 -> 0
        read 2 0x10000008 -> 0
        write 1 0x10001000 2
        read 2 0x10001000 -> 2
        fwrite f 0x1008 6
        read 2 0x10001008 -> 0
        fread f 0x1000 -> 0
        fwrite f 0x2008 7
        read 1 0x10002008 -> 0
        """);
  }

  // INH-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void minheritCopy_afterShare_copyOnWriteAgain(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 1
            spawn 1
            mmap 1 0 1 rw private anon
            mmap 1 0 1 rw private file f 0
            write 1 0x10000000 1
            minherit 1 0x10000000 2 share -> ok
            minherit 1 0x10000000 2 copy -> ok
            fork 1 2
            write 2 0x10000000 2
            write 2 0x10001000 3
            read 1 0x10000000 -> 1
            read 1 0x10001000 -> 0
            write 1 0x10000000 4
            read 2 0x10000000 -> 2
            fread f 0 -> 0
            """);
    assertEquals(Inherit.COPY, run.lineAt(2, BASE).inherit());
    assertEquals(Inherit.COPY, run.lineAt(2, BASE + 0x1000).inherit());
  }

  // INH-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void minheritCopy_sharedFile_childPrivateOthersStoresSeenUntilCopied(NamedSystem sys) {
    replay(
        sys,
        """
        file f 2
        spawn 1
        mmap 1 0 2 rw shared file f 0
        minherit 1 0x10000000 2 copy -> ok
        fork 1 2
        write 2 0x10000000 5
        read 1 0x10000000 -> 0
        fread f 0 -> 0
        fwrite f 0x1000 6
        read 2 0x10001000 -> 6
        write 1 0x10001008 7
        read 2 0x10001008 -> 7
        fwrite f 0 8
        read 2 0x10000000 -> 5
        read 1 0x10000000 -> 8
        write 2 0x10001000 9
        read 1 0x10001000 -> 6
        fread f 0x1000 -> 6
        """);
  }

  // INH-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void minheritCopy_sharedSegmentAndSharedAnon_childPrivateView(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 1 1
            spawn 1
            mmap 1 0 1 rw shared shm 1 -> 0x10000000
            mmap 1 0 1 rw shared anon -> 0x10001000
            minherit 1 0x10000000 2 copy -> ok
            fork 1 2
            write 1 0x10000000 1
            write 1 0x10001000 2
            read 2 0x10000000 -> 1
            read 2 0x10001000 -> 2
            write 2 0x10000008 3
            write 2 0x10001008 4
            read 1 0x10000008 -> 0
            read 1 0x10001008 -> 0
            write 1 0x10000000 5
            read 2 0x10000000 -> 1
            """);
    assertEquals(Backing.shm(1, 0), run.lineAt(2, BASE).backing());
    assertEquals(Backing.ANON, run.lineAt(2, BASE + 0x1000).backing());
  }

  // INH-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void minheritNone_middleOfRange_childAndGrandchildHaveTheRestOnly(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 3 rw shared anon
            write 1 0x10001000 5
            minherit 1 0x10001000 1 none -> ok
            fork 1 2
            read 2 0x10001000 -> SEGV
            read 1 0x10001000 -> 5
            write 2 0x10000000 6
            read 1 0x10000000 -> 6
            fork 2 3
            read 3 0x10001000 -> SEGV
            mmap 2 0 1 rw private anon -> 0x10001000
            """);
    assertFalse(run.mapped(3, BASE + 0x1000, 1));
    assertTrue(run.mapped(3, BASE, 1));
    assertTrue(run.mapped(3, BASE + 0x2000, 1));
    assertEquals(Inherit.NONE, run.lineAt(1, BASE + 0x1000).inherit());
  }

  // INH-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void minheritNone_theSharedPage_childHasNoSharedPage(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            minherit 1 0x7ffffffff000 1 none -> ok
            fork 1 2
            read 2 0x7ffffffff000 -> SEGV
            read 1 0x7ffffffff000 -> 0xc0de0000
            """);
    assertEquals(List.of(), run.maps(2));
  }

  // INH-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void minheritZero_wiredPrivateAnon_childFreshZerosParentKeepsEverything(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 3 rw private anon
            write 1 0x10000000 1
            write 1 0x10002ff8 3
            mlock 1 0x10000000 3
            minherit 1 0x10000000 3 zero -> ok
            fork 1 2
            read 2 0x10000000 -> 0
            read 2 0x10002ff8 -> 0
            write 2 0x10001000 7
            read 1 0x10001000 -> 0
            read 1 0x10000000 -> 1
            read 1 0x10002ff8 -> 3
            """);
    assertEquals(
        mapping(BASE, 3, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.ZERO, false),
        run.maps(2).get(0));
    assertEquals(
        mapping(BASE, 3, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.ZERO, true),
        run.maps(1).get(0));
  }

  // INH-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void minheritZero_anyRangeNotWhollyPrivateAnon_einvalAndNothingChanges(NamedSystem sys) {
    replay(
            sys,
            """
            file f 1
            shmget 1 1
            spawn 1
            mmap 1 0 1 rw private anon -> 0x10000000
            mmap 1 0 1 rw private file f 0 -> 0x10001000
            mmap 1 0 1 rw shared file f 0 -> 0x10002000
            mmap 1 0 1 rw shared shm 1 -> 0x10003000
            mmap 1 0 1 rw private shm 1 -> 0x10004000
            mmap 1 0 1 rw shared anon -> 0x10005000
            write 1 0x10000000 5
            """)
        .unchanged("minherit 1 0x10001000 1 zero -> EINVAL")
        .unchanged("minherit 1 0x10002000 1 zero -> EINVAL")
        .unchanged("minherit 1 0x10003000 1 zero -> EINVAL")
        .unchanged("minherit 1 0x10004000 1 zero -> EINVAL")
        .unchanged("minherit 1 0x10005000 1 zero -> EINVAL")
        .unchanged("minherit 1 0x7ffffffff000 1 zero -> EINVAL")
        .unchanged("minherit 1 0x10000000 2 zero -> EINVAL")
        .then("fork 1 2\nread 2 0x10000000 -> 5\n");
  }

  // INH-7
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void minherit_holesOrBadArguments_failAndNothingChanges(NamedSystem sys) {
    replay(
            sys,
            """
            spawn 1
            mmap 1 0x10000000 1 rw private anon -> 0x10000000
            mmap 1 0x10002000 1 rw private anon -> 0x10002000
            write 1 0x10000000 5
            """)
        .unchanged("minherit 1 0x10000000 3 none -> ENOMEM")
        .unchanged("minherit 1 0xffff000 2 share -> ENOMEM")
        .unchanged("minherit 1 0x10002000 2 zero -> ENOMEM")
        .unchanged("minherit 1 0x10001000 1 copy -> ENOMEM")
        .unchanged("minherit 1 0x10000008 1 none -> EINVAL")
        .unchanged("minherit 1 0x10000000 0 none -> EINVAL")
        .then("fork 1 2\nread 2 0x10000000 -> 5\nread 2 0x10002000 -> 0\n");
  }

  // INH-8
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void minherit_partsOfAMapping_splitAtRangeEndsAndCarriedByDescendants(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 4 rw private anon
            write 1 0x10000000 1
            write 1 0x10002000 2
            minherit 1 0x10001000 2 zero -> ok
            minherit 1 0x10003000 1 share -> ok
            fork 1 2
            write 2 0x10002000 3
            write 2 0x10003000 4
            fork 2 3
            read 3 0x10002000 -> 0
            read 3 0x10000000 -> 1
            read 1 0x10003000 -> 4
            read 3 0x10003000 -> 4
            """);
    List<Mapping> expected =
        List.of(
            mapping(BASE, 1, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false),
            mapping(BASE + 0x1000, 2, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.ZERO, false),
            mapping(
                BASE + 0x3000, 1, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.SHARE, false));
    for (int pid : new int[] {1, 2, 3}) {
      assertEquals(expected, run.maps(pid).subList(0, 3), "pid " + pid);
    }
  }
}
