package org.vmoracle.spec.trace;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharsetDecoder;
import java.nio.charset.CoderResult;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Function;
import java.util.function.Supplier;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;
import org.vmoracle.spec.trace.TraceSyntaxException.Problem;

/**
 * Reads the trace language (the grammar is in {@link org.vmoracle.spec.trace the package
 * documentation}) into a {@link Trace}.
 *
 * <p>Every line is read, and every bad line is reported (its first problem, at most {@link
 * #MAX_PROBLEMS} of them), so a file can be fixed in one pass; a trace with any bad line gives no
 * {@link Trace} at all. A problem names what was expected at a 1-based line and column. Values that
 * the {@link Op} constructors reject (pid 0, a misaligned word address, a page count past 2^35) are
 * problems at the token that carries them, with the constructor's own message.
 */
public final class TraceParser {
  private TraceParser() {}

  /** The most problems one {@link TraceSyntaxException} lists; further bad lines are counted. */
  public static final int MAX_PROBLEMS = 20;

  /**
   * Reads a whole trace.
   *
   * @param source where the text came from, for messages (a file name, or a label)
   * @param text the trace; lines end with {@code \n}, {@code \r\n} or {@code \r}
   * @throws TraceSyntaxException if any line is bad; it lists every bad line (up to {@link
   *     #MAX_PROBLEMS})
   */
  public static Trace parse(String source, String text) throws TraceSyntaxException {
    List<TraceLine> lines = new ArrayList<>();
    List<Problem> problems = new ArrayList<>();
    int badLines = 0;
    int number = 0;
    for (String raw : (Iterable<String>) text.lines()::iterator) {
      number++;
      try {
        if (number == 1 && raw.startsWith(BYTE_ORDER_MARK)) {
          throw new BadLine(
              new Problem(
                  source,
                  1,
                  1,
                  NO_BYTE_ORDER_MARK,
                  "a UTF-8 byte-order mark (U+FEFF, bytes 0xef 0xbb 0xbf)"));
        }
        new LineReader(source, number, raw).read().ifPresent(lines::add);
      } catch (BadLine e) {
        badLines++;
        if (problems.size() < MAX_PROBLEMS) {
          problems.add(e.problem);
        }
      }
    }
    if (badLines > 0) {
      throw new TraceSyntaxException(problems, badLines - problems.size());
    }
    return new Trace(source, lines);
  }

  /**
   * Reads a whole trace from its bytes, which must be UTF-8 text: bytes that are not are a problem
   * at the line and column where they stand, naming their byte offset in the file (and nothing is
   * parsed further).
   *
   * @param source where the bytes came from, for messages (a file name, or a label)
   * @param utf8 the trace as UTF-8
   * @throws TraceSyntaxException if the bytes are not UTF-8 or any line is bad
   */
  public static Trace parse(String source, byte[] utf8) throws TraceSyntaxException {
    return parse(source, decode(source, utf8));
  }

  /**
   * Reads a trace file (UTF-8); its path, as given, is the source in messages.
   *
   * @throws IOException if the file cannot be read
   * @throws TraceSyntaxException if it is not UTF-8 or any line is bad
   */
  public static Trace parse(Path file) throws IOException, TraceSyntaxException {
    return parse(file.toString(), Files.readAllBytes(file));
  }

  /** What a problem says is expected at a byte-order mark that opens a trace. */
  static final String NO_BYTE_ORDER_MARK =
      "a trace without a byte-order mark (it is plain UTF-8 and must not start with one: save it"
          + " without)";

  private static final String BYTE_ORDER_MARK = "\uFEFF";

