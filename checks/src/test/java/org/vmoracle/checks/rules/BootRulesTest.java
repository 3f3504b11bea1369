package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vmoracle.checks.rules.RuleHarness.SHARED_PAGE_LINE;
import static org.vmoracle.checks.rules.RuleHarness.STATIC_MAPS;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.boot;
import static org.vmoracle.checks.rules.RuleHarness.failed;
import static org.vmoracle.checks.rules.RuleHarness.replay;
import static org.vmoracle.checks.rules.RuleHarness.sharedPageWords;
import static org.vmoracle.checks.rules.RuleHarness.value;

import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.View;

/** BOOT-*: the boot environment, the shared page and the boot files. */
class BootRulesTest {

  // BOOT-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void boot_freshSystem_viewHasTheBootFilesOnly(NamedSystem sys) {
    View expected =
        new View(
            new TreeMap<>(),
            new TreeMap<>(Map.of("bin/static", 20L, "bin/dynamic", 20L, "lib/libc", 68L)),
            new TreeMap<>());
    assertEquals(expected, boot(sys).view());
  }

  // BOOT-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void fread_bootFiles_wordIsFileNumberAndIndex(NamedSystem sys) {
    Run run = boot(sys);
    for (Boot.BootFile f : Boot.BOOT_FILES) {
      long words = f.pages() * Boot.WORDS_PER_PAGE;
      for (long w = 0; w < words; w += 37) {
        assertEquals(
            value(f.word(w)), run.apply(new Op.Fread(f.name(), 8 * w)), f.name() + " " + w);
      }
      assertEquals(value(f.word(words - 1)), run.apply(new Op.Fread(f.name(), 8 * (words - 1))));
      assertEquals(failed(Errno.EINVAL), run.apply(new Op.Fread(f.name(), 8 * words)), f.name());
    }
  }

  // BOOT-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void anyOperation_freshSystem_noProcessesAndNoSegments(NamedSystem sys) {
    replay(
        sys,
        """
        read 1 0x7ffffffff000 -> ESRCH
        exit 1 -> ESRCH
        fork 1 2 -> ESRCH
        shmrm 0 -> ENOENT
        shmrm 2147483647 -> ENOENT
        spawn 1 -> ok
        mmap 1 0 1 rw shared shm 0 -> ENOENT
        """);
  }

  // BOOT-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void spawn_newProcess_mapsOnlyTheSharedPageWithItsWords(NamedSystem sys) {
    Run run = replay(sys, "spawn 1\nspawn 2\n");
    for (int pid : new int[] {1, 2}) {
      assertEquals(SHARED_PAGE_LINE, run.mapsText(pid));
      assertEquals(sharedPageWords(), run.words(pid));
    }
  }

  // BOOT-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exec_newAddressSpace_hasTheSharedPage(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            spawn 2
            munmap 1 0x7ffffffff000 1 -> ok
            read 1 0x7ffffffff000 -> SEGV
            exec 1 static -> ok
            exec 2 dynamic -> ok
            read 1 0x7ffffffff800 -> 0xc0de0100
            read 2 0x7ffffffffff8 -> 0xc0de01ff
            write 2 0x7ffffffffff8 1 -> SEGV
            """);
    for (int pid : new int[] {1, 2}) {
      assertEquals(
          SHARED_PAGE_LINE, run.lineAt(pid, Boot.SHARED_PAGE).toString() + "\n", "pid " + pid);
      assertEquals(sharedPageWords(), run.words(pid, Boot.SHARED_PAGE, 1));
    }
  }

  // BOOT-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void read_sharedPage_sameEverywhereWhateverOthersDid(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            spawn 1
            mprotect 1 0x7ffffffff000 1 rwx -> EACCES
            write 1 0x7ffffffff008 7 -> SEGV
            mprotect 1 0x7ffffffff000 1 none -> ok
            fork 1 2
            clone 1 3
            exec 3 static
            spawn 4
            exec 4 dynamic
            exit 1
            read 2 0x7ffffffff000 -> SEGV
            mprotect 2 0x7ffffffff000 1 r -> ok
            read 2 0x7ffffffff008 -> 0xc0de0001
            pageout 1000
            read 3 0x7ffffffff008 -> 0xc0de0001
            read 4 0x7ffffffff008 -> 0xc0de0001
            spawn 5
            """);
    for (int pid : new int[] {2, 3, 4, 5}) {
      assertEquals(sharedPageWords(), run.words(pid, Boot.SHARED_PAGE, 1), "pid " + pid);
    }
  }

  // BOOT-3
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmapFixed_overSharedPageOfOneProcess_othersStillReadIt(NamedSystem sys) {
    replay(
        sys,
        """
        spawn 1
        spawn 2
        mmap 1 0x7ffffffff000 1 rw shared anon fixed -> 0x7ffffffff000
        write 1 0x7ffffffff000 5 -> ok
        fork 1 3
        read 3 0x7ffffffff000 -> 5
        read 2 0x7ffffffff000 -> 0xc0de0000
        spawn 4
        read 4 0x7ffffffff000 -> 0xc0de0000
        exec 3 static
        read 3 0x7ffffffff000 -> 0xc0de0000
        """);
  }

  // BOOT-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exec_afterBootFilesWritten_seesTheirWordsThen(NamedSystem sys) {
    replay(
        sys,
        """
        fwrite bin/dynamic 0x10000 9 -> ok
        fwrite lib/libc 0x40008 10 -> ok
        fwrite lib/libc 0 11 -> ok
        spawn 1
        exec 1 dynamic -> ok
        read 1 0x410000 -> 9
        read 1 0x410008 -> 0x200002001
        read 1 0x7f0000040008 -> 10
        read 1 0x7f0000040000 -> 0x300008000
        read 1 0x7f0000000000 -> 11
        fwrite lib/libc 0 12
        read 1 0x7f0000000000 -> 12
        """);
  }

  // BOOT-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exec_afterLibcTruncated_pagesPastItsEndGiveBus(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file lib/libc 64 -> ok
            spawn 1
            exec 1 dynamic -> ok
            read 1 0x7f0000000000 -> 0x300000000
            read 1 0x7f000003fff8 -> 0x300007fff
            read 1 0x7f0000040000 -> BUS
            write 1 0x7f0000040000 1 -> BUS
            """);
    assertEquals(64L, run.view().filePages().get("lib/libc"));
    assertEquals(
        "7f0000040000-7f0000044000 rw-p file lib/libc 64 inherit=copy",
        run.lineAt(1, 0x7f0000040000L).toString());
  }

  // BOOT-4
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void exec_staticTruncatedToNothingOrGrown_sameLayout(NamedSystem sys) {
    Run run =
        replay(
            sys,
            """
            file bin/static 0 -> ok
            spawn 1
            exec 1 static -> ok
            read 1 0x400000 -> BUS
            write 1 0x410000 1 -> BUS
            write 1 0x414000 1 -> ok
            fwrite bin/static 0x20000 3 -> ok
            read 1 0x400000 -> 0
            spawn 2
            exec 2 static -> ok
            read 2 0x400000 -> 0
            """);
    assertEquals(33L, run.view().filePages().get("bin/static"));
    assertEquals(STATIC_MAPS, run.mapsText(1));
    assertEquals(STATIC_MAPS, run.mapsText(2));
  }
}
