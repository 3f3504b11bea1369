package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vmoracle.checks.rules.RuleHarness.BASE;
import static org.vmoracle.checks.rules.RuleHarness.SHARED_PAGE_LINE;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.mapping;
import static org.vmoracle.checks.rules.RuleHarness.replay;
import static org.vmoracle.checks.rules.RuleHarness.sharedPageWords;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Mapping.Backing;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;

/** UNMAP-*: removing mappings. */
class UnmapRulesTest {

  // UNMAP-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void munmap_rangeOverMappingsOfEveryKind_removesThemAll(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 1 2
            spawn 1
            mmap 1 0 2 rw private anon -> 0x10000000
            mmap 1 0 2 rw shared file lib/libc 0 -> 0x10002000
            mmap 1 0 2 rw shared shm 1 -> 0x10004000
            mmap 1 0 2 r private file bin/static 0 -> 0x10006000
            write 1 0x10000000 1
            write 1 0x10004000 2
            mlock 1 0x10000000 8
            munmap 1 0x10000000 8 -> ok
            read 1 0x10000000 -> SEGV
            read 1 0x10002000 -> SEGV
            write 1 0x10004000 1 -> SEGV
            read 1 0x10007ff8 -> SEGV
            """);
    assertEquals(SHARED_PAGE_LINE, run.mapsText(1));
    assertEquals(sharedPageWords(), run.words(1));
  }

  // UNMAP-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void munmap_theSharedPage_removedFromThisProcessOnly(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            fork 1 2
            munmap 1 0x7ffffffff000 1 -> ok
            read 1 0x7ffffffff000 -> SEGV
            read 2 0x7ffffffff000 -> 0xc0de0000
            """);
    assertEquals(List.of(), run.maps(1));
    assertTrue(run.words(1).isEmpty());
  }

  // UNMAP-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void munmap_middleOfWiredFileMapping_restKeepsOffsetsProtInheritWiringContents(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 4 rw private file lib/libc 2 -> 0x10000000
            write 1 0x10003000 9
            minherit 1 0x10000000 4 none -> ok
            mlock 1 0x10000000 4 -> ok
            munmap 1 0x10001000 2 -> ok
            read 1 0x10000000 -> 0x300000400
            read 1 0x10001000 -> SEGV
            read 1 0x10002ff8 -> SEGV
            read 1 0x10003000 -> 9
            read 1 0x10003008 -> 0x300000a01
            """);
    assertEquals(
        List.of(
            mapping(
                BASE, 1, Prot.RW, Sharing.PRIVATE, Backing.file("lib/libc", 2), Inherit.NONE, true),
            mapping(
                BASE + 0x3000,
                1,
                Prot.RW,
                Sharing.PRIVATE,
                Backing.file("lib/libc", 5),
                Inherit.NONE,
                true)),
        run.maps(1).subList(0, 2));
  }

  // UNMAP-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void munmap_firstAndLastPages_middleStaysWithItsOffset(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 2 3
            spawn 1
            mmap 1 0 3 rw shared shm 2 -> 0x10000000
            write 1 0x10001000 7
            munmap 1 0x10000000 1
            munmap 1 0x10002000 1
            read 1 0x10001000 -> 7
            read 1 0x10000000 -> SEGV
            """);
    assertEquals(
        mapping(BASE + 0x1000, 1, Prot.RW, Sharing.SHARED, Backing.shm(2, 1), Inherit.SHARE, false),
        run.maps(1).get(0));
  }

  // UNMAP-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void munmap_rangeWithHolesOrNothingMapped_okRemovingWhatIsThere(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0x20000000 1 rw private anon -> 0x20000000
            mmap 1 0x20002000 2 rw private anon -> 0x20002000
            munmap 1 0x1ffff000 4 -> ok
            read 1 0x20000000 -> SEGV
            read 1 0x20003000 -> 0
            munmap 1 0 16 -> ok
            munmap 1 0x7fffffff0000 16 -> ok
            read 1 0x7ffffffff000 -> SEGV
            munmap 1 0x30000000 0x100000 -> ok
            """);
    assertEquals(
        List.of(
            mapping(0x20003000L, 1, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false)),
        run.maps(1));
  }

  // UNMAP-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void munmap_badArguments_einvalAndNothingChanges(NamedSystem sys) {
    replay(sys, "spawn 1\nmmap 1 0 2 rw private anon\nwrite 1 0x10000000 5\n")
        .unchanged("munmap 1 0x10000008 1 -> EINVAL")
        .unchanged("munmap 1 0x10000800 2 -> EINVAL")
        .unchanged("munmap 1 0x10000000 0 -> EINVAL")
        .unchanged("munmap 1 0x7ffffffff000 2 -> EINVAL")
        .unchanged("munmap 1 0x800000000000 1 -> EINVAL")
        .unchanged("munmap 1 0x1000 0x800000000 -> EINVAL")
        .then("munmap 1 0x7fffffffe000 2 -> ok\nread 1 0x10000000 -> 5\n");
  }

  // UNMAP-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void munmap_privateFileAndAnon_copiesGoneForGood(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        mmap 1 0 2 rw private file lib/libc 0 -> 0x10000000
        mmap 1 0 1 rw private anon -> 0x10002000
        write 1 0x10000000 5
        write 1 0x10002000 6
        munmap 1 0x10000000 3
        fread lib/libc 0 -> 0x300000000
        mmap 1 0 2 rw private file lib/libc 0 -> 0x10000000
        mmap 1 0 1 rw private anon -> 0x10002000
        read 1 0x10000000 -> 0x300000000
        read 1 0x10000008 -> 0x300000001
        read 1 0x10002000 -> 0
        fwrite lib/libc 0 7
        read 1 0x10000000 -> 7
        """);
  }

  // UNMAP-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void munmap_sharedRanges_objectKeepsContentsForOthersAndFile(NamedSystem sys) {
    replay(
        sys,
        """
        file f 1
        spawn 1
        mmap 1 0 1 rw shared anon -> 0x10000000
        mmap 1 0 1 rw shared file f 0 -> 0x10001000
        write 1 0x10000000 5
        write 1 0x10001000 6
        fork 1 2
        munmap 1 0x10000000 2 -> ok
        read 2 0x10000000 -> 5
        write 2 0x10000000 8
        read 2 0x10000000 -> 8
        fread f 0 -> 6
        mmap 1 0 1 rw shared anon -> 0x10000000
        read 1 0x10000000 -> 0
        mmap 1 0 1 rw shared file f 0 -> 0x10001000
        read 1 0x10001000 -> 6
        """);
  }

  // UNMAP-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void munmap_middleOfWiredRange_restWiredNewMappingNot(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 3 rw private anon
            mlock 1 0x10000000 3 -> ok
            munmap 1 0x10001000 1 -> ok
            mmap 1 0 1 rw private anon -> 0x10001000
            """);
    assertTrue(run.wired(1, BASE, 1));
    assertFalse(run.wired(1, BASE + 0x1000, 1));
    assertTrue(run.wired(1, BASE + 0x2000, 1));
    assertEquals(4, run.maps(1).size());
    run.then("munmap 1 0x10000000 3 -> ok\nmmap 1 0 3 rw private anon -> 0x10000000\n");
    assertFalse(run.anyWired(1));
    run.then("munlock 1 0x10000000 3 -> ok");
  }
}
