package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.vmoracle.checks.rules.RuleHarness.SYSTEMS;
import static org.vmoracle.checks.rules.RuleHarness.assertViewEquals;
import static org.vmoracle.checks.rules.RuleHarness.boot;
import static org.vmoracle.checks.rules.RuleHarness.parse;
import static org.vmoracle.checks.rules.RuleHarness.replay;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.rules.RuleHarness.NamedSystem;
import org.vmoracle.checks.rules.RuleHarness.Run;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.View;
import org.vmoracle.spec.trace.TraceLine;

/** ERR-*: errors in general. */
class ErrRulesTest {

  static final String SETUP =
      """
      file f 2
      shmget 1 1
      spawn 1
      exec 1 static
      mmap 1 0 2 rw private file f 0 -> 0x10000000
      mmap 1 0 1 rw shared shm 1 -> 0x10002000
      mmap 1 0x10004000 1 rw private anon -> 0x10004000
      write 1 0x10000000 1
      write 1 0x10002000 2
      write 1 0x10004000 3
      mlock 1 0x10004000 1
      fork 1 2
      clone 2 3
      """;

  /** Failures of every kind of operation that can fail, each with its answer. */
  static final List<String> FAILURES =
      List.of(
          "spawn 1 -> EEXIST",
          "fork 1 3 -> EEXIST",
          "fork 9 4 -> ESRCH",
          "clone 3 2 -> EEXIST",
          "exec 1 nosuch -> ENOENT",
          "exit 9 -> ESRCH",
          "mmap 1 0x10000008 1 rw private anon -> EINVAL",
          "mmap 1 0 0 rw private anon -> EINVAL",
          "mmap 1 0x10000000 1 rw private file nosuch 0 fixed -> ENOENT",
          "mmap 1 0x10000000 1 rw shared shm 7 fixed -> ENOENT",
          "mmap 1 0x7fffffffe000 3 rw private anon fixed -> ENOMEM",
          "munmap 1 0x10000008 1 -> EINVAL",
          "munmap 1 0x7ffffffff000 2 -> EINVAL",
          "mprotect 1 0x10000008 1 r -> EINVAL",
          "mprotect 1 0x10003000 2 r -> ENOMEM",
          "minherit 1 0x10002000 3 none -> ENOMEM",
          "minherit 1 0x10000000 1 zero -> EINVAL",
          "mlock 1 0x10000000 4 -> ENOMEM",
          "mlock 1 0x10000000 0 -> EINVAL",
          "munlock 1 0x10003000 2 -> ENOMEM",
          "read 1 0x10003000 -> SEGV",
          "write 1 0x400000 9 -> SEGV",
          "write 2 0x10005000 9 -> SEGV",
          "fwrite nosuch 0 1 -> ENOENT",
          "fread f 0x2000 -> EINVAL",
          "fread nosuch 0 -> ENOENT",
          "shmget 1 1 -> EEXIST",
          "shmget 2 0 -> EINVAL",
          "shmrm 2 -> ENOENT",
          "collapse 1 0x10003000 -> ENOMEM",
          "collapse 9 0x10000000 -> ESRCH");

  /** Later operations whose results must be as if the failures had not been asked for. */
  static final String PROBE =
      """
      read 1 0x10000000
      read 1 0x10001000
      read 2 0x10004000
      read 3 0x10002000
      write 2 0x10000000 5
      read 1 0x10000000
      fwrite f 0 6
      read 1 0x10000000
      read 1 0x10000008
      read 2 0x10000008
      fork 1 4
      read 4 0x10004000
      mmap 1 0 1 rw private anon
      mmap 3 0 2 rw shared anon
      shmget 2 1
      mmap 2 0 1 rw shared shm 2
      munlock 1 0x10004000 1
      exec 3 dynamic
      read 2 0x10002000
      fread f 0x1000
      file f 1
      read 1 0x10001000
      """;

