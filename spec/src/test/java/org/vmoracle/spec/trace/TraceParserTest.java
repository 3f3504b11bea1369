package org.vmoracle.spec.trace;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;
import org.vmoracle.spec.trace.TraceSyntaxException.Problem;

class TraceParserTest {

  private static final String OPERATIONS =
      "an operation (spawn, fork, clone, exec, exit, mmap, munmap, mprotect, minherit, mlock,"
          + " munlock, read, write, file, fwrite, fread, shmget, shmrm, pageout, collapse)";
  private static final String RESULTS =
      "a result (a number, ok, or an errno: EINVAL, ENOMEM, EAGAIN, ESRCH, EEXIST, ENOENT,"
          + " EACCES, EFBIG, SEGV, BUS, OOM)";
  private static final String VALUE_64 =
      "a 64-bit value (decimal from -2^63 to 2^64-1, or 0x and at most 16 hex digits)";

  private static Trace parse(String text) {
    try {
      return TraceParser.parse("t", text);
    } catch (TraceSyntaxException e) {
      throw new AssertionError("unexpected syntax error:\n" + e.getMessage(), e);
    }
  }

  private static TraceLine only(String line) {
    Trace trace = parse(line);
    assertEquals(1, trace.lines().size(), () -> "lines of " + line);
    return trace.lines().get(0);
  }

  private static Op op(String line) {
    return only(line).op();
  }

  private static List<Problem> problems(String text) {
    TraceSyntaxException e =
        assertThrows(TraceSyntaxException.class, () -> TraceParser.parse("t", text));
    return e.problems();
  }

  /** The one problem of a one-line text, as it prints. */
  private static void assertProblem(String expected, String line) {
    List<Problem> problems = problems(line);
    assertEquals(1, problems.size(), () -> "problems of " + line + ": " + problems);
    assertEquals(expected, problems.get(0).toString());
  }

  // ---------------------------------------------------------------- well-formed traces

  @Test
  void parse_designExample_readsEveryOperation() {
    Trace trace = parse(Examples.DESIGN);
    assertEquals("t", trace.source());
    assertEquals(17, trace.lines().size());
    TraceLine mmap = trace.lines().get(2);
    assertEquals(3, mmap.line());
    assertEquals(
        new Op.Mmap(1, 0, 4, Prot.RW, Sharing.PRIVATE, new Source.Anon(), false), mmap.op());
    assertEquals(Optional.of(Result.value(0x10000000L)), mmap.expect());
    TraceLine file = trace.lines().get(7);
    assertEquals(
        new Op.Mmap(1, 0, 8, Prot.R, Sharing.PRIVATE, new Source.FileRange("libx", 0), false),
        file.op());
    assertEquals(new Op.Fwrite("libx", 0, 99), trace.lines().get(8).op());
    assertEquals(Optional.empty(), trace.lines().get(8).expect());
    assertEquals(Optional.of(Result.of(Errno.SEGV)), trace.lines().get(15).expect());
    assertEquals(new Op.Exit(2), trace.lines().get(16).op());
  }

  @Test
  void parse_mmapFileFixed_roundTrips() {
    String text = "mmap 1 0x20000000 8 rwx shared file bin/static 16 fixed -> 0x20000000";
    TraceLine line = only(text);
    assertEquals(
        new Op.Mmap(
            1,
            0x20000000L,
            8,
            Prot.RWX,
            Sharing.SHARED,
            new Source.FileRange("bin/static", 16),
            true),
        line.op());
    assertEquals(Optional.of(Result.value(0x20000000L)), line.expect());
    assertEquals(text, TracePrinter.print(line));
  }

  @Test
  void parse_mmapShm_readsKey() {
    assertEquals(
        new Op.Mmap(3, 0, 512, Prot.NONE, Sharing.SHARED, new Source.Shm(77), false),
        op("mmap 3 0 512 none shared shm 77"));
  }

