package org.vmoracle.checks.rules;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.NavigableMap;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Supplier;
import java.util.stream.Stream;
import org.vmoracle.checks.diff.CheckedImpl;
import org.vmoracle.checks.impl.ImplConfigs;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Mapping;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.ProcessView;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.View;
import org.vmoracle.spec.VmSystem;
import org.vmoracle.spec.trace.Replay;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceLine;
import org.vmoracle.spec.trace.TraceParser;
import org.vmoracle.spec.trace.TraceSyntaxException;

/**
 * What every rule test runs on: the systems under test ({@link #systems()}), and a {@link Run} that
 * replays trace text with {@code -> R} expectations on one fresh system and then answers questions
 * about its {@link View}.
 *
 * <p>Rule tests never name a system: they are {@code @ParameterizedTest}s over {@link #SYSTEMS}, so
 * the implementation is checked by every rule test once it is added to {@link #systems()}.
 */
final class RuleHarness {
  private RuleHarness() {}

  /** The {@code @MethodSource} of every rule test. */
  static final String SYSTEMS = "org.vmoracle.checks.rules.RuleHarness#systems";

  /**
   * The {@code @MethodSource} of the rule tests that run thousands of random operations: the model
   * and the implementation with every switch on and with every switch off, the two ends of {@link
   * ImplConfigs#matrix}, and every other reverse map with all switches on. (Each of the matrix's
   * implementations takes some 10 s there; the differential tests run the random mix over the whole
   * matrix.)
   */
  static final String SYSTEMS_AT_BOTH_ENDS = "org.vmoracle.checks.rules.RuleHarness#bothEnds";

  /**
   * The implementation's size in rule tests: 16 MiB of frames, roomy for every rule's trace and
   * cheap to boot hundreds of times; invariants are checked after every operation.
   */
  static final Config IMPL_CONFIG = Config.defaults().withFrames(4096);

  /** {@code MMAP_BASE}: where the first placed mapping of a process goes (PLACE-1). */
  static final long BASE = Boot.MMAP_BASE;

  /** Bytes in a page. */
  static final long PAGE = Boot.PAGE_SIZE;

  /** The map of a process that has only the shared page (BOOT-2). */
  static final String SHARED_PAGE_LINE =
      "7ffffffff000-800000000000 r-xs sharedpage inherit=share\n";

  /** The map of a process right after {@code exec P static} (EXEC-2). */
  static final String STATIC_MAPS =
      "000000400000-000000410000 r-xp file bin/static 0 inherit=copy\n"
          + "000000410000-000000414000 rw-p file bin/static 16 inherit=copy\n"
          + "000000414000-000000418000 rw-p anon inherit=copy\n"
          + "7fffeffc0000-7ffff0000000 rw-p anon inherit=copy\n"
          + SHARED_PAGE_LINE;

  /** The map of a process right after {@code exec P dynamic} (EXEC-3). */
  static final String DYNAMIC_MAPS =
      "000000400000-000000410000 r-xp file bin/dynamic 0 inherit=copy\n"
          + "000000410000-000000414000 rw-p file bin/dynamic 16 inherit=copy\n"
          + "000000414000-000000418000 rw-p anon inherit=copy\n"
          + "7f0000000000-7f0000040000 r-xp file lib/libc 0 inherit=copy\n"
          + "7f0000040000-7f0000044000 rw-p file lib/libc 64 inherit=copy\n"
          + "7fffeffc0000-7ffff0000000 rw-p anon inherit=copy\n"
          + SHARED_PAGE_LINE;

  /** Every word of the shared page, as a process that maps it readable sees it (BOOT-2). */
  static NavigableMap<Long, Long> sharedPageWords() {
    NavigableMap<Long, Long> w = new TreeMap<>();
    for (int i = 0; i < Boot.WORDS_PER_PAGE; i++) {
      w.put(Boot.SHARED_PAGE + 8L * i, Boot.sharedPageWord(i));
    }
    return w;
  }

  /**
   * A system under test.
   *
   * @param name how it shows in test names
   * @param boot makes a freshly booted system (BOOT-1)
   * @param mayRunOut whether it may answer an exhaustion failure (MEM-1, MEM-2, WIRE-7); the model
   *     never does, the implementation may
   */
  record NamedSystem(String name, Supplier<VmSystem> boot, boolean mayRunOut) {
    @Override
    public String toString() {
      return name;
    }
  }

  /**
   * Every system the rules are checked on: the model, the implementation in every configuration of
   * {@link ImplConfigs#matrix} (all switches on, all off, each on alone), so that every slow path
   * keeps every rule too, and the implementation on every other reverse map ({@link
   * ImplConfigs#otherKinds}: "impl pv all on", "impl ptechain all on", ...).
   */
  static Stream<NamedSystem> systems() {
    return withModel(withOtherKinds(ImplConfigs.matrix(IMPL_CONFIG)));
  }