  // ERR-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void failures_ofEveryKind_viewUnchanged(NamedSystem sys) {
    Run run = replay(sys, SETUP);
    for (String f : FAILURES) {
      run.unchanged(f);
    }
  }

  // ERR-1
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void failures_ofEveryKind_laterResultsAsIfNeverAsked(NamedSystem sys) {
    Run asked = replay(sys, SETUP);
    Run notAsked = replay(sys, SETUP);
    for (String f : FAILURES) {
      asked.apply(f);
    }
    for (TraceLine l : parse("probe", PROBE).lines()) {
      assertEquals(notAsked.apply(l.op()), asked.apply(l.op()), l.op().toString());
    }
    assertViewEquals(notAsked.view(), asked.view(), "after the probe");
  }

  // ERR-1, PROT-3, PROT-6
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void randomFailures_otherThanPartialMprotect_changeNothing(NamedSystem sys) {
    for (long seed = 11; seed <= 13; seed++) {
      Run run = boot(sys);
      List<Op> done = new ArrayList<>(RandomOps.setup());
      done.forEach(run::apply);
      RandomOps ops = new RandomOps(seed, false);
      for (int i = 0; i < 500; i++) {
        Op op = ops.next();
        View before = run.view();
        Result r = run.apply(op);
        done.add(op);
        if (r.succeeded() || partialMprotect(op, r)) {
          continue;
        }
        StringBuilder trace = new StringBuilder();
        done.forEach(o -> trace.append(o).append('\n'));
        assertViewEquals(
            before,
            run.view(),
            "seed " + seed + " step " + i + ": " + op + " -> " + r + "\n" + trace);
      }
    }
  }

  private static boolean partialMprotect(Op op, Result r) {
    Errno e = ((Result.Failed) r).errno();
    return op instanceof Op.Mprotect && (e == Errno.ENOMEM || e == Errno.EACCES);
  }

  // ERR-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void failingOperation_severalFailuresApply_firstOfEsrchEinvalEnoentThenOwn(NamedSystem sys) {
    replay(sys, "shmget 1 1\nspawn 1\nmmap 1 0 1 rw private anon\n")
        .unchanged("mlock 9 0x10000008 0 -> ESRCH")
        .unchanged("mmap 9 0 0 rw shared shm 5 -> ESRCH")
        .unchanged("exec 9 nosuch -> ESRCH")
        .unchanged("minherit 9 0x10000008 1 zero -> ESRCH")
        .unchanged("mmap 1 0 0 rw private file nosuch 0 -> EINVAL")
        .unchanged("mmap 1 0x10000800 1 rw shared shm 5 -> EINVAL")
        .unchanged("mmap 1 0x10000800 1 rw shared shm 5 fixed -> EINVAL")
        .unchanged("mprotect 1 0x20000008 1 r -> EINVAL")
        .unchanged("mlock 1 0x20000008 1 -> EINVAL")
        .unchanged("munlock 1 0x20000000 0 -> EINVAL")
        .unchanged("minherit 1 0x20000008 1 none -> EINVAL")
        .unchanged("shmget 1 0 -> EINVAL")
        .unchanged("mmap 1 0 1 rw shared shm 5 fixed -> ENOENT")
        .unchanged("mmap 1 0x7ffffffff000 2 rw private file nosuch 0 fixed -> ENOENT")
        .unchanged("mmap 1 0x7ffffffff000 2 rw shared shm 5 fixed -> ENOENT");
  }

  // ERR-2
  @ParameterizedTest(name = "{0}")
  @MethodSource(SYSTEMS)
  void mmap_noRoomAndUnknownSource_enoentBeforeEnomem(NamedSystem sys) {
    Run run =
        replay(sys, "spawn 1\nmmap 1 0x10000000 0x7fffeffff rw private anon fixed -> 0x10000000\n");
    run.unchanged("mmap 1 0 1 rw private file nosuch 0 -> ENOENT")
        .unchanged("mmap 1 0 1 rw shared shm 3 -> ENOENT")
        .unchanged("mmap 1 0 1 rw private anon -> ENOMEM")
        .then("read 1 0x10000000 -> 0");
  }
}
