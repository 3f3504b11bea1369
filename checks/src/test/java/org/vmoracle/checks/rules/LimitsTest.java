package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.ProjectFiles;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.checks.diff.Lockstep;
import org.vmoracle.checks.nativ.NativeBinary;
import org.vmoracle.checks.nativ.NativeRunner;
import org.vmoracle.checks.nativ.NativeUnavailableException;
import org.vmoracle.checks.nativ.NativeVerdict;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceLine;
import org.vmoracle.spec.trace.TraceParser;
import org.vmoracle.spec.trace.TraceSyntaxException;

/**
 * Every row of the limits table of {@code spec/SEMANTICS.md} ("Limits"), just below the limit, at
 * it and just above: the parser takes the first two and rejects the third at its token, naming line
 * and column; model and implementation agree on every line taken (results after every operation,
 * views and invariants too: {@link Lockstep}); and the host kernel agrees with the model, or the
 * native runner names the DEV- or HOST- rule that keeps it from being asked (that part is skipped
 * where the native runner cannot run).
 */
class LimitsTest {

  private static final String N255 = "n".repeat(254) + ".";
  private static final String N256 = "n".repeat(256);
  private static final String I255 = "i".repeat(255);
  private static final String I256 = "i".repeat(256);

  /**
   * One row of the table.
   *
   * @param name the row, as the table names it
   * @param taken lines the parser takes, run in order on one fresh system (just below and at)
   * @param rejected lines the parser rejects (just above), each alone, with the token it must name
   */
  record Limit(String name, List<String> taken, List<Rejected> rejected) {
    @Override
    public String toString() {
      return name;
    }
  }

  /** A line past a limit and the token the parser must point at. */
  record Rejected(String line, String token) {}

  private static Limit limit(String name, String taken, Rejected... rejected) {
    return new Limit(name, List.of(taken.split("\n")), List.of(rejected));
  }

  private static Rejected past(String line, String token) {
    return new Rejected(line, token);
  }

  static Stream<Limit> limits() {
    return Stream.of(
        limit(
            "pid",
            "spawn 1\nspawn 2147483646\nspawn 2147483647\nfork 2147483647 2\nclone 2 3\n"
                + "exit 2147483647\nexit 1",
            past("spawn 2147483648", "2147483648"),
            past("spawn 0", "0")),
        limit(
            "file name",
            "file "
                + N255
                + " 1\nfwrite "
                + N255
                + " 8 1\nfread "
                + N255
                + " 8\nspawn 1\nmmap 1 0 1 rw shared file "
                + N255
                + " 0\nread 1 0x10000008\n"
                + "file .. 1\nfile . 1\nfile - 2\nfwrite .. 0 3\nfread . 0\nfread - 0x1000\n"
                + "fread a/b 0",
            past("file " + N256 + " 1", N256),
            past("file a*b 1", "a*b")),
        limit(
            "image name",
            "spawn 1\nexec 1 " + I255 + "\nexec 1 static",
            past("exec 1 " + I256, I256),
            past("exec 1 Static", "Static")),
        limit(
            "file size",
            "file f 0x7ffffffff\nfread f 0x7fffffffeff8\nfile f 0x800000000\n"
                + "fread f 0x7ffffffffff8\nfile f 0",
            past("file f 0x800000001", "0x800000001")),
        limit(
            "byte offset",
            "file f 1\nfwrite f 0x7ffffffffff0 1\nfwrite f 0x7ffffffffff8 2\n"
                + "fwrite f 0x800000000000 3\nfread f 0x7ffffffffff8\nfread f 0x800000000000\n"
                + "fwrite f 0x7ffffffffffffff0 4\nfwrite f 0x7ffffffffffffff8 5\n"
                + "fread f 0x7ffffffffffffff8\nfread f 0",
            past("fread f 0x8000000000000000", "0x8000000000000000"),
            past("fwrite f 0x7ffffffffffffffc 1", "0x7ffffffffffffffc")),
        limit(
            "page offset",
            "file f 1\nspawn 1\nmmap 1 0 1 r shared file f 0x7ffffffff\n"
                + "mmap 1 0 1 r shared file f 0x800000000\nread 1 0x10001000\n"
                + "mmap 1 0 1 rw private file f 0x800000000\nwrite 1 0x10002000 1",
            past("mmap 1 0 1 r shared file f 0x800000001", "0x800000001")),
        limit(
            "page count",
            "spawn 1\nmmap 1 0 0x7ffffffff rw private anon\nmmap 1 0 0x800000000 rw private anon\n"
                + "munmap 1 0x1000 0x800000000\nmprotect 1 0x1000 0x800000000 r\n"
                + "minherit 1 0x1000 0x800000000 none\nmunlock 1 0x1000 0x800000000\n"
                + "mmap 1 0x1000 0x7ffffffff rw private anon fixed\nread 1 0x7fffffffeff8\n"
                + "munmap 1 0 0x800000000\nread 1 0x1000",
            past("mmap 1 0 0x800000001 rw private anon", "0x800000001"),
            past("munmap 1 0 0x800000001", "0x800000001")),
        limit(
            "address",
            "spawn 1\nread 1 0x800000000000\nread 1 0x7ffffffffffffff8\n"
                + "write 1 0x7ffffffffffffff8 1\nmunmap 1 0x7ffffffffffff000 1\n"
                + "munmap 1 0x7ffffffffffff000 0x800000000\n"
                + "mprotect 1 0x7ffffffffffff000 0x800000000 r\n"
                + "minherit 1 0x7ffffffffffff000 0x800000000 none\n"
                + "mlock 1 0x7ffffffffffff000 0x800000000\n"
                + "munlock 1 0x7ffffffffffff000 0x800000000\n"
                + "mmap 1 0x7ffffffffffff000 1 rw private anon fixed\n"
                + "mmap 1 0x7ffffffffffff000 1 rw private anon\n"
                + "collapse 1 0x7ffffffffffffff8",
            past("read 1 0x8000000000000000", "0x8000000000000000"),
            past("collapse 1 0x8000000000000000", "0x8000000000000000")),
        limit(
            "shm key",
            "shmget 0 1\nshmget 2147483647 1\nspawn 1\nmmap 1 0 1 rw shared shm 2147483647\n"
                + "shmrm 2147483647\nshmrm 0\nshmrm 2147483646",
            past("shmget 2147483648 1", "2147483648"),
            past("mmap 1 0 1 rw shared shm 2147483648", "2147483648")),
        limit(
            "segment size",
            "shmget 1 0x7ffffffff\nshmget 2 0x800000000\nspawn 1\nmmap 1 0 1 rw shared shm 2\n"
                + "write 1 0x10000000 1\nshmget 3 0",
            past("shmget 3 0x800000001", "0x800000001")),
        limit(
            "value",
            "spawn 1\nmmap 1 0 1 rw private anon\nwrite 1 0x10000000 0xffffffffffffffff\n"
                + "read 1 0x10000000\nwrite 1 0x10000008 18446744073709551615\n"
                + "write 1 0x10000010 -9223372036854775808\nread 1 0x10000010\n"
                + "file f 1\nfwrite f 0 0xffffffffffffffff\nfread f 0",
            past("write 1 0x10000000 18446744073709551616", "18446744073709551616"),
            past("write 1 0x10000000 -9223372036854775809", "-9223372036854775809"),
            past("write 1 0x10000000 0x10000000000000000", "0x10000000000000000")),
        limit(
            "pageout count",
            "spawn 1\nmmap 1 0 1 rw private anon\nwrite 1 0x10000000 1\npageout 0\n"
                + "pageout 0x800000000\nread 1 0x10000000",
            past("pageout 0x800000001", "0x800000001")));
  }