  @Test
  void parse_everyOtherOperation_readsItsArguments() {
    assertEquals(new Op.Clone(1, 2), op("clone 1 2"));
    assertEquals(new Op.Exec(4, "dynamic"), op("exec 4 dynamic"));
    assertEquals(new Op.Mprotect(1, 0x1000, 2, Prot.RX), op("mprotect 1 0x1000 2 rx"));
    assertEquals(new Op.Minherit(1, 0x1000, 2, Inherit.ZERO), op("minherit 1 0x1000 2 zero"));
    assertEquals(new Op.Munlock(1, 0x1000, 2), op("munlock 1 0x1000 2"));
    assertEquals(new Op.Fread("bin/static", 0x2000), op("fread bin/static 0x2000"));
    assertEquals(new Op.Shmget(5, 3), op("shmget 5 3"));
    assertEquals(new Op.Shmrm(5), op("shmrm 5"));
  }

  @Test
  void parse_decimalAndHex_giveTheSameNumbers() {
    assertEquals(op("munmap 1 0x1000 0x10"), op("munmap 1 4096 16"));
    assertEquals(op("munmap 1 0x1000 16"), op("munmap 1 0x00001000 016"));
    assertEquals(new Op.Read(1, 0xabcdef8L), op("read 1 0xABCDEF8"));
  }

  @Test
  void parse_hexValue_mayUseAll64Bits() {
    assertEquals(new Op.Write(1, 0x1000, -1L), op("write 1 0x1000 0xffffffffffffffff"));
    assertEquals(new Op.Write(1, 0x1000, Long.MIN_VALUE), op("write 1 0x1000 0x8000000000000000"));
    assertEquals(new Op.Fwrite("f", 8, -2L), op("fwrite f 8 0xfffffffffffffffe"));
  }

  @Test
  void parse_decimalValue_mayBeNegativeOrUnsigned() {
    assertEquals(new Op.Write(1, 0x1000, -5), op("write 1 0x1000 -5"));
    assertEquals(
        new Op.Write(1, 0x1000, Long.MIN_VALUE), op("write 1 0x1000 -9223372036854775808"));
    assertEquals(new Op.Write(1, 0x1000, -1L), op("write 1 0x1000 18446744073709551615"));
  }

  @Test
  void parse_largestArguments_accepted() {
    assertEquals(new Op.Spawn(Integer.MAX_VALUE), op("spawn 2147483647"));
    assertEquals(new Op.Shmrm(Integer.MAX_VALUE), op("shmrm 0x7fffffff"));
    assertEquals(new Op.Pageout(Op.MAX_PAGES), op("pageout 34359738368"));
    assertEquals(new Op.Munmap(1, Long.MAX_VALUE, 0), op("munmap 1 0x7fffffffffffffff 0"));
    assertEquals(new Op.Read(1, Long.MAX_VALUE - 7), op("read 1 9223372036854775800"));
  }

  @Test
  void parse_expectation_readsValueOkAndEveryErrno() {
    assertEquals(Optional.of(Result.OK), only("spawn 1 -> ok").expect());
    assertEquals(Optional.of(Result.value(42)), only("read 1 0x1000 -> 42").expect());
    assertEquals(Optional.of(Result.value(-5)), only("read 1 0x1000 -> -5").expect());
    assertEquals(
        Optional.of(Result.value(-1)), only("read 1 0x1000 -> 0xffffffffffffffff").expect());
    for (Errno e : Errno.values()) {
      assertEquals(Optional.of(Result.of(e)), only("read 1 0x1000 -> " + e.name()).expect());
    }
    assertEquals(Optional.empty(), only("read 1 0x1000").expect());
  }

  @Test
  void parse_commentsBlankLinesAndTabs_skippedButLinesStillCounted() {
    Trace trace = parse("# a trace\n\n   \n\tspawn\t1 \t-> ok# born\nfork 1 2#no space\n");
    assertEquals(List.of(4, 5), lineNumbers(trace));
    assertEquals(new Op.Spawn(1), trace.lines().get(0).op());
    assertEquals(new Op.Fork(1, 2), trace.lines().get(1).op());
  }

  @Test
  void parse_crlfAndMissingFinalNewline_accepted() {
    Trace trace = parse("spawn 1\r\nspawn 2\r\nexit 1");
    assertEquals(List.of(1, 2, 3), lineNumbers(trace));
  }