  /**
   * The model, the implementation with all switches on and all off, and every other reverse map
   * with all switches on ("impl pv all on", "impl ptechain all on"; some 7 s each there).
   */
  static Stream<NamedSystem> bothEnds() {
    List<ImplConfigs.Named> configs = withOtherKinds(ImplConfigs.ends(IMPL_CONFIG));
    configs.removeIf(
        n ->
            n.config().rmap() != IMPL_CONFIG.rmap()
                && !n.config().equals(ImplConfigs.allOn(n.config())));
    return withModel(configs);
  }

  /** {@code configs}, then {@link ImplConfigs#otherKinds} of {@link #IMPL_CONFIG}. */
  private static List<ImplConfigs.Named> withOtherKinds(List<ImplConfigs.Named> configs) {
    List<ImplConfigs.Named> out = new ArrayList<>(configs);
    out.addAll(ImplConfigs.otherKinds(IMPL_CONFIG));
    return out;
  }

  /** The model, then the implementation in each of {@code configs} ("all on" is plain "impl"). */
  private static Stream<NamedSystem> withModel(List<ImplConfigs.Named> configs) {
    Stream<NamedSystem> impls =
        configs.stream()
            .map(
                c ->
                    new NamedSystem(
                        c.name().equals("all on") ? "impl" : "impl " + c.name(),
                        () -> new CheckedImpl(new ImplVm(c.config())),
                        true));
    return Stream.concat(Stream.of(new NamedSystem("model", ModelVm::new, false)), impls);
  }

  /** A fresh system of {@code system}, on which {@code trace} has been replayed. */
  static Run replay(NamedSystem system, String trace) {
    return new Run(system).then(trace);
  }

  /** A fresh system of {@code system}, nothing run yet. */
  static Run boot(NamedSystem system) {
    return new Run(system);
  }

  /** Parses trace text; a syntax error fails the test with the parser's problems. */
  static Trace parse(String source, String text) {
    try {
      return TraceParser.parse(source, text);
    } catch (TraceSyntaxException e) {
      return fail(source + ": bad trace: " + e.getMessage(), e);
    }
  }

  /** The one operation on a line of trace text (its expectation, if any, is {@link #line}'s). */
  static Op op(String line) {
    return line(line).op();
  }

  /** The one trace line in {@code text}. */
  static TraceLine line(String text) {
    List<TraceLine> lines = parse("line", text).lines();
    assertEquals(1, lines.size(), "expected exactly one operation in: " + text);
    return lines.get(0);
  }

  /** A map line, for comparing with {@link Run#maps}. */
  static Mapping mapping(
      long start,
      long pages,
      Prot prot,
      Sharing sharing,
      Mapping.Backing backing,
      Inherit inherit,
      boolean wired) {
    return new Mapping(start, start + pages * PAGE, prot, sharing, backing, inherit, wired);
  }

  /** {@code lines} as a view shows them: sorted and with joining lines merged (VIEW-2). */
  static List<Mapping> canonical(List<Mapping> lines) {
    return new ProcessView(1, lines, new TreeMap<>()).maps();
  }

  /** One system, booted fresh, and what has been run on it. */
  static final class Run {
    private final NamedSystem system;
    private final VmSystem vm;
    private int chunks;

    private Run(NamedSystem system) {
      this.system = system;
      this.vm = system.boot().get();
    }

    NamedSystem system() {
      return system;
    }

    /**
     * Replays more trace text on the same system; fails with the replay's message (and the view at
     * that point) on the first unmet expectation.
     */
    Run then(String trace) {
      String source = system.name() + " trace " + (++chunks);
      Replay.Report report = Replay.run(parse(source, trace), vm);
      report
          .unmet()
          .ifPresent(
              u ->
                  fail(
                      u.message()
                          + "\nin:\n"
                          + numbered(trace)
                          + "view then:\n"
                          + vm.view().describe()));
      return this;
    }

    /** Applies one operation and answers its result. */
    Result apply(Op op) {
      Result r = vm.apply(op);
      if (r == null) {
        fail(system.name() + " answered null to " + op);
      }
      return r;
    }

    /** Applies the one operation on a line of trace text (its expectation is ignored). */
    Result apply(String line) {
      return apply(op(line));
    }

    /**
     * Applies a line with an expectation, checks the answer, and checks that the view is as before
     * (ERR-1: a failure changes nothing). Answers this run.
     */
    Run unchanged(String lineWithExpectation) {
      TraceLine line = line(lineWithExpectation);
      assertTrue(line.expect().isPresent(), "no expectation on: " + lineWithExpectation);
      View before = vm.view();
      Result got = apply(line.op());
      assertEquals(line.expect().get(), got, line.op().toString());
      assertViewEquals(before, vm.view(), "after " + lineWithExpectation);
      return this;
    }

    View view() {
      return vm.view();
    }

    /** The view of a live process; fails if {@code pid} is not alive. */
    ProcessView process(int pid) {
      ProcessView p = vm.view().processes().get(pid);
      if (p == null) {
        fail("pid " + pid + " is not in the view:\n" + vm.view().describe());
      }
      return p;
    }