  /**
   * {@code utf8} as text; bytes that are not UTF-8 throw a problem at their line and column (lines
   * end as {@link String#lines} ends them; the column counts characters), naming the byte and its
   * offset from the start of the file, counted from 0.
   */
  static String decode(String source, byte[] utf8) throws TraceSyntaxException {
    CharsetDecoder decoder =
        StandardCharsets.UTF_8
            .newDecoder()
            .onMalformedInput(CodingErrorAction.REPORT)
            .onUnmappableCharacter(CodingErrorAction.REPORT);
    ByteBuffer in = ByteBuffer.wrap(utf8);
    CharBuffer out = CharBuffer.allocate(utf8.length);
    CoderResult r = decoder.decode(in, out, true);
    if (!r.isError()) {
      r = decoder.flush(out);
    }
    if (!r.isError()) {
      return out.flip().toString();
    }
    int offset = in.position();
    int line = 1;
    int lineStart = 0;
    for (int i = 0; i < offset; i++) {
      byte b = utf8[i];
      boolean crlf = b == '\r' && i + 1 < offset && utf8[i + 1] == '\n';
      if ((b == '\n' || b == '\r') && !crlf) {
        line++;
        lineStart = i + 1;
      }
    }
    int column =
        1 + new String(utf8, lineStart, offset - lineStart, StandardCharsets.UTF_8).length();
    StringBuilder bytes = new StringBuilder();
    for (int i = offset; i < Math.min(offset + r.length(), utf8.length); i++) {
      bytes.append(bytes.length() == 0 ? "" : " ").append(String.format("0x%02x", utf8[i] & 0xff));
    }
    throw new TraceSyntaxException(
        List.of(
            new Problem(
                source,
                line,
                column,
                "UTF-8 text",
                String.format(
                    "%s %s at byte offset %,d, which is not UTF-8",
                    r.length() == 1 ? "byte" : "bytes", bytes, offset))));
  }

  // ---------------------------------------------------------------- what is expected where

  private static final String A_PID = "a pid";
  private static final String AN_IMAGE = "an image name";
  private static final String AN_ADDRESS = "an address";
  private static final String ALIGNED_ADDRESS = "an 8-byte aligned address";
  private static final String A_BYTE_OFFSET = "a byte offset";
  private static final String ALIGNED_OFFSET = "an 8-byte aligned byte offset";
  private static final String A_PAGE_COUNT = "a page count";
  private static final String A_PAGE_OFFSET = "a page offset";
  private static final String A_KEY = "a shm key";
  private static final String A_FILE_NAME = "a file name";
  private static final String A_VALUE = "a value";
  private static final String A_NUMBER = "a number";
  private static final String A_64_BIT_VALUE =
      "a 64-bit value (decimal from -2^63 to 2^64-1, or 0x and at most 16 hex digits)";
  private static final String A_PROT = "a protection (" + words(Prot.values(), Prot::word) + ")";
  private static final String A_SHARING =
      "a sharing (" + words(Sharing.values(), Sharing::word) + ")";
  private static final String AN_INHERIT =
      "an inheritance (" + words(Inherit.values(), Inherit::word) + ")";
  private static final String A_SOURCE = "a source (anon, file, shm)";
  private static final String A_RESULT =
      "a result (a number, ok, or an errno: " + words(Errno.values(), Errno::name) + ")";
  private static final String END_OF_LINE = "end of line";

  /** {@code "w1, w2, ..."}: the trace words of an enum, in declaration order. */
  private static <E> String words(E[] values, Function<E, String> word) {
    return Arrays.stream(values).map(word).collect(Collectors.joining(", "));
  }

  private static final String ARROW = "->";
  private static final Pattern DECIMAL = Pattern.compile("-?[0-9]+");
  private static final Pattern HEX = Pattern.compile("0x[0-9a-fA-F]+");

  // ---------------------------------------------------------------- the operations

  /** Reads the arguments of one operation, its name already consumed. */
  private interface OpReader {
    Op read(LineReader in);
  }

  /**
   * Every operation by its trace word, in {@link Op.Visitor} order. A test checks that every
   * permitted subtype of {@link Op} prints as a line that this table reads back.
   */
  private static final Map<String, OpReader> OPS;

