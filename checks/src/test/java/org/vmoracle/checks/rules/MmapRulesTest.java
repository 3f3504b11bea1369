package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vmoracle.checks.rules.RuleHarness.BASE;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.mapping;
import static org.vmoracle.checks.rules.RuleHarness.replay;
import static org.vmoracle.checks.rules.RuleHarness.value;

import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Mapping;
import org.vmoracle.spec.Mapping.Backing;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/** MMAP-*: making mappings. */
class MmapRulesTest {

  // MMAP-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_everyProtectionAndSharing_lineMatchesTheArguments(NamedSystem sys) {
    for (Prot prot : Prot.values()) {
      for (Sharing sharing : Sharing.values()) {
        Run run = replay(sys, "spawn 1\n");
        assertEquals(
            value(BASE), run.apply(new Op.Mmap(1, 0, 3, prot, sharing, new Source.Anon(), false)));
        Mapping expected =
            mapping(BASE, 3, prot, sharing, Backing.ANON, sharing.defaultInherit(), false);
        assertEquals(expected, run.lineAt(1, BASE), prot + " " + sharing);
        assertEquals(2, run.maps(1).size());
      }
    }
  }

  // MMAP-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_fileAndShmSources_linesShowBackingAndInheritance(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 3 4
            spawn 1
            mmap 1 0 3 r shared file lib/libc 5 -> 0x10000000
            mmap 1 0 2 rwx private file lib/libc 8 -> 0x10003000
            mmap 1 0 4 rw shared shm 3 -> 0x10005000
            mmap 1 0 1 rx private shm 3 -> 0x10009000
            read 1 0x10002ff8 -> 0x300000fff
            read 1 0x10003000 -> 0x300001000
            read 1 0x1000a000 -> SEGV
            """);
    assertEquals(
        List.of(
            mapping(
                BASE, 3, Prot.R, Sharing.SHARED, Backing.file("lib/libc", 5), Inherit.SHARE, false),
            mapping(
                BASE + 0x3000,
                2,
                Prot.RWX,
                Sharing.PRIVATE,
                Backing.file("lib/libc", 8),
                Inherit.COPY,
                false),
            mapping(
                BASE + 0x5000, 4, Prot.RW, Sharing.SHARED, Backing.shm(3, 0), Inherit.SHARE, false),
            mapping(
                BASE + 0x9000,
                1,
                Prot.RX,
                Sharing.PRIVATE,
                Backing.shm(3, 0),
                Inherit.COPY,
                false)),
        run.maps(1).subList(0, 4));
  }

  // MMAP-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_unalignedAddressOrZeroLength_einvalAndNothingChanges(NamedSystem sys) {
    replay(
            sys,
            """
            spawn 1
            mmap 1 0 2 rw private anon -> 0x10000000
            write 1 0x10000000 5
            """)
        .unchanged("mmap 1 0x10000008 1 rw private anon -> EINVAL")
        .unchanged("mmap 1 0x1 1 rw private anon -> EINVAL")
        .unchanged("mmap 1 0x20000fff 1 rw shared anon -> EINVAL")
        .unchanged("mmap 1 0x10000800 1 rw private anon fixed -> EINVAL")
        .unchanged("mmap 1 0 0 rw private anon -> EINVAL")
        .unchanged("mmap 1 0x10000000 0 rw private anon fixed -> EINVAL")
        .unchanged("mmap 1 0 0 r private file bin/static 0 -> EINVAL")
        .then("read 1 0x10000000 -> 5");
  }

  // MMAP-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_fileAtOffsetNearItsEnd_pagesFromOffsetThenBus(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        mmap 1 0 4 r private file lib/libc 65 -> 0x10000000
        read 1 0x10000000 -> 0x300008200
        read 1 0x10002ff8 -> 0x3000087ff
        read 1 0x10003000 -> BUS
        read 1 0x10003ff8 -> BUS
        read 1 0x10004000 -> SEGV
        """);
  }

  // MMAP-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_fileWhollyPastItsEnd_succeedsAndEveryAccessBus(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 2 rw shared file bin/static 20 -> 0x10000000
            mmap 1 0 1 rw private file bin/static 1000 -> 0x10002000
            read 1 0x10000000 -> BUS
            write 1 0x10001000 1 -> BUS
            write 1 0x10002000 1 -> BUS
            fread bin/static 0x14000 -> EINVAL
            """);
    assertEquals(Backing.file("bin/static", 20), run.lineAt(1, BASE).backing());
    assertEquals(Backing.file("bin/static", 1000), run.lineAt(1, BASE + 0x2000).backing());
    assertTrue(run.words(1, BASE, 3).isEmpty());
    assertEquals(20L, run.view().filePages().get("bin/static"));
  }

  // MMAP-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_missingFile_enoentEvenFixedKeepsWhatWasThere(NamedSystem sys) {
    replay(
            sys,
            """
            spawn 1
            mmap 1 0 1 rw private anon -> 0x10000000
            write 1 0x10000000 5
            """)
        .unchanged("mmap 1 0x10000000 1 r shared file nosuch 0 fixed -> ENOENT")
        .unchanged("mmap 1 0 1 r private file bin/stat 0 -> ENOENT")
        .then("read 1 0x10000000 -> 5");
  }

  // MMAP-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_shm_mapsTheSegmentFromItsFirstPage(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 5 3
            spawn 1
            mmap 1 0 2 rw shared shm 5 -> 0x10000000
            write 1 0x10001008 7
            mmap 1 0 3 r shared shm 5 -> 0x10002000
            read 1 0x10003008 -> 7
            read 1 0x10002008 -> 0
            """);
    assertEquals(Backing.shm(5, 0), run.lineAt(1, BASE).backing());
    assertEquals(Backing.shm(5, 0), run.lineAt(1, BASE + 0x2000).backing());
  }

  // MMAP-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_unknownKey_enoentEvenFixedKeepsWhatWasThere(NamedSystem sys) {
    replay(
            sys,
            """
            shmget 5 1
            spawn 1
            mmap 1 0 1 rw shared shm 5 -> 0x10000000
            write 1 0x10000000 5
            """)
        .unchanged("mmap 1 0x10000000 1 rw shared shm 6 fixed -> ENOENT")
        .unchanged("mmap 1 0 1 rw private shm 0 -> ENOENT")
        .then("read 1 0x10000000 -> 5");
  }

  // MMAP-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_sharedAnonTwice_twoZeroFilledObjectsEachSharedWithChild(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        mmap 1 0 2 rw shared anon -> 0x10000000
        mmap 1 0 2 rw shared anon -> 0x10002000
        read 1 0x10001ff8 -> 0
        read 1 0x10003ff8 -> 0
        fork 1 2
        write 2 0x10000000 1
        write 2 0x10002000 2
        read 1 0x10000000 -> 1
        read 1 0x10002000 -> 2
        write 1 0x10001000 3
        read 2 0x10001000 -> 3
        read 2 0x10003000 -> 0
        mmap 1 0 1 rw shared anon -> 0x10004000
        read 2 0x10004000 -> SEGV
        """);
  }

  // MMAP-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_hintUnusable_placedAsForAddressZero(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        mmap 1 0x20000000 2 rw private anon -> 0x20000000
        mmap 1 0x1ffff000 2 rw private anon -> 0x10000000
        mmap 1 0x20001000 1 rw private anon -> 0x10002000
        mmap 1 0x800000000000 1 rw private anon -> 0x10003000
        mmap 1 0x7fffffffe000 2 rw private anon -> 0x10004000
        mmap 1 0x7fffffffe000 1 rw private anon -> 0x7fffffffe000
        mmap 1 0x10008000 1 rw private anon -> 0x10008000
        mmap 1 0 1 rw private anon -> 0x10006000
        """);
  }

  // MMAP-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_freeHintAbovePlacementLimit_usedUpToTheEndOfUserSpace(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        munmap 1 0x7ffffffff000 1 -> ok
        mmap 1 0x7fffffffe000 2 rw private anon -> 0x7fffffffe000
        write 1 0x7ffffffffff8 5 -> ok
        munmap 1 0x7fffffffe000 2
        mmap 1 0x7fffffffe000 3 rw private anon -> 0x10000000
        """);
  }

  // MMAP-7
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmapFixed_middleOfWiredMapping_splitsDropsContentsAndWiringThere(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 4 rw private anon -> 0x10000000
            write 1 0x10000000 1
            write 1 0x10001000 2
            write 1 0x10002000 3
            write 1 0x10003000 4
            mlock 1 0x10000000 4 -> ok
            mmap 1 0x10001000 2 r shared file lib/libc 0 fixed -> 0x10001000
            read 1 0x10000000 -> 1
            read 1 0x10001000 -> 0x300000000
            read 1 0x10002000 -> 0x300000200
            read 1 0x10003000 -> 4
            write 1 0x10002000 9 -> SEGV
            """);
    assertEquals(
        List.of(
            mapping(BASE, 1, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, true),
            mapping(
                BASE + 0x1000,
                2,
                Prot.R,
                Sharing.SHARED,
                Backing.file("lib/libc", 0),
                Inherit.SHARE,
                false),
            mapping(BASE + 0x3000, 1, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, true)),
        run.maps(1).subList(0, 3));
  }

  // MMAP-7
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmapFixed_overSeveralMappingsAndHoles_replacesAll(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0x10000000 1 rw private anon -> 0x10000000
            mmap 1 0x10002000 1 rw shared anon -> 0x10002000
            mmap 1 0x10004000 2 r private file bin/static 0 -> 0x10004000
            write 1 0x10000000 1
            write 1 0x10002000 2
            mmap 1 0x10000000 5 rw private anon fixed -> 0x10000000
            read 1 0x10000000 -> 0
            read 1 0x10002000 -> 0
            read 1 0x10004000 -> 0
            read 1 0x10005000 -> 0x100000200
            """);
    assertEquals(
        mapping(BASE, 5, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false),
        run.maps(1).get(0));
    assertEquals(Backing.file("bin/static", 1), run.lineAt(1, BASE + 0x5000).backing());
  }

  // MMAP-7
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmapFixed_outsideUserRange_enomemAndNothingChanges(NamedSystem sys) {
    replay(sys, "spawn 1\nmmap 1 0 1 rw private anon\n")
        .unchanged("mmap 1 0x7ffffffff000 2 rw private anon fixed -> ENOMEM")
        .unchanged("mmap 1 0x800000000000 1 rw private anon fixed -> ENOMEM")
        .unchanged("mmap 1 0x1000 0x800000000 rw private anon fixed -> ENOMEM")
        .unchanged("mmap 1 0 1 rw private anon fixed -> ENOMEM")
        .then("read 1 0x7ffffffff000 -> 0xc0de0000");
  }

  // MMAP-7
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmapFixed_overTheSharedPageUpToTheTop_replacesIt(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0x7ffffffff000 1 rw private anon fixed -> 0x7ffffffff000
            read 1 0x7ffffffff000 -> 0
            write 1 0x7ffffffffff8 5 -> ok
            """);
    assertEquals(
        List.of(
            mapping(
                0x7ffffffff000L, 1, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false)),
        run.maps(1));
  }

  // MMAP-8
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_protNone_lineShownNoWordsEveryAccessSegv(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 1
            fwrite f 0 5
            spawn 1
            mmap 1 0 1 none shared file f 0 -> 0x10000000
            mmap 1 0 1 none private anon -> 0x10001000
            read 1 0x10000000 -> SEGV
            write 1 0x10000000 1 -> SEGV
            read 1 0x10001000 -> SEGV
            write 1 0x10001000 1 -> SEGV
            fread f 0 -> 5
            """);
    assertEquals(Prot.NONE, run.lineAt(1, BASE).prot());
    assertEquals(Prot.NONE, run.lineAt(1, BASE + 0x1000).prot());
    assertTrue(run.words(1, BASE, 2).isEmpty());
    run.then("mprotect 1 0x10000000 1 r -> ok\nread 1 0x10000000 -> 5\n");
    assertEquals(5L, run.words(1, BASE, 1).get(BASE));
  }

  // MMAP-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_largeMapping_wholeRangeUsableAndNothingBeyond(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 1000 rw private anon -> 0x10000000
            write 1 0x103e7ff8 5 -> ok
            read 1 0x103e8000 -> SEGV
            mmap 1 0 1 rw private anon -> 0x103e8000
            """);
    assertEquals(
        mapping(BASE, 1001, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false),
        run.maps(1).get(0));
  }
}