  private static NativeRunner runner;

  @BeforeAll
  static void nativeRunner() {
    if (NativeBinary.unavailable().isPresent()) {
      return;
    }
    try {
      runner = NativeRunner.create();
    } catch (NativeUnavailableException e) {
      runner = null;
    }
  }

  private static Trace taken(Limit l) {
    try {
      return TraceParser.parse(l.name() + ".trace", String.join("\n", l.taken()) + "\n");
    } catch (TraceSyntaxException e) {
      return fail(l.name() + ": the parser must take every line at the limit: " + e.getMessage());
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("limits")
  void parser_pastTheLimit_rejectedAtTheToken(Limit l) {
    for (Rejected r : l.rejected()) {
      String text = "# a comment line first\n" + r.line() + "\n";
      try {
        TraceParser.parse("limits.trace", text);
        fail(l.name() + ": the parser took '" + r.line() + "'");
      } catch (TraceSyntaxException e) {
        TraceSyntaxException.Problem p = e.problems().get(0);
        assertEquals(2, p.line(), e.getMessage());
        assertEquals(r.line().lastIndexOf(r.token()) + 1, p.column(), e.getMessage());
        assertTrue(e.getMessage().startsWith("limits.trace:2:"), e.getMessage());
      }
    }
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("limits")
  void modelAndImpl_atTheLimit_agree(Limit l) {
    Lockstep both = new Lockstep(new ImplVm(RuleHarness.IMPL_CONFIG), 1, 1);
    for (TraceLine line : taken(l).lines()) {
      try {
        assertNotNull(both.apply(line.op()));
      } catch (Divergence d) {
        fail(l.name() + ".trace:" + line.line() + ": " + d.getMessage(), d);
      }
    }
    both.checkNow();
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("limits")
  void kernel_atTheLimit_agreesOrNamesTheRule(Limit l) {
    assumeTrue(runner != null, "the native runner cannot run here");
    NativeVerdict v = runner.run(taken(l), true);
    switch (v.kind()) {
      case AGREE:
        break;
      case UNSUPPORTED:
        assertTrue(v.rule().id().matches("(DEV|HOST)-[0-9]+"), v.describe());
        break;
      case DIFFER:
      case ERROR:
        fail(v.describe());
    }
  }

  @Test
  void semantics_limitsTable_namesEveryRow() {
    // The table of SEMANTICS.md and this test cover the same limits, row by row.
    String md = ProjectFiles.semantics();
    int start = md.indexOf("\n## Limits");
    assertTrue(start >= 0, "SEMANTICS.md has no Limits section");
    String section = md.substring(start, md.indexOf("\n---", start));
    List<String> rows = new ArrayList<>();
    for (String line : section.split("\n")) {
      if (line.startsWith("| ") && !line.startsWith("| limit") && !line.startsWith("|--")) {
        rows.add(line.substring(2, line.indexOf(" |", 2)).strip());
      }
    }
    List<String> tested = new ArrayList<>();
    limits().forEach(l -> tested.add(l.name()));
    tested.add("live processes"); // HOST-5: NativeRunnerTest and DeviationsTest, with a small cap
    // WIRE-7: WireRulesTest.mlock_rangeBeyondAllMemory_eagainAtOnceWithNothingChanged; the model's
    // page-by-page copy is documented there, not run (it does not finish).
    tested.add("pages an `mlock` copies");
    assertEquals(tested, rows);
  }
}