  static {
    Map<String, OpReader> ops = new LinkedHashMap<>();
    ops.put("spawn", in -> new Op.Spawn(in.pid()));
    ops.put("fork", in -> new Op.Fork(in.pid(), in.pid()));
    ops.put("clone", in -> new Op.Clone(in.pid(), in.pid()));
    ops.put(
        "exec",
        in -> {
          int pid = in.pid();
          Token image = in.next(AN_IMAGE);
          return in.check(image, AN_IMAGE, () -> new Op.Exec(pid, image.text()));
        });
    ops.put("exit", in -> new Op.Exit(in.pid()));
    ops.put("mmap", TraceParser::mmap);
    ops.put("munmap", in -> new Op.Munmap(in.pid(), in.address(), in.pages()));
    ops.put("mprotect", in -> new Op.Mprotect(in.pid(), in.address(), in.pages(), in.prot()));
    ops.put("minherit", in -> new Op.Minherit(in.pid(), in.address(), in.pages(), in.inherit()));
    ops.put("mlock", in -> new Op.Mlock(in.pid(), in.address(), in.pages()));
    ops.put("munlock", in -> new Op.Munlock(in.pid(), in.address(), in.pages()));
    ops.put(
        "read",
        in -> {
          int pid = in.pid();
          Token at = in.next(AN_ADDRESS);
          long addr = in.address(at);
          return in.check(at, ALIGNED_ADDRESS, () -> new Op.Read(pid, addr));
        });
    ops.put(
        "write",
        in -> {
          int pid = in.pid();
          Token at = in.next(AN_ADDRESS);
          long addr = in.address(at);
          long value = in.value();
          return in.check(at, ALIGNED_ADDRESS, () -> new Op.Write(pid, addr, value));
        });
    ops.put("file", in -> new Op.File(in.name(), in.pages()));
    ops.put(
        "fwrite",
        in -> {
          String name = in.name();
          Token at = in.next(A_BYTE_OFFSET);
          long offset = in.natural(at, A_BYTE_OFFSET);
          long value = in.value();
          return in.check(at, ALIGNED_OFFSET, () -> new Op.Fwrite(name, offset, value));
        });
    ops.put(
        "fread",
        in -> {
          String name = in.name();
          Token at = in.next(A_BYTE_OFFSET);
          long offset = in.natural(at, A_BYTE_OFFSET);
          return in.check(at, ALIGNED_OFFSET, () -> new Op.Fread(name, offset));
        });
    ops.put("shmget", in -> new Op.Shmget(in.key(), in.pages()));
    ops.put("shmrm", in -> new Op.Shmrm(in.key()));
    ops.put("pageout", in -> new Op.Pageout(in.pages()));
    ops.put("collapse", in -> new Op.Collapse(in.pid(), in.address()));
    OPS = Collections.unmodifiableMap(ops);
  }

  private static final String AN_OPERATION =
      "an operation (" + String.join(", ", OPS.keySet()) + ")";

  /** {@code mmap P ADDR PAGES PROT private|shared anon|file NAME PGOFF|shm KEY [fixed]}. */
  private static Op mmap(LineReader in) {
    int pid = in.pid();
    long addr = in.address();
    long pages = in.pages();
    Prot prot = in.prot();
    Sharing sharing = in.sharing();
    Source source = in.source();
    boolean fixed = false;
    Token last = in.peek();
    if (last != null) {
      if (!last.text().equals("fixed")) {
        throw in.bad(last, "fixed or end of line");
      }
      in.next("fixed");
      fixed = true;
    }
    return new Op.Mmap(pid, addr, pages, prot, sharing, source, fixed);
  }

  // ---------------------------------------------------------------- lines

  /** A word of a line and the 1-based column of its first character. */
  private record Token(String text, int column) {}

  /**
   * Why a line was rejected: thrown from deep in a line's reading and caught for the line, so that
   * the next line is read. Carries no stack trace; it never leaves this class.
   */
  private static final class BadLine extends RuntimeException {
    private static final long serialVersionUID = 1L;
    final Problem problem;

    BadLine(Problem problem) {
      super(problem.toString(), null, false, false);
      this.problem = problem;
    }
  }

  /** Reads one line: a cursor over its tokens. Not thread-safe; one per line. */
  private static final class LineReader {
    private final String source;
    private final int line;
    private final List<Token> tokens;
    private final int endColumn;
    private int pos;

