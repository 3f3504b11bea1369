package org.vmoracle.checks.nativ;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.abort;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;
import org.vmoracle.checks.ProjectFiles;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceLine;
import org.vmoracle.spec.trace.TraceParser;
import org.vmoracle.spec.trace.TraceSyntaxException;

/**
 * {@code native --emit-c} ({@link CProgram}): the program written for each example trace compiles
 * with {@code gcc -Wall -Werror}, and run, answers every line as the native runner's kernel did,
 * names the same rule for every line the runner did not ask, and exits 0 (every expectation of the
 * examples is the model's answer, and the runner agrees with the model on them). Skipped where the
 * native runner cannot run.
 */
class CProgramTest {

  private static NativeRunner runner;

  @TempDir static Path dir;

  /** {@code 12: read 1 0x10000000 -> 0x5 (as expected)}: the line and its answer. */
  private static final Pattern ANSWER = Pattern.compile("^([0-9]+): .*? -> (\\S+)");

  @BeforeAll
  static void buildRunner() {
    Optional<String> why = NativeBinary.unavailable();
    if (why.isPresent()) {
      abort("native runner unavailable: " + why.get());
    }
    try {
      runner = NativeRunner.create();
    } catch (NativeUnavailableException e) {
      abort("native runner unavailable: " + e.getMessage());
    }
  }

  static Stream<Path> examples() throws IOException {
    try (Stream<Path> s = Files.list(ProjectFiles.root().resolve("examples"))) {
      return s
          .filter(p -> p.toString().endsWith(".trace"))
          .sorted()
          .collect(Collectors.toList())
          .stream();
    }
  }

  /**
   * The runner's answer to every line it reached, as {@code --skip} runs: the reply or UNSUPPORTED.
   */
  private static Map<Integer, String> runnerAnswers(Trace trace) throws IOException {
    Map<Integer, String> answers = new TreeMap<>();
    try (NativeRunner.Session s = runner.open()) {
      for (TraceLine l : trace.lines()) {
        NativeRunner.Step st = s.step(l.op());
        switch (st.kind()) {
          case AGREE:
          case EXHAUSTED:
            answers.put(l.line(), st.kernel());
            continue;
          case UNSUPPORTED:
            answers.put(l.line(), "UNSUPPORTED");
            if (st.modelWouldChange()) {
              return answers;
            }
            continue;
          case DIFFER:
          case ERROR:
            answers.put(l.line(), String.valueOf(st.kernel()));
            return answers;
        }
      }
    }
    return answers;
  }

  /** Compiles and runs {@code source}; answers its exit code and output. */
  private static Map.Entry<Integer, String> compileAndRun(String name, String source)
      throws IOException, InterruptedException {
    Path c = dir.resolve(name + ".c");
    Path exe = dir.resolve(name);
    Files.writeString(c, source, StandardCharsets.UTF_8);
    Process gcc =
        new ProcessBuilder(
                "gcc", "-std=c11", "-Wall", "-Werror", "-o", exe.toString(), c.toString())
            .redirectErrorStream(true)
            .start();
    String gccOut = new String(gcc.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertTrue(gcc.waitFor(120, TimeUnit.SECONDS), "gcc took too long");
    assertEquals(0, gcc.exitValue(), name + ".c does not compile:\n" + gccOut);
    Process run = new ProcessBuilder(exe.toString()).redirectErrorStream(true).start();
    run.getOutputStream().close();
    String out = new String(run.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!run.waitFor(120, TimeUnit.SECONDS)) {
      run.destroyForcibly();
      throw new AssertionError(name + " took more than 120 s:\n" + out);
    }
    return Map.entry(run.exitValue(), out);
  }

  private static Map<Integer, String> programAnswers(String out) {
    Map<Integer, String> answers = new TreeMap<>();
    for (String l : out.split("\n")) {
      Matcher m = ANSWER.matcher(l);
      if (m.find()) {
        answers.put(Integer.parseInt(m.group(1)), m.group(2));
      }
    }
    return answers;
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("examples")
  void example_emittedProgram_answersAsTheRunner(Path example) throws Exception {
    // DEV-1, DEV-2, DEV-3, DEV-5, HOST-1: skipped and stopping lines are named, not run.
    Trace trace = TraceParser.parse(example);
    NativeVerdict v = runner.run(trace, true);
    Map<Integer, String> want = runnerAnswers(trace);
    String name = example.getFileName().toString().replace(".trace", "").replace('-', '_');
    Map.Entry<Integer, String> got = compileAndRun(name, CProgram.emit(trace, v));
    assertEquals(want, programAnswers(got.getValue()), got.getValue());
    assertEquals(0, got.getKey(), got.getValue());
  }

  @Test
  void emit_unmetExpectation_programExitsOneAtThatLine() throws Exception {
    // FILE-12, FILE-2: the kernel's EFBIG is met; the wrong value at line 4 ends the program.
    Trace trace =
        parse(
            "file f 1\nfwrite f 0x800000000000 1 -> EFBIG\nfwrite f 8 5 -> ok\n"
                + "fread f 8 -> 6\nfread f 0 -> 0\n");
    Map.Entry<Integer, String> got =
        compileAndRun("unmet", CProgram.emit(trace, runner.run(trace, true)));
    assertEquals(1, got.getKey(), got.getValue());
    List<String> lines = List.of(got.getValue().split("\n"));
    assertEquals("2: fwrite f 0x800000000000 1 -> EFBIG (as expected)", lines.get(1));
    assertEquals("4: fread f 0x8 -> 0x5 MISMATCH: the trace expects 0x6", lines.get(3));
    assertEquals(4, lines.size(), got.getValue());
  }

  @Test
  void string_quotesAndBackslashes_escaped() {
    assertEquals("\"a\\\"b\\\\c\\012\"", CProgram.string("a\"b\\c\n"));
  }

  private static Trace parse(String text) throws TraceSyntaxException {
    return TraceParser.parse("t.trace", text);
  }
}