  @Test
  void parse_arrowAgainstItsNeighbours_isItsOwnToken() {
    assertEquals(Optional.of(Result.value(42)), only("read 1 0x1000->42").expect());
    assertEquals(Optional.of(Result.value(-3)), only("read 1 0x1000 ->-3").expect());
  }

  @Test
  void parse_emptyText_givesEmptyTrace() {
    assertEquals(new Trace("t", List.of()), parse(""));
    assertEquals(new Trace("t", List.of()), parse("# nothing\n\n"));
  }

  @Test
  void parse_file_namesItsPathInProblems(@TempDir Path dir) throws Exception {
    Path good = dir.resolve("good.trace");
    Files.writeString(good, Examples.DESIGN);
    assertEquals(good.toString(), TraceParser.parse(good).source());
    assertEquals(17, TraceParser.parse(good).lines().size());

    Path bad = dir.resolve("bad.trace");
    Files.writeString(bad, "spawn 1\nspawn 0\n");
    TraceSyntaxException e = assertThrows(TraceSyntaxException.class, () -> TraceParser.parse(bad));
    assertTrue(e.getMessage().startsWith(bad + ":2:7: "), e.getMessage());
  }

  @Test
  void parse_missingFile_throwsIOException(@TempDir Path dir) {
    assertThrows(IOException.class, () -> TraceParser.parse(dir.resolve("absent.trace")));
  }

  // ---------------------------------------------------------------- bad lines

  @Test
  void parse_unknownOperation_namesEveryOperation() {
    assertProblem("t:1:1: expected " + OPERATIONS + ", found 'frok'", "frok 1 2");
    assertProblem("t:1:1: expected " + OPERATIONS + ", found 'Spawn'", "Spawn 1");
  }

  @Test
  void parse_expectationWithoutOperation_expectsOperation() {
    assertProblem("t:1:3: expected " + OPERATIONS + ", found '->'", "  -> ok");
  }

  @Test
  void parse_missingArgument_foundEndOfLine() {
    assertProblem("t:1:7: expected a pid, found end of line", "fork 1");
    assertProblem("t:1:6: expected a pid, found end of line", "spawn   # who?");
    assertProblem("t:1:15: expected a value, found end of line", "write 1 0x1000");
    assertProblem("t:1:7: expected an image name, found end of line", "exec 1");
    assertProblem("t:1:5: expected a file name, found end of line", "file");
    assertProblem(
        "t:1:11: expected a protection (none, r, rw, rx, rwx), found end of line", "mmap 1 0 4");
    assertProblem(
        "t:1:28: expected a page offset, found end of line", "mmap 1 0 4 r private file f");
    assertProblem("t:1:24: expected a shm key, found end of line", "mmap 1 0 1 r shared shm");
  }

  @Test
  void parse_missingArgumentBeforeArrow_foundArrow() {
    assertProblem("t:1:8: expected a pid, found '->'", "fork 1 -> ok");
  }

  @Test
  void parse_extraToken_expectsEndOfLine() {
    assertProblem("t:1:9: expected end of line, found 'extra'", "spawn 1 extra");
    assertProblem("t:1:15: expected end of line, found '5'", "read 1 0x1000 5 -> 5");
    assertProblem("t:1:15: expected end of line, found 'extra'", "spawn 1 -> ok extra");
    assertProblem("t:1:15: expected end of line, found '->'", "spawn 1 -> ok -> ok");
  }

  @Test
  void parse_badNumber_expectsNumber() {
    assertProblem("t:1:7: expected a number, found 'x12'", "spawn x12");
    assertProblem("t:1:9: expected a number, found '0x'", "pageout 0x");
    assertProblem("t:1:9: expected a number, found '0x1g'", "pageout 0x1g");
    assertProblem("t:1:9: expected a number, found '+5'", "pageout +5");
    assertProblem("t:1:9: expected a number, found '0X10'", "pageout 0X10");
    assertProblem("t:1:16: expected a number, found '-0x5'", "write 1 0x1000 -0x5");
    assertProblem("t:1:8: expected a number, found '1_000'", "munmap 1_000 0 1");
  }