    LineReader(String source, int line, String raw) {
      this.source = source;
      this.line = line;
      int hash = raw.indexOf('#');
      this.tokens = tokenize(hash < 0 ? raw : raw.substring(0, hash));
      Token last = tokens.isEmpty() ? null : tokens.get(tokens.size() - 1);
      this.endColumn = last == null ? 1 : last.column() + last.text().length();
    }

    /**
     * Splits at spaces and tabs; {@code ->} is a token of its own even when written against its
     * neighbours ({@code ->5}), since no other token may contain it.
     */
    private static List<Token> tokenize(String s) {
      List<Token> out = new ArrayList<>();
      int i = 0;
      while (i < s.length()) {
        char c = s.charAt(i);
        if (c == ' ' || c == '\t') {
          i++;
          continue;
        }
        if (s.startsWith(ARROW, i)) {
          out.add(new Token(ARROW, i + 1));
          i += ARROW.length();
          continue;
        }
        int start = i;
        while (i < s.length()
            && s.charAt(i) != ' '
            && s.charAt(i) != '\t'
            && !s.startsWith(ARROW, i)) {
          i++;
        }
        out.add(new Token(s.substring(start, i), start + 1));
      }
      return out;
    }

    /** The line's operation and expectation; empty for a blank or comment-only line. */
    Optional<TraceLine> read() {
      if (tokens.isEmpty()) {
        return Optional.empty();
      }
      Token name = tokens.get(pos++);
      OpReader reader = OPS.get(name.text());
      if (reader == null) {
        throw bad(name, AN_OPERATION);
      }
      Op op;
      try {
        op = reader.read(this);
      } catch (IllegalArgumentException e) {
        // Every argument is checked at its own token before the constructor runs; this is the
        // fallback for a check that no argument reader knows of.
        throw bad(name, "arguments " + name.text() + " accepts (" + e.getMessage() + ")");
      }
      Token extra = peek();
      if (extra != null) {
        throw bad(extra, END_OF_LINE);
      }
      Optional<Result> expect = Optional.empty();
      if (pos < tokens.size()) {
        pos++; // the arrow
        expect = Optional.of(result());
        if (pos < tokens.size()) {
          throw bad(tokens.get(pos), END_OF_LINE);
        }
      }
      return Optional.of(new TraceLine(line, op, expect));
    }

    /** The next token of the operation, or null at the end of the operation (end or arrow). */
    Token peek() {
      if (pos >= tokens.size() || tokens.get(pos).text().equals(ARROW)) {
        return null;
      }
      return tokens.get(pos);
    }

    /** Consumes the next token of the operation; {@code what} is expected there. */
    Token next(String what) {
      Token t = peek();
      if (t == null) {
        throw bad(pos < tokens.size() ? tokens.get(pos) : null, what);
      }
      pos++;
      return t;
    }

    /** A problem at {@code t}, or at the end of the line if {@code t} is null. */
    BadLine bad(Token t, String expected) {
      return new BadLine(
          t == null
              ? new Problem(source, line, endColumn, expected, Problem.END_OF_LINE)
              : new Problem(
                  source, line, t.column(), expected, TraceSyntaxException.echo(t.text())));
    }

    /**
     * Runs a constructor or check that may reject a value; its rejection becomes a problem at
     * {@code t}: {@code expected WHAT (MESSAGE)}.
     */
    <T> T check(Token t, String what, Supplier<T> build) {
      try {
        return build.get();
      } catch (IllegalArgumentException e) {
        throw bad(t, what + " (" + TraceSyntaxException.clip(e.getMessage()) + ")");
      }
    }

    /** Like {@link #check(Token, String, Supplier)}, for a check that answers nothing. */
    void require(Token t, String what, Runnable check) {
      check(
          t,
          what,
          () -> {
            check.run();
            return null;
          });
    }

    // -------------------------------------------------------------- numbers

