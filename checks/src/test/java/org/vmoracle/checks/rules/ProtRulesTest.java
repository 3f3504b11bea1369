package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vmoracle.checks.rules.RuleHarness.BASE;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.failed;
import static org.vmoracle.checks.rules.RuleHarness.mapping;
import static org.vmoracle.checks.rules.RuleHarness.replay;
import static org.vmoracle.checks.rules.RuleHarness.value;

import java.util.List;
import java.util.NavigableMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Mapping.Backing;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/** PROT-*: protection and mprotect. */
class ProtRulesTest {

  // PROT-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void readWrite_everyProtectionAndSource_allowExactlyWhatItSays(NamedSystem sys) {
    List<Source> sources =
        List.of(new Source.Anon(), new Source.FileRange("f", 0), new Source.Shm(1));
    for (Prot prot : Prot.values()) {
      for (Sharing sharing : Sharing.values()) {
        for (Source source : sources) {
          Run run = replay(sys, "file f 1\nfwrite f 0 3\nshmget 1 1\nspawn 1\n");
          String what = prot + " " + sharing + " " + source;
          assertEquals(
              value(BASE), run.apply(new Op.Mmap(1, 0, 1, prot, sharing, source, false)), what);
          long initial = source instanceof Source.FileRange ? 3 : 0;
          Result segv = failed(Errno.SEGV);
          assertEquals(
              prot.canRead() ? value(initial) : segv, run.apply(new Op.Read(1, BASE)), what);
          assertEquals(
              prot.canWrite() ? Result.OK : segv, run.apply(new Op.Write(1, BASE, 9)), what);
          assertEquals(
              prot.canRead() ? value(prot.canWrite() ? 9 : initial) : segv,
              run.apply(new Op.Read(1, BASE)),
              what);
        }
      }
    }
  }

  // PROT-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotect_middlePage_splitsIntoThreeLinesAndBackIntoOne(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 3 rw private anon
            write 1 0x10001000 4
            mprotect 1 0x10001000 1 r -> ok
            write 1 0x10001000 5 -> SEGV
            write 1 0x10000000 5 -> ok
            write 1 0x10002000 5 -> ok
            read 1 0x10001000 -> 4
            """);
    assertEquals(
        List.of(
            mapping(BASE, 1, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false),
            mapping(BASE + 0x1000, 1, Prot.R, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false),
            mapping(BASE + 0x2000, 1, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false)),
        run.maps(1).subList(0, 3));
    run.then("mprotect 1 0x10001000 1 rw -> ok\nwrite 1 0x10001000 6 -> ok\n");
    assertEquals(
        mapping(BASE, 3, Prot.RW, Sharing.PRIVATE, Backing.ANON, Inherit.COPY, false),
        run.maps(1).get(0));
  }

  // PROT-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotect_acrossTwoMappingsOfDifferentKinds_bothChangedOnlyHere(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file f 2
            spawn 1
            mmap 1 0 2 rw shared file f 0 -> 0x10000000
            mmap 1 0 2 rw private anon -> 0x10002000
            write 1 0x10001000 1
            write 1 0x10002000 2
            fork 1 2
            mprotect 1 0x10001000 2 r -> ok
            write 1 0x10001000 3 -> SEGV
            write 1 0x10002000 3 -> SEGV
            write 1 0x10000000 3 -> ok
            write 1 0x10003000 3 -> ok
            write 2 0x10001000 4 -> ok
            read 1 0x10001000 -> 4
            write 2 0x10002000 5 -> ok
            read 1 0x10002000 -> 2
            """);
    assertEquals(Prot.R, run.lineAt(1, BASE + 0x1000).prot());
    assertEquals(Prot.R, run.lineAt(1, BASE + 0x2000).prot());
    assertEquals(Prot.RW, run.lineAt(1, BASE).prot());
    assertEquals(Prot.RW, run.lineAt(1, BASE + 0x3000).prot());
    assertEquals(Prot.RW, run.lineAt(2, BASE + 0x1000).prot());
  }

  // PROT-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotect_holeAfterTwoMappings_thoseChangedAnswerEnomemRestNot(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0x10000000 2 rw private anon -> 0x10000000
            mmap 1 0x10002000 1 rw shared file lib/libc 0 -> 0x10002000
            mmap 1 0x10004000 1 rw private anon -> 0x10004000
            mprotect 1 0x10000000 5 r -> ENOMEM
            write 1 0x10000000 1 -> SEGV
            write 1 0x10002000 1 -> SEGV
            write 1 0x10004000 1 -> ok
            """);
    assertEquals(Prot.R, run.lineAt(1, BASE).prot());
    assertEquals(Prot.R, run.lineAt(1, BASE + 0x2000).prot());
    assertEquals(Prot.RW, run.lineAt(1, BASE + 0x4000).prot());
  }

  // PROT-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotect_startsInHole_enomemAndNothingChanges(NamedSystem sys) {
    replay(sys, "spawn 1\nmmap 1 0 2 rw private anon\nwrite 1 0x10000000 5\n")
        .unchanged("mprotect 1 0xffff000 3 r -> ENOMEM")
        .unchanged("mprotect 1 0x10002000 1 r -> ENOMEM")
        .unchanged("mprotect 1 0x1000 1 none -> ENOMEM")
        .then("write 1 0x10000000 6 -> ok");
  }

  // PROT-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotect_rangePastTheLastMapping_mappedPartChangedEnomem(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0 2 rw private anon
            mprotect 1 0x10001000 4 none -> ENOMEM
            read 1 0x10001000 -> SEGV
            read 1 0x10000000 -> 0
            """);
    assertEquals(Prot.NONE, run.lineAt(1, BASE + 0x1000).prot());
    assertEquals(Prot.RW, run.lineAt(1, BASE).prot());
  }

  // PROT-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotect_badArguments_einvalAndNothingChanges(NamedSystem sys) {
    replay(sys, "spawn 1\nmmap 1 0 2 rw private anon\nwrite 1 0x10000000 5\n")
        .unchanged("mprotect 1 0x10000004 1 r -> EINVAL")
        .unchanged("mprotect 1 0x10000800 1 none -> EINVAL")
        .unchanged("mprotect 1 0x10000000 0 r -> EINVAL")
        .unchanged("mprotect 1 0x20000008 1 r -> EINVAL")
        .unchanged("mprotect 1 0x20000000 0 r -> EINVAL")
        .then("write 1 0x10000000 6 -> ok");
  }

  // PROT-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotectWritable_forkedPrivatePage_storeStillCopies(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        mmap 1 0 2 rw private anon
        write 1 0x10000000 1
        write 1 0x10001000 2
        fork 1 2
        mprotect 1 0x10000000 2 r -> ok
        mprotect 2 0x10000000 2 none -> ok
        mprotect 1 0x10000000 2 rwx -> ok
        mprotect 2 0x10000000 2 rw -> ok
        write 1 0x10000000 3 -> ok
        write 2 0x10001000 4 -> ok
        read 2 0x10000000 -> 1
        read 1 0x10001000 -> 2
        read 1 0x10000000 -> 3
        read 2 0x10001000 -> 4
        """);
  }

  // PROT-5
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotectWritable_readPrivateFilePage_storeCopiesFileAndOthersKeep(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        spawn 2
        mmap 1 0 1 r private file bin/static 0 -> 0x10000000
        mmap 2 0 1 r private file bin/static 0 -> 0x10000000
        read 1 0x10000000 -> 0x100000000
        read 2 0x10000000 -> 0x100000000
        mprotect 1 0x10000000 1 rwx -> ok
        write 1 0x10000008 5 -> ok
        fread bin/static 8 -> 0x100000001
        read 2 0x10000008 -> 0x100000001
        fwrite bin/static 0 7
        read 1 0x10000000 -> 0x100000000
        read 2 0x10000000 -> 7
        """);
  }

  // PROT-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotectWritable_rangeReachingTheSharedPage_earlierChangedThenEacces(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0x7fffffffe000 1 r private anon -> 0x7fffffffe000
            mprotect 1 0x7fffffffe000 2 rw -> EACCES
            write 1 0x7fffffffe000 1 -> ok
            write 1 0x7ffffffff000 1 -> SEGV
            read 1 0x7ffffffff000 -> 0xc0de0000
            """);
    assertEquals(Prot.RW, run.lineAt(1, 0x7fffffffe000L).prot());
    assertEquals(
        mapping(
            Boot.SHARED_PAGE,
            1,
            Prot.RX,
            Sharing.SHARED,
            Backing.SHARED_PAGE,
            Inherit.SHARE,
            false),
        run.lineAt(1, Boot.SHARED_PAGE));
  }

  // PROT-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotectWritable_holeBeforeTheSharedPage_enomemWinsOverEacces(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mmap 1 0x7fffffffd000 1 r private anon -> 0x7fffffffd000
            mprotect 1 0x7fffffffd000 3 rwx -> ENOMEM
            write 1 0x7fffffffd000 1 -> ok
            """);
    assertEquals(Prot.RWX, run.lineAt(1, 0x7fffffffd000L).prot());
    assertEquals(Prot.RX, run.lineAt(1, Boot.SHARED_PAGE).prot());
  }

  // PROT-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotect_sharedPageWithoutWrite_okAndReversible(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mprotect 1 0x7ffffffff000 1 none -> ok
            read 1 0x7ffffffff000 -> SEGV
            mprotect 1 0x7ffffffff000 1 r -> ok
            read 1 0x7ffffffff008 -> 0xc0de0001
            """);
    assertEquals(
        mapping(
            Boot.SHARED_PAGE, 1, Prot.R, Sharing.SHARED, Backing.SHARED_PAGE, Inherit.SHARE, false),
        run.lineAt(1, Boot.SHARED_PAGE));
    run.unchanged("mprotect 1 0x7ffffffff000 1 rw -> EACCES")
        .then("mprotect 1 0x7ffffffff000 1 rx -> ok\nwrite 1 0x7ffffffff000 1 -> SEGV\n");
  }

  // PROT-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotectWritable_anonymousPageWhereTheSharedPageWas_ok(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        mmap 1 0x7ffffffff000 1 r private anon fixed -> 0x7ffffffff000
        mprotect 1 0x7ffffffff000 1 rwx -> ok
        write 1 0x7ffffffff000 1 -> ok
        """);
  }

  // PROT-7
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mprotect_noneAndBackOnEveryKind_wordsAsBefore(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            shmget 1 1
            spawn 1
            mmap 1 0 1 rw private anon -> 0x10000000
            mmap 1 0 1 rw shared anon -> 0x10001000
            mmap 1 0 2 rw private file lib/libc 0 -> 0x10002000
            mmap 1 0 1 rw shared shm 1 -> 0x10004000
            write 1 0x10000000 1
            write 1 0x10001ff8 2
            write 1 0x10002008 3
            write 1 0x10004000 4
            """);
    NavigableMap<Long, Long> before = run.words(1);
    run.then(
        """
        mprotect 1 0x10000000 5 none -> ok
        read 1 0x10002008 -> SEGV
        pageout 100
        mprotect 1 0x10000000 5 r -> ok
        read 1 0x10002008 -> 3
        mprotect 1 0x10000000 5 rw -> ok
        """);
    assertEquals(before, run.words(1));
  }
}