  @Test
  void parse_badProtection_listsProtections() {
    assertProblem(
        "t:1:21: expected a protection (none, r, rw, rx, rwx), found 'wx'",
        "mprotect 1 0x1000 1 wx");
  }

  @Test
  void parse_badInheritance_listsInheritances() {
    assertProblem(
        "t:1:21: expected an inheritance (share, copy, none, zero), found 'keep'",
        "minherit 1 0x1000 1 keep");
  }

  @Test
  void parse_badSharing_listsSharings() {
    assertProblem(
        "t:1:15: expected a sharing (private, shared), found 'privat'",
        "mmap 1 0 4 rw privat anon");
  }

  @Test
  void parse_badSource_listsSources() {
    assertProblem(
        "t:1:23: expected a source (anon, file, shm), found 'heap'", "mmap 1 0 4 rw private heap");
  }

  @Test
  void parse_badFixed_expectsFixedOrEndOfLine() {
    assertProblem(
        "t:1:28: expected fixed or end of line, found 'fixd'", "mmap 1 0 4 rw private anon fixd");
  }

  @Test
  void parse_badExpectation_listsResults() {
    assertProblem("t:1:18: expected " + RESULTS + ", found 'segv'", "read 1 0x1000 -> segv");
    assertProblem("t:1:18: expected " + RESULTS + ", found 'OK'", "read 1 0x1000 -> OK");
    assertProblem("t:1:17: expected " + RESULTS + ", found end of line", "read 1 0x1000 ->");
    assertProblem("t:1:18: expected " + RESULTS + ", found '->'", "read 1 0x1000 -> -> 4");
    assertProblem("t:1:18: expected a number, found '4x'", "read 1 0x1000 -> 4x");
  }

  @Test
  void parse_unalignedWordAddress_givesConstructorMessageAtAddress() {
    assertProblem(
        "t:1:8: expected an 8-byte aligned address (unaligned address 0x1003: read and write"
            + " are 8-byte aligned), found '0x1003'",
        "read 1 0x1003");
    assertProblem(
        "t:1:9: expected an 8-byte aligned address (unaligned address 0x1004: read and write"
            + " are 8-byte aligned), found '4100'",
        "write 1 4100 5");
  }

  @Test
  void parse_unalignedFileOffset_givesConstructorMessageAtOffset() {
    assertProblem(
        "t:1:12: expected an 8-byte aligned byte offset (unaligned address 0x7: fwrite and"
            + " fread offsets are 8-byte aligned), found '0x7'",
        "fread libx 0x7");
    assertProblem(
        "t:1:13: expected an 8-byte aligned byte offset (unaligned address 0xc: fwrite and"
            + " fread offsets are 8-byte aligned), found '12'",
        "fwrite libx 12 1");
  }

  @Test
  void parse_pidOutOfRange_rejectedAtPid() {
    assertProblem("t:1:7: expected a pid (bad pid 0: pids are at least 1), found '0'", "spawn 0");
    assertProblem(
        "t:1:8: expected a pid (bad pid 0: pids are at least 1), found '0x0'", "fork 1 0x0");
    assertProblem(
        "t:1:7: expected a pid (pids lie in [1, 2147483647]), found '2147483648'",
        "spawn 2147483648");
    assertProblem("t:1:6: expected a pid (a number without a sign), found '-1'", "exit -1");
  }

  @Test
  void parse_pageCountOutOfRange_rejectedAtCount() {
    assertProblem(
        "t:1:11: expected a page count (page count 34359738369 out of range: it must lie in"
            + " [0, 2^35]), found '34359738369'",
        "file libx 34359738369");
    assertProblem(
        "t:1:11: expected a page count (a number without a sign), found '-1'", "file libx -1");
    assertProblem(
        "t:1:9: expected a page count (a number below 2^63), found '0xffffffffffffffff'",
        "pageout 0xffffffffffffffff");
  }

  @Test
  void parse_keyOutOfRange_rejectedAtKey() {
    assertProblem(
        "t:1:7: expected a shm key (bad shm key 2147483648: keys lie in [0, 2147483647]),"
            + " found '2147483648'",
        "shmrm 2147483648");
    assertProblem(
        "t:1:25: expected a shm key (bad shm key 4294967295: keys lie in [0, 2147483647]),"
            + " found '0xffffffff'",
        "mmap 1 0 1 r shared shm 0xffffffff");
  }