    /** A number written without a sign, below 2^63; {@code what} names it in problems. */
    long natural(Token t, String what) {
      String s = t.text();
      boolean decimal = DECIMAL.matcher(s).matches();
      if (!decimal && !HEX.matcher(s).matches()) {
        throw bad(t, A_NUMBER);
      }
      if (s.startsWith("-")) {
        throw bad(t, what + " (a number without a sign)");
      }
      try {
        return decimal ? Long.parseLong(s) : Long.parseLong(s.substring(2), 16);
      } catch (NumberFormatException e) {
        throw bad(t, what + " (a number below 2^63)");
      }
    }

    /** Any 64-bit pattern: decimal from -2^63 to 2^64-1, or hex of at most 64 bits. */
    long value(Token t) {
      String s = t.text();
      try {
        if (HEX.matcher(s).matches()) {
          return Long.parseUnsignedLong(s.substring(2), 16);
        }
        if (DECIMAL.matcher(s).matches()) {
          return s.startsWith("-") ? Long.parseLong(s) : Long.parseUnsignedLong(s);
        }
      } catch (NumberFormatException e) {
        throw bad(t, A_64_BIT_VALUE);
      }
      throw bad(t, A_NUMBER);
    }

    long value() {
      return value(next(A_VALUE));
    }

    int pid() {
      Token t = next(A_PID);
      long pid = natural(t, A_PID);
      if (pid > Integer.MAX_VALUE) {
        throw bad(t, A_PID + " (pids lie in [1, " + Integer.MAX_VALUE + "])");
      }
      require(t, A_PID, () -> Op.checkPid((int) pid));
      return (int) pid;
    }

    long address(Token t) {
      long addr = natural(t, AN_ADDRESS);
      require(t, AN_ADDRESS, () -> Op.checkAddress(addr));
      return addr;
    }

    long address() {
      return address(next(AN_ADDRESS));
    }

    long pages() {
      Token t = next(A_PAGE_COUNT);
      long pages = natural(t, A_PAGE_COUNT);
      require(t, A_PAGE_COUNT, () -> Op.checkPages(pages));
      return pages;
    }

    long key() {
      Token t = next(A_KEY);
      long key = natural(t, A_KEY);
      require(t, A_KEY, () -> Op.checkKey(key));
      return key;
    }

    // -------------------------------------------------------------- words

    String name() {
      Token t = next(A_FILE_NAME);
      require(t, A_FILE_NAME, () -> Source.checkName(t.text()));
      return t.text();
    }

    Prot prot() {
      Token t = next(A_PROT);
      Prot p = Prot.fromWord(t.text());
      if (p == null) {
        throw bad(t, A_PROT);
      }
      return p;
    }

    Sharing sharing() {
      Token t = next(A_SHARING);
      Sharing s = Sharing.fromWord(t.text());
      if (s == null) {
        throw bad(t, A_SHARING);
      }
      return s;
    }

    Inherit inherit() {
      Token t = next(AN_INHERIT);
      Inherit i = Inherit.fromWord(t.text());
      if (i == null) {
        throw bad(t, AN_INHERIT);
      }
      return i;
    }

    Source source() {
      Token t = next(A_SOURCE);
      switch (t.text()) {
        case "anon":
          return new Source.Anon();
        case "file":
          {
            String name = name();
            Token at = next(A_PAGE_OFFSET);
            long pgoff = natural(at, A_PAGE_OFFSET);
            return check(at, A_PAGE_OFFSET, () -> new Source.FileRange(name, pgoff));
          }
        case "shm":
          return new Source.Shm(key());
        default: // not one of the three source words of the grammar
          throw bad(t, A_SOURCE);
      }
    }

    /** The expectation after {@code ->}: a value, {@code ok} or an errno name. */
    Result result() {
      Token t = next(A_RESULT);
      if (t.text().equals("ok")) {
        return Result.OK;
      }
      Errno errno = Errno.fromWord(t.text());
      if (errno != null) {
        return Result.of(errno);
      }
      char first = t.text().charAt(0);
      if (first == '-' || (first >= '0' && first <= '9')) {
        return Result.value(value(t));
      }
      throw bad(t, A_RESULT);
    }
  }
}