    /** The map lines of a live process, canonical (VIEW-2). */
    List<Mapping> maps(int pid) {
      return process(pid).maps();
    }

    /** The map of a process as text, one line a mapping (as {@link Mapping#toString()}). */
    String mapsText(int pid) {
      return process(pid).mapsText();
    }

    /** Every nonzero word the process can read (VIEW-1). */
    NavigableMap<Long, Long> words(int pid) {
      return process(pid).words();
    }

    /** The words of a process in {@code [addr, addr + pages * PAGE)}. */
    NavigableMap<Long, Long> words(int pid, long addr, long pages) {
      return new TreeMap<>(words(pid).subMap(addr, true, addr + pages * PAGE, false));
    }

    /** The line holding {@code addr}, if any. */
    Optional<Mapping> mappingAt(int pid, long addr) {
      for (Mapping m : maps(pid)) {
        if (m.start() <= addr && addr < m.end()) {
          return Optional.of(m);
        }
      }
      return Optional.empty();
    }

    /** The line holding {@code addr}; fails if there is none. */
    Mapping lineAt(int pid, long addr) {
      return mappingAt(pid, addr)
          .orElseGet(
              () ->
                  fail(
                      "no line of pid "
                          + pid
                          + " holds 0x"
                          + Long.toHexString(addr)
                          + ":\n"
                          + mapsText(pid)));
    }

    /** Whether every page of the range is mapped. */
    boolean mapped(int pid, long addr, long pages) {
      for (long a = addr; a < addr + pages * PAGE; a += PAGE) {
        if (mappingAt(pid, a).isEmpty()) {
          return false;
        }
      }
      return true;
    }

    /** Whether every page of the range lies in a wired line. */
    boolean wired(int pid, long addr, long pages) {
      for (long a = addr; a < addr + pages * PAGE; a += PAGE) {
        Optional<Mapping> m = mappingAt(pid, a);
        if (m.isEmpty() || !m.get().wired()) {
          return false;
        }
      }
      return true;
    }

    /** Whether any line of the process is wired. */
    boolean anyWired(int pid) {
      return maps(pid).stream().anyMatch(Mapping::wired);
    }

    /** The lines of the process that are wired. */
    List<Mapping> wiredLines(int pid) {
      List<Mapping> out = new ArrayList<>();
      for (Mapping m : maps(pid)) {
        if (m.wired()) {
          out.add(m);
        }
      }
      return out;
    }

    /** Reads a word, answering its value; fails if the read does not give a value. */
    long read(int pid, long addr) {
      Result r = apply(new Op.Read(pid, addr));
      if (!(r instanceof Result.Value)) {
        fail("read " + pid + " 0x" + Long.toHexString(addr) + " gave " + r);
      }
      return ((Result.Value) r).value();
    }
  }

  /** Fails, showing both views, unless they are equal. */
  static void assertViewEquals(View expected, View actual, String what) {
    if (!expected.equals(actual)) {
      fail(
          what
              + ": the view changed\nbefore:\n"
              + expected.describe()
              + "after:\n"
              + actual.describe()
              + firstDifference(expected, actual));
    }
  }

  private static String firstDifference(View a, View b) {
    if (!a.filePages().equals(b.filePages())) {
      return "files: " + a.filePages() + " vs " + b.filePages();
    }
    if (!a.shmPages().equals(b.shmPages())) {
      return "shm: " + a.shmPages() + " vs " + b.shmPages();
    }
    if (!a.processes().keySet().equals(b.processes().keySet())) {
      return "pids: " + a.processes().keySet() + " vs " + b.processes().keySet();
    }
    for (int pid : a.processes().keySet()) {
      ProcessView x = a.processes().get(pid);
      ProcessView y = b.processes().get(pid);
      if (!x.maps().equals(y.maps())) {
        return "pid " + pid + " maps differ";
      }
      for (Map.Entry<Long, Long> w : x.words().entrySet()) {
        Long v = y.words().get(w.getKey());
        if (!w.getValue().equals(v)) {
          return "pid "
              + pid
              + " word 0x"
              + Long.toHexString(w.getKey())
              + ": 0x"
              + Long.toHexString(w.getValue())
              + " vs "
              + (v == null ? "none" : "0x" + Long.toHexString(v));
        }
      }
      for (Long addr : y.words().keySet()) {
        if (!x.words().containsKey(addr)) {
          return "pid " + pid + " word 0x" + Long.toHexString(addr) + " appeared";
        }
      }
    }
    return "";
  }

  private static String numbered(String trace) {
    StringBuilder sb = new StringBuilder();
    int n = 0;
    for (String l : trace.split("\n", -1)) {
      sb.append(String.format("%4d  %s%n", ++n, l));
    }
    return sb.toString();
  }

  /** The failure {@code e}. */
  static Result failed(Errno e) {
    return Result.of(e);
  }

  /** The value {@code v}. */
  static Result value(long v) {
    return Result.value(v);
  }
}
