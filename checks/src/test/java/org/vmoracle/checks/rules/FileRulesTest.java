package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.vmoracle.checks.rules.RuleHarness.BASE;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.replay;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Mapping;

/** FILE-*: files, and mappings of them. */
class FileRulesTest {

  // FILE-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void file_createShrinkGrowToZero_sizesShownAndContentBeforeTheEndKept(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 3 -> ok
            fread f 0x2ff8 -> 0
            fwrite f 0 1
            fwrite f 0x2000 2
            file f 1 -> ok
            """);
    assertEquals(1L, run.view().filePages().get("f"));
    run.then(
        """
        fread f 0 -> 1
        fread f 0x1000 -> EINVAL
        file f 3 -> ok
        fread f 0x2000 -> 0
        fread f 0 -> 1
        file f 0 -> ok
        fread f 0 -> EINVAL
        file g 0 -> ok
        """);
    assertEquals(0L, run.view().filePages().get("f"));
    assertEquals(0L, run.view().filePages().get("g"));
    run.then("file f 2 -> ok\nfread f 0 -> 0\n");
  }

  // FILE-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void file_bootFileResized_likeAnyFile(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file lib/libc 1 -> ok
            fread lib/libc 0xff8 -> 0x3000001ff
            fread lib/libc 0x1000 -> EINVAL
            file lib/libc 2 -> ok
            fread lib/libc 0x1000 -> 0
            """);
    assertEquals(
        Map.of("bin/static", 20L, "bin/dynamic", 20L, "lib/libc", 2L), run.view().filePages());
  }

  // FILE-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void fwriteFread_manyOffsetsAndValues_roundTrip(NamedSystem sys) {
    replay(
        sys,
        """
        file f 2
        fwrite f 0 0xffffffffffffffff -> ok
        fwrite f 0x1ff8 0x8000000000000000 -> ok
        fwrite f 8 1 -> ok
        fwrite f 8 2 -> ok
        fread f 0 -> -1
        fread f 8 -> 2
        fread f 0x10 -> 0
        fread f 0x1ff8 -> 0x8000000000000000
        fwrite bin/static 0x13ff8 5 -> ok
        fread bin/static 0x13ff8 -> 5
        fread bin/static 0x13ff0 -> 0x1000027fe
        """);
  }

  // FILE-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void fwriteFread_missingFile_enoentAndNotCreated(NamedSystem sys) {
    Run run =
        replay(sys, "file f 1\n")
            .unchanged("fwrite nosuch 0 1 -> ENOENT")
            .unchanged("fread nosuch 0 -> ENOENT")
            .unchanged("fwrite bin 0x1000 1 -> ENOENT")
            .unchanged("fread F 0 -> ENOENT");
    assertFalse(run.view().filePages().containsKey("nosuch"));
  }

  // FILE-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void fwrite_atOrPastTheEnd_growsToHoldThatPageOnly(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 1
            file g 0
            fwrite f 0x1000 1 -> ok
            fwrite f 0x9ff8 2 -> ok
            fwrite g 0 3 -> ok
            fwrite f 0 4 -> ok
            fread f 0x5000 -> 0
            fread f 0x1000 -> 1
            fread f 0x9ff8 -> 2
            fread f 0xa000 -> EINVAL
            fread g 0 -> 3
            fread g 0x1000 -> EINVAL
            """);
    assertEquals(10L, run.view().filePages().get("f"));
    assertEquals(1L, run.view().filePages().get("g"));
  }

  // FILE-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void fread_atOrPastTheEnd_einvalAndNothingChanges(NamedSystem sys) {
    replay(sys, "file f 2\nfile e 0\n")
        .unchanged("fread f 0x2000 -> EINVAL")
        .unchanged("fread f 0x100000 -> EINVAL")
        .unchanged("fread e 0 -> EINVAL")
        .unchanged("fread bin/static 0x14000 -> EINVAL")
        .unchanged("fread lib/libc 0x44000 -> EINVAL")
        .then("fread f 0x1ff8 -> 0\nfread lib/libc 0x43ff8 -> 0x3000087ff\n");
  }

  // FILE-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void readWrite_filePagePastTheEnd_busSharedOrPrivateAndNoWordsShown(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 1
            fwrite f 0 9
            spawn 1
            mmap 1 0 3 rw shared file f 0 -> 0x10000000
            mmap 1 0 3 rw private file f 0 -> 0x10003000
            mmap 1 0 1 rw shared file f 5 -> 0x10006000
            read 1 0x10000000 -> 9
            read 1 0x10003000 -> 9
            """);
    for (String addr :
        List.of("0x10001000", "0x10002ff8", "0x10004000", "0x10005008", "0x10006000")) {
      run.unchanged("read 1 " + addr + " -> BUS");
    }
    run.unchanged("write 1 0x10001000 1 -> BUS")
        .unchanged("write 1 0x10004000 1 -> BUS")
        .unchanged("write 1 0x10006000 1 -> BUS");
    assertEquals(Map.of(BASE, 9L, BASE + 0x3000, 9L), run.words(1, BASE, 7));
    assertEquals(1L, run.view().filePages().get("f"));
  }

  // FILE-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void sharedFileMappings_atDifferentOffsetsInTwoProcesses_areTheFile(NamedSystem sys) {
    replay(
        sys,
        """
        file f 3
        spawn 1
        spawn 2
        mmap 1 0 3 rw shared file f 0 -> 0x10000000
        mmap 2 0 2 rw shared file f 1 -> 0x10000000
        write 1 0x10001008 7
        read 2 0x10000008 -> 7
        fread f 0x1008 -> 7
        fwrite f 0x2000 8
        read 1 0x10002000 -> 8
        read 2 0x10001000 -> 8
        write 2 0x10001ff8 9
        read 1 0x10002ff8 -> 9
        fread f 0x2ff8 -> 9
        mmap 1 0 1 r shared file f 2 -> 0x10003000
        read 1 0x10003ff8 -> 9
        """);
  }

  // FILE-7
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmapPrivateFile_fileAndSharedStores_seenUntilCopiedNeverAfter(NamedSystem sys) {
    replay(
        sys,
        """
        file f 2
        spawn 1
        spawn 2
        mmap 1 0 2 rw private file f 0 -> 0x10000000
        mmap 2 0 2 rw shared file f 0 -> 0x10000000
        write 2 0x10000000 5
        read 1 0x10000000 -> 5
        write 1 0x10000008 6
        read 1 0x10000000 -> 5
        write 2 0x10000000 7
        fwrite f 0x10 8
        read 1 0x10000000 -> 5
        read 1 0x10000010 -> 0
        read 2 0x10000008 -> 0
        fread f 8 -> 0
        write 2 0x10001000 9
        read 1 0x10001000 -> 9
        fwrite f 0x1000 10
        read 1 0x10001000 -> 10
        """);
  }

  // FILE-8
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void truncate_copiedAndUncopiedPagesPastEnd_busThenFileZerosAfterGrowth(NamedSystem sys) {
    replay(
        sys,
        """
        file f 3
        fwrite f 0x2000 1
        spawn 1
        mmap 1 0 3 rw private file f 0 -> 0x10000000
        mmap 1 0 3 rw shared file f 0 -> 0x10003000
        write 1 0x10001000 7
        write 1 0x10000000 6
        write 1 0x10004008 3
        file f 1 -> ok
        read 1 0x10000000 -> 6
        read 1 0x10001000 -> BUS
        read 1 0x10002000 -> BUS
        write 1 0x10002000 2 -> BUS
        read 1 0x10004008 -> BUS
        file f 3 -> ok
        read 1 0x10001000 -> 0
        read 1 0x10002000 -> 0
        read 1 0x10004008 -> 0
        read 1 0x10000000 -> 6
        fwrite f 0x1000 4
        read 1 0x10001000 -> 4
        read 1 0x10004000 -> 4
        """);
  }

  // FILE-8
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void truncate_wiredPrivateCopyPastEnd_busThenFileAfterGrowth(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 2
            spawn 1
            mmap 1 0 2 rw private file f 0 -> 0x10000000
            write 1 0x10001000 7
            mlock 1 0x10000000 2 -> ok
            fork 1 2
            file f 1
            read 1 0x10001000 -> BUS
            read 2 0x10001000 -> BUS
            file f 2
            read 1 0x10001000 -> 0
            read 2 0x10001000 -> 0
            """);
    assertTrue(run.wired(1, BASE, 2));
  }

  // FILE-9
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void growth_pagesOfExistingMappingsPastTheOldEnd_becomeAccessible(NamedSystem sys) {
    replay(
        sys,
        """
        file f 0
        spawn 1
        mmap 1 0 2 rw private file f 0 -> 0x10000000
        mmap 1 0 2 r shared file f 0 -> 0x10002000
        read 1 0x10000000 -> BUS
        read 1 0x10003000 -> BUS
        fwrite f 0x1008 3 -> ok
        read 1 0x10001008 -> 3
        read 1 0x10003008 -> 3
        read 1 0x10000000 -> 0
        write 1 0x10000000 1 -> ok
        fread f 0 -> 0
        read 1 0x10002000 -> 0
        """);
  }

  // FILE-10
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void file_afterMunmapExecAndExitOfItsUsers_keepsItsContents(NamedSystem sys) {
    replay(
        sys,
        """
        file f 2
        spawn 1
        spawn 2
        mmap 1 0 2 rw shared file f 0
        mmap 2 0 2 rw private file f 0
        write 1 0x10000000 5
        write 2 0x10001000 6
        munmap 1 0x10000000 1
        fread f 0 -> 5
        write 1 0x10001000 7
        exec 1 static
        fread f 0x1000 -> 7
        exit 2
        fread f 0x1000 -> 7
        exit 1
        fread f 0 -> 5
        fread f 0x1000 -> 7
        """);
  }

  // FILE-11
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void truncateAndGrow_mappedFile_everyMapLineStays(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 4
            spawn 1
            mmap 1 0 4 rw shared file f 0
            mmap 1 0 2 rw private file f 2
            mmap 1 0 1 r shared file f 3
            write 1 0x10004000 1
            mlock 1 0x10000000 1
            fork 1 2
            """);
    List<Mapping> one = run.maps(1);
    List<Mapping> two = run.maps(2);
    run.then("file f 0 -> ok\nread 1 0x10000000 -> BUS\n");
    assertEquals(one, run.maps(1));
    assertEquals(two, run.maps(2));
    run.then("file f 9 -> ok\nread 1 0x10000000 -> 0\n");
    assertEquals(one, run.maps(1));
    assertEquals(two, run.maps(2));
  }

  // FILE-12, FILE-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void fwrite_lastWordOfTheLargestFile_growsItTo2pow35Pages(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 1
            fwrite f 0x7ffffffffff8 7 -> ok
            fread f 0x7ffffffffff8 -> 7
            fread f 0x7ffffffff000 -> 0
            fread f 0x1000 -> 0
            """);
    assertEquals(1L << 35, run.view().filePages().get("f"));
  }

  // FILE-12, ERR-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void fwrite_atOrPastTheLargestFile_efbigAndNothingChanges(NamedSystem sys) {
    Run run = replay(sys, "file f 1\nfwrite f 0 5\nspawn 1\nmmap 1 0 2 rw shared file f 0\n");
    run.unchanged("fwrite f 0x800000000000 1 -> EFBIG")
        .unchanged("fwrite f 0x800000000ff8 1 -> EFBIG")
        .unchanged("fwrite f 0x1000000000000 1 -> EFBIG")
        .unchanged("fwrite bin/static 0x4000000000000000 1 -> EFBIG")
        .unchanged("fwrite f 0x7ffffffffffffff8 1 -> EFBIG")
        .unchanged("fread f 0x7ffffffffffffff8 -> EINVAL")
        .unchanged("fwrite nosuch 0x7ffffffffffffff8 1 -> ENOENT");
    assertEquals(1L, run.view().filePages().get("f"));
    run.then("fread f 0 -> 5\nread 1 0x10000000 -> 5\nread 1 0x10001000 -> BUS\n");
  }

  // FILE-12, MMAP-3, FILE-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_largestFileAtTheLargestPageOffsets_mapsAndFaultsInRange(NamedSystem sys) {
    // The largest page index an object can be asked for: PGOFF 2^35 plus a mapping of all of user
    // space. Pages past the end give BUS; the last page of a file of 2^35 pages reads the file.
    replay(
        sys,
        """
        file f 0x800000000
        fwrite f 0x7ffffffffff8 9
        spawn 1
        mmap 1 0 1 r shared file f 0x7ffffffff -> 0x10000000
        read 1 0x10000ff8 -> 9
        mmap 1 0x1000 0x7fffffffe rw private file f 0x800000000 fixed -> 0x1000
        read 1 0x7fffffffd000 -> BUS
        write 1 0x7fffffffdff8 1 -> BUS
        mlock 1 0x7fffffffd000 1 -> ENOMEM
        read 1 0x1000 -> BUS
        file f 0
        mmap 1 0x10000000 1 rw shared file f 0x7ffffffff fixed -> 0x10000000
        read 1 0x10000000 -> BUS
        """);
  }
}