  @Test
  void parse_pageOffsetOutOfRange_rejectedAtOffset() {
    assertProblem(
        "t:1:32: expected a page offset (page offset 34359738369 out of range: it must lie in"
            + " [0, 34359738368]), found '34359738369'",
        "mmap 1 0 1 r private file libx 34359738369");
  }

  @Test
  void parse_addressOutOfRange_rejectedAtAddress() {
    assertProblem(
        "t:1:10: expected an address (a number below 2^63), found '0x8000000000000000'",
        "munmap 1 0x8000000000000000 1");
    assertProblem(
        "t:1:10: expected an address (a number below 2^63), found '9223372036854775808'",
        "munmap 1 9223372036854775808 1");
    assertProblem(
        "t:1:10: expected an address (a number without a sign), found '-4096'", "munmap 1 -4096 1");
  }

  @Test
  void parse_numberBeyond64Bits_rejected() {
    assertProblem(
        "t:1:16: expected " + VALUE_64 + ", found '0x10000000000000000'",
        "write 1 0x1000 0x10000000000000000");
    assertProblem(
        "t:1:16: expected " + VALUE_64 + ", found '18446744073709551616'",
        "write 1 0x1000 18446744073709551616");
    assertProblem(
        "t:1:16: expected " + VALUE_64 + ", found '-9223372036854775809'",
        "write 1 0x1000 -9223372036854775809");
    assertProblem(
        "t:1:18: expected " + VALUE_64 + ", found '0x1ffffffffffffffff'",
        "read 1 0x1000 -> 0x1ffffffffffffffff");
    assertProblem(
        "t:1:8: expected an address (a number below 2^63), found '0x10000000000000000'",
        "read 1 0x10000000000000000");
  }

  @Test
  void parse_badNames_giveConstructorMessage() {
    assertProblem(
        "t:1:6: expected a file name (bad file name 'lib$x': names are letters, digits and _ . /"
            + " -), found 'lib$x'",
        "file lib$x 8");
    assertProblem(
        "t:1:8: expected an image name (bad image name 'Static': image names are lower-case"
            + " letters, digits and _), found 'Static'",
        "exec 1 Static");
  }

  @Test
  void parse_multipleBadLines_reportedTogetherWithLineAndColumn() {
    String text =
        String.join(
            "\n",
            "spawn 1",
            "frok 1 2",
            "# a comment",
            "read 1 0x1003",
            "  write 1 0x1000",
            "spawn 2",
            "mprotect 1 0x1000 1 wx -> ok");
    TraceSyntaxException e =
        assertThrows(TraceSyntaxException.class, () -> TraceParser.parse("x.trace", text));
    List<Problem> problems = e.problems();
    assertEquals(
        List.of("2:1", "4:8", "5:17", "7:21"),
        problems.stream().map(p -> p.line() + ":" + p.column()).collect(Collectors.toList()));
    assertEquals("'frok'", problems.get(0).found());
    assertEquals(Problem.END_OF_LINE, problems.get(2).found());
    assertEquals("a value", problems.get(2).expected());
    String[] messageLines = e.getMessage().split("\n");
    assertEquals(4, messageLines.length);
    assertTrue(messageLines[0].startsWith("x.trace:2:1: expected an operation ("));
    assertTrue(messageLines[1].startsWith("x.trace:4:8: expected an 8-byte aligned address ("));
    assertEquals("x.trace:5:17: expected a value, found end of line", messageLines[2]);
    assertEquals(
        "x.trace:7:21: expected a protection (none, r, rw, rx, rwx), found 'wx'", messageLines[3]);
    assertEquals(0, e.omitted());
  }

  @Test
  void parse_moreThanTwentyBadLines_listsTwentyAndCountsTheRest() {
    String text = "spawn 1\n" + "frok\n".repeat(25);
    TraceSyntaxException e =
        assertThrows(TraceSyntaxException.class, () -> TraceParser.parse("t", text));
    assertEquals(TraceParser.MAX_PROBLEMS, e.problems().size());
    assertEquals(2, e.problems().get(0).line());
    assertEquals(21, e.problems().get(19).line());
    assertEquals(5, e.omitted());
    String[] messageLines = e.getMessage().split("\n");
    assertEquals(21, messageLines.length);
    assertEquals("... and 5 more bad lines", messageLines[20]);
  }

  // ---------------------------------------------------------------- what a problem echoes

  @Test
  void parse_tokenOfAMillionDigits_echoesItsStartAndLength() {
    String digits = "9".repeat(1_000_000);
    Problem p = problems("pageout " + digits).get(0);
    assertEquals("'" + "9".repeat(80) + "…' (a token of 1,000,000 characters)", p.found());
    assertTrue(p.toString().length() < 300, p.toString());
  }

  @Test
  void parse_controlCharacters_escapedWhereEchoed() {
    assertProblem(
        "t:1:1: expected " + OPERATIONS + ", found 'sp\\u001b[2Jawn'", "sp\u001b[2Jawn 1");
    assertProblem("t:1:7: expected a number, found 'x\\u0000'", "spawn x\u0000");
  }

  @Test
  void parse_longBadName_constructorMessageClipped() {
    Problem p = problems("file " + "a".repeat(5000) + "! 1").get(0);
    assertTrue(p.expected().contains("…(5,004 characters)"), p.expected());
    assertTrue(p.toString().length() < 400, p.toString());
  }

  @Test
  void parse_byteOrderMark_namedAsSuchAndTheOtherLinesRead() {
    List<Problem> problems = problems("\uFEFFspawn 1\nfrok 2\n");
    assertEquals(2, problems.size(), problems.toString());
    assertEquals(
        "t:1:1: expected "
            + TraceParser.NO_BYTE_ORDER_MARK
            + ", found a UTF-8 byte-order mark"
            + " (U+FEFF, bytes 0xef 0xbb 0xbf)",
        problems.get(0).toString());
    assertTrue(TraceParser.NO_BYTE_ORDER_MARK.contains("must not start with one"));
    assertEquals(2, problems.get(1).line());
  }

  @Test
  void parse_byteOrderMarkLaterOn_escapedInTheEcho() {
    assertProblem("t:1:1: expected " + OPERATIONS + ", found 'sp\\ufeffawn'", "sp\uFEFFawn 1");
  }

  @Test
  void parse_bytesNotUtf8_problemAtLineAndColumnNamingTheByteOffset() {
    byte[] good = "spawn 1\r\n# \u00e9 ".getBytes(StandardCharsets.UTF_8); // 9 + 2 + 2 + 1 bytes
    byte[] bytes = Arrays.copyOf(good, good.length + 2);
    bytes[good.length] = (byte) 0xff;
    bytes[good.length + 1] = '\n';
    TraceSyntaxException e =
        assertThrows(TraceSyntaxException.class, () -> TraceParser.parse("t", bytes));
    assertEquals(
        List.of(
            "t:2:5: expected UTF-8 text, found byte 0xff at byte offset 14, which is not UTF-8"),
        e.problems().stream().map(Problem::toString).collect(Collectors.toList()));
  }

  @Test
  void parse_utf8Bytes_sameTraceAsTheText() throws TraceSyntaxException {
    assertEquals(
        parse(Examples.DESIGN),
        TraceParser.parse("t", Examples.DESIGN.getBytes(StandardCharsets.UTF_8)));
  }

  @Test
  void parse_fileNotUtf8_syntaxErrorNamingThePath(@TempDir Path dir) throws IOException {
    Path p = dir.resolve("latin1.trace");
    Files.write(p, new byte[] {'s', 'p', 'a', 'w', 'n', ' ', '1', ' ', '#', ' ', (byte) 0xe9});
    TraceSyntaxException e = assertThrows(TraceSyntaxException.class, () -> TraceParser.parse(p));
    assertEquals(
        p + ":1:11: expected UTF-8 text, found byte 0xe9 at byte offset 10, which is not UTF-8",
        e.problems().get(0).toString());
  }

  private static List<Integer> lineNumbers(Trace trace) {
    return trace.lines().stream().map(TraceLine::line).collect(Collectors.toList());
  }
}
