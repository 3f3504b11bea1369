package org.vmoracle.checks.lin;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.vmoracle.checks.hunt.ConfigText;
import org.vmoracle.checks.sched.Strategy;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;
import org.vmoracle.model.ModelVm;
import org.vmoracle.spec.Mapping;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.ProcessView;
import org.vmoracle.spec.View;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceLine;
import org.vmoracle.spec.trace.TraceParser;
import org.vmoracle.spec.trace.TracePrinter;
import org.vmoracle.spec.trace.TraceSyntaxException;
import org.vmoracle.spec.trace.TraceSyntaxException.Problem;

/**
 * A concurrent history as a file ({@code .history}): what {@code hunt --threads T} found, written
 * so that {@code vmoracle replay-history} can check it again. It extends the trace language without
 * touching it: every operation line is a trace line ({@link org.vmoracle.spec.trace the grammar}),
 * and the lines around them say where each belongs.
 *
 * <pre>
 * file     = { line }                            one item a line; "#" starts a comment
 * line     = [ item ] [ "#" comment ]
 * item     = "vmoracle-history" "1"              the first item: the format and its version
 *          | "frames" N                          the implementation's frames (default 2048)
 *          | "config" KEY=VALUE{","KEY=VALUE}     the implementation's other settings, as
 *                                                --config takes them (rmap=pv,...); optional
 *          | "bug" NAME                          an injected bug switched on; repeatable
 *          | "seed" S                            the hunt's seed (for people; replay ignores it)
 *          | "schedule" "none"                   no schedule recorded: the threads ran as the
 *                                                JVM scheduled them
 *          | "schedule" STRATEGY SEED CHOICES    the threads ran one at a time under a
 *                                                controlled scheduler: the strategy and seed of
 *                                                the burst (for people), and the choices that
 *                                                replay it: T*N,T*N,... (thread T chosen N times
 *                                                in a row; the first choice is the first thread
 *                                                to run, each next one the thread let go on after
 *                                                a scheduling point); hunt --replay-schedule
 *          | "end-view" "sha256" HEX             the digest of the implementation's view after
 *                                                the threads (below); optional
 *          | "setup"                             starts the setup: trace lines run in order from
 *                                                boot, before the threads
 *          | "thread" T                          starts thread T's calls, in program order
 *          | "end"                               starts the end: trace lines run after the calls
 *          | trace-line                          in the setup or the end: op [ "-&gt;" result ]
 *          | INVOKED ANSWERED trace-line         in a thread: when the call was invoked and
 *                                                when it answered, then op "-&gt;" result
 * </pre>
 *
 * <p>The header items come before {@code setup}; then the setup, each thread once (T from 0), and
 * the end, in that order. INVOKED and ANSWERED are integers from 0 (the hunt writes nanoseconds
 * since the first call was invoked; any clock will do, or event numbers): a call precedes another
 * in real time when it answered before the other was invoked ({@code ANSWERED < INVOKED}); a call
 * answers no sooner than it was invoked, and a thread invokes its next call no sooner than its last
 * one answered. Setup lines may expect results; end lines and calls must.
 *
 * <p>What replaying it checks ({@link HistoryReplay}): the setup, run through the model from boot,
 * gives the expected results; then some order of the calls consistent with real time gives, run
 * through the model from there, the result every call answered, after which the end lines answer as
 * expected and the model's view has the {@code end-view} digest. The digest is SHA-256 of the
 * view's canonical text in UTF-8: for each process by pid, {@code pid P}, then its maps as {@code
 * /proc/P/maps}-style lines ({@link Mapping#toString()}), then {@code WORD_ADDR VALUE} for each
 * non-zero word, in hex; then {@code file NAME PAGES} and {@code shm KEY PAGES} for each file and
 * segment; every line ended by {@code \n}.
 *
 * <p>A bad file is rejected with every bad line's problem, {@code FILE:LINE:COLUMN: expected …,
 * found …}, as the trace parser reports them.
 */
public final class HistoryFile {
  private HistoryFile() {}

  /** The first item of every history file. */
  public static final String MAGIC = "vmoracle-history";

  /** The format's version. */
  public static final int VERSION = 1;

  /**
   * A history read from a file.
   *
   * @param source where it came from, for messages
   * @param frames the implementation's frames for reruns
   * @param settings the implementation's other settings for reruns, in order (the reverse map, a
   *     switch that is not the default, ...); empty for the defaults
   * @param bugs the injected bugs switched on for reruns
   * @param seed the hunt's seed, when recorded
   * @param endView the digest of the implementation's view after the calls, when recorded
   * @param setup the sequential operations from boot
   * @param calls every thread's calls; {@link Call#invoked()} and {@link Call#answered()} are the
   *     file's times
   * @param threads how many thread sections there were
   * @param end the sequential operations after the calls, each with its expected result
   * @param schedule how the threads were scheduled, when a scheduler controlled them
   */
  public record History(
      String source,
      int frames,
      List<ConfigText.Setting> settings,
      Set<Bug> bugs,
      OptionalLong seed,
      Optional<String> endView,
      Trace setup,
      List<Call> calls,
      int threads,
      Trace end,
      Optional<ConcurrentHunt.Scheduled> schedule) {

    public History {
      Objects.requireNonNull(source, "source");
      Objects.requireNonNull(schedule, "schedule");
      settings = List.copyOf(settings);
      bugs = bugs.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(bugs));
      calls = List.copyOf(calls);
    }

    /** A history whose threads the JVM scheduled. */
    public History(
        String source,
        int frames,
        List<ConfigText.Setting> settings,
        Set<Bug> bugs,
        OptionalLong seed,
        Optional<String> endView,
        Trace setup,
        List<Call> calls,
        int threads,
        Trace end) {
      this(
          source,
          frames,
          settings,
          bugs,
          seed,
          endView,
          setup,
          calls,
          threads,
          end,
          Optional.empty());
    }

    /** The implementation's settings for a rerun. */
    public Config config() {
      Config c = ConfigText.applyAll(Config.defaults(), settings).withFrames(frames);
      for (Bug b : bugs) {
        c = c.withBug(b);
      }
      return c;
    }

    /** Thread {@code t}'s calls, in program order. */
    public List<Call> thread(int t) {
      List<Call> out = new ArrayList<>();
      for (Call c : calls) {
        if (c.thread() == t) {
          out.add(c);
        }
      }
      out.sort(Comparator.comparingInt(Call::index));
      return out;
    }
  }

  // ------------------------------------------------------------------------------------ writing

  /**
   * The text of a history file: {@code comments} first (each line a {@code #} comment), then the
   * header, the setup, each thread's calls with their times relative to the first invocation, and
   * the end.
   */
  public static String render(List<String> comments, History h) {
    StringBuilder sb = new StringBuilder();
    for (String c : comments) {
      for (String part : c.split("\n", -1)) {
        sb.append(part.isEmpty() ? "#" : "# " + part).append('\n');
      }
    }
    sb.append(MAGIC).append(' ').append(VERSION).append('\n');
    sb.append("frames ").append(h.frames()).append('\n');
    if (!h.settings().isEmpty()) {
      sb.append("config ").append(ConfigText.join(h.settings())).append('\n');
    }
    h.bugs().stream().sorted().forEach(b -> sb.append("bug ").append(b.name()).append('\n'));
    h.seed().ifPresent(s -> sb.append("seed ").append(s).append('\n'));
    if (h.schedule().isPresent()) {
      ConcurrentHunt.Scheduled x = h.schedule().get();
      sb.append("schedule ")
          .append(x.strategy().word())
          .append(' ')
          .append(x.seed())
          .append(' ')
          .append(choices(x.choices()))
          .append('\n');
    } else {
      sb.append(
          "schedule none  # the threads ran as the JVM scheduled them; no schedule is kept\n");
    }
    h.endView().ifPresent(d -> sb.append("end-view sha256 ").append(d).append('\n'));
    sb.append("setup\n");
    sb.append(TracePrinter.print(h.setup()));
    long t0 = h.calls().stream().mapToLong(Call::invoked).min().orElse(0);
    for (int t = 0; t < h.threads(); t++) {
      sb.append("thread ").append(t).append('\n');
      for (Call c : h.thread(t)) {
        sb.append(
            String.format(
                "%d %d %s -> %s%n", c.invoked() - t0, c.answered() - t0, c.op(), c.result()));
      }
    }
    sb.append("end\n");
    sb.append(TracePrinter.print(h.end()));
    return sb.toString();
  }

  /** {@code 0*12,1*3,0*40}: choices, run-length encoded, as a {@code schedule} item has them. */
  static String choices(int[] c) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < c.length; ) {
      int j = i;
      while (j < c.length && c[j] == c[i]) {
        j++;
      }
      sb.append(sb.length() == 0 ? "" : ",").append(c[i]).append('*').append(j - i);
      i = j;
    }
    return sb.toString();
  }

  /** The choices {@link #choices(int[])} wrote; null when {@code text} is not such a list. */
  static int[] choices(String text) {
    List<Integer> out = new ArrayList<>();
    for (String run : text.split(",", -1)) {
      int star = run.indexOf('*');
      if (star <= 0 || star == run.length() - 1) {
        return null;
      }
      int t;
      long n;
      try {
        t = Integer.parseInt(run.substring(0, star));
        n = Long.parseLong(run.substring(star + 1));
      } catch (NumberFormatException e) {
        return null;
      }
      if (t < 0 || t > 63 || n < 1 || out.size() + n > 100_000_000L) {
        return null;
      }
      for (long k = 0; k < n; k++) {
        out.add(t);
      }
    }
    return out.stream().mapToInt(Integer::intValue).toArray();
  }

  /** The digest an {@code end-view} item records for {@code v} (see the class comment). */
  public static String digest(View v) {
    StringBuilder sb = new StringBuilder();
    for (ProcessView p : v.processes().values()) {
      sb.append("pid ").append(p.pid()).append('\n');
      for (Mapping m : p.maps()) {
        sb.append(m).append('\n');
      }
      for (Map.Entry<Long, Long> w : p.words().entrySet()) {
        sb.append(Long.toHexString(w.getKey()))
            .append(' ')
            .append(Long.toHexString(w.getValue()))
            .append('\n');
      }
    }
    new TreeMap<>(v.filePages())
        .forEach((n, pages) -> sb.append("file ").append(n).append(' ').append(pages).append('\n'));
    new TreeMap<>(v.shmPages())
        .forEach((k, pages) -> sb.append("shm ").append(k).append(' ').append(pages).append('\n'));
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      return HexFormat.of().formatHex(md.digest(sb.toString().getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every Java platform has SHA-256", e);
    }
  }

  /**
   * {@code threads-<kind>-<seed>.history}: the kind of finding ({@link
   * ConcurrentHunt.Finding#kind}) and the hunt's seed; with injected bugs on, one {@code -<bug>}
   * for each before {@code .history}.
   */
  public static String name(Config config, long seed, ConcurrentHunt.Finding f) {
    StringBuilder sb = new StringBuilder("threads-").append(f.kind()).append('-').append(seed);
    config.bugs().stream()
        .sorted()
        .forEach(b -> sb.append('-').append(b.name().toLowerCase(Locale.ROOT).replace('_', '-')));
    return sb.append(".history").toString();
  }

  /** The history of {@code f}, found by a hunt of {@code threads} threads on {@code config}. */
  public static History of(Config config, long seed, int threads, ConcurrentHunt.Finding f) {
    List<TraceLine> setup = new ArrayList<>();
    ModelVm model = new ModelVm();
    for (Op op : f.setup()) {
      setup.add(new TraceLine(setup.size() + 1, op, Optional.of(model.apply(op))));
    }
    return new History(
        "hunt",
        config.frames(),
        otherSettings(config),
        config.bugs(),
        OptionalLong.of(seed),
        Optional.of(digest(f.endView())),
        new Trace("setup", setup),
        f.history(),
        threads,
        new Trace("end", f.end()),
        f.schedule());
  }

  /** What sets {@code c} apart from the defaults, but its frames and bugs (a header's "config"). */
  static List<ConfigText.Setting> otherSettings(Config c) {
    List<ConfigText.Setting> out = new ArrayList<>();
    for (ConfigText.Setting s : ConfigText.changes(Config.defaults(), c)) {
      if (s.key() != ConfigText.Key.FRAMES) {
        out.add(s);
      }
    }
    return out;
  }

  /**
   * Writes {@code f}, found by {@code hunt --threads threads --burst burst --seed seed} on {@code
   * config}, into {@code dir} (made if missing) as {@link #name}, and answers its path and what
   * checking the written file again says ({@link HistoryReplay#check}).
   */
  public static Written write(
      Path dir, Config config, long seed, int threads, int burst, ConcurrentHunt.Finding f)
      throws IOException {
    History h = of(config, seed, threads, f);
    Path p = dir.resolve(name(config, seed, f));
    List<String> comments = new ArrayList<>();
    comments.add("vmoracle concurrent hunt finding: " + f.why().split("\n", 2)[0]);
    comments.add(
        String.format(
            "  a burst of %d calls on %d threads, after %,d operations of setup and earlier bursts",
            f.history().size(), threads, f.setup().size()));
    if (!config.bugs().isEmpty()) {
      comments.add(
          "injected bugs on: "
              + config.bugs().stream().sorted().map(Bug::name).collect(Collectors.joining(", "))
              + "\n  (planted, not to be fixed)");
    }
    comments.add(
        String.format(
            "reproduce the hunt (%s): vmoracle hunt --threads %d --burst %d --seed %d%s%s%s",
            f.schedule().isPresent()
                ? "deterministic: the same bursts, the same schedules"
                : "by chance, for a race",
            threads,
            burst,
            seed,
            // A portfolio's burst names its turn (pct:2, ...): the hunt was --strategy portfolio.
            f.schedule().map(x -> " --strategy " + x.strategy().word()).orElse(""),
            (config.frames() == ConcurrentHunt.FRAMES ? "" : " --frames " + config.frames())
                + (h.settings().isEmpty() ? "" : " --config " + ConfigText.join(h.settings())),
            config.bugs().stream()
                .sorted()
                .map(b -> " --bug " + b.name())
                .collect(Collectors.joining())));
    f.schedule()
        .ifPresent(
            x -> {
              comments.add(
                  "the burst ran under a controlled scheduler ("
                      + x.strategy().word()
                      + ", burst seed "
                      + x.seed()
                      + "); which thread ran which step, in order:");
              x.lines().forEach(l -> comments.add("  " + l));
              comments.add(
                  "replay the schedule: vmoracle hunt --replay-schedule "
                      + p.getFileName()
                      + " runs the threads' calls again\n  under the same choices, deterministically");
            });
    comments.add(
        "replay: vmoracle replay-history "
            + p.getFileName()
            + " checks this history again against the model,\n  then reruns the threads' calls on"
            + " the implementation; the format is in HistoryFile's Javadoc and the README");
    // Read back what is written, so that the verdict is the file's own, not the hunt's.
    HistoryReplay.Verdict v;
    History back;
    try {
      back = parse(p.toString(), render(comments, h));
      v = HistoryReplay.check(back);
    } catch (TraceSyntaxException e) {
      throw new IllegalStateException("a history written does not read back: " + e.getMessage(), e);
    }
    Optional<Boolean> replays = Optional.empty();
    if (back.schedule().isPresent()) {
      Optional<String> again = HistoryReplay.replaySchedule(back).failure();
      String why = f.why().split("\n", 2)[0];
      replays = Optional.of(again.isPresent() && again.get().split("\n", 2)[0].equals(why));
      comments.add(
          replays.get()
              ? "replayed: the schedule fails the same way again, from the setup alone"
              : "replayed: the schedule does not fail the same way from the setup alone ("
                  + again.map(x -> x.split("\n", 2)[0]).orElse("it passes")
                  + "): it replays only inside its hunt");
    }
    comments.add(
        v.linearizable()
            ? "checked again, the recorded history passes ("
                + v.why()
                + "): what was found shows only in reruns"
            : "checked again, the recorded history fails: " + v.why());
    Files.createDirectories(dir);
    Files.writeString(p, render(comments, h), StandardCharsets.UTF_8);
    return new Written(p, v, replays);
  }

  /**
   * A history file written, what checking it again said, and for a controlled finding whether its
   * schedule, replayed from the file, fails the same way.
   */
  public record Written(Path file, HistoryReplay.Verdict verdict, Optional<Boolean> replays) {}

  // ------------------------------------------------------------------------------------ reading

  private enum Section {
    HEADER,
    SETUP,
    THREAD,
    END
  }

  /** One whitespace-separated word of a line and the 1-based column it starts at. */
  private record Word(String text, int column) {}

  /** A call line's times, until its trace line is parsed. */
  private record Timed(int line, int thread, int index, long invoked, long answered, int column) {}

  /**
   * Reads a history file.
   *
   * @param source where the text came from, for messages (a file name)
   * @throws TraceSyntaxException listing every bad line, {@code source:line:column}
   */
  public static History parse(String source, String text) throws TraceSyntaxException {
    List<String> lines = text.lines().collect(Collectors.toList());
    String[] shadow = new String[lines.size()]; // what the trace parser reads: operations only
    Section[] where = new Section[lines.size()];
    List<Problem> problems = new ArrayList<>();
    List<Timed> timed = new ArrayList<>();
    Section section = Section.HEADER;
    boolean magic = false;
    int frames = ConcurrentHunt.FRAMES;
    List<ConfigText.Setting> settings = new ArrayList<>();
    Set<Bug> bugs = EnumSet.noneOf(Bug.class);
    OptionalLong seed = OptionalLong.empty();
    Optional<String> endView = Optional.empty();
    Optional<ConcurrentHunt.Scheduled> schedule = Optional.empty();
    int thread = -1;
    int index = 0;
    long lastAnswered = -1;
    for (int i = 0; i < lines.size(); i++) {
      int number = i + 1;
      String raw = lines.get(i);
      shadow[i] = "";
      List<Word> w = words(raw);
      if (w.isEmpty()) {
        continue;
      }
      String head = w.get(0).text();
      try {
        if (!magic) {
          expect(source, number, w, 0, MAGIC, "'" + MAGIC + " 1', the first item");
          long v = number(source, number, w, 1, "the format's version");
          if (v != VERSION) {
            throw bad(source, number, w.get(1).column(), "version " + VERSION, w.get(1).text());
          }
          end(source, number, raw, w, 2);
          magic = true;
          continue;
        }
        switch (head) {
          case "frames":
          case "config":
          case "bug":
          case "seed":
          case "schedule":
          case "end-view":
            if (section != Section.HEADER) {
              throw bad(source, number, w.get(0).column(), "an operation, 'thread' or 'end'", head);
            }
            if (head.equals("frames")) {
              long f = number(source, number, w, 1, "a number of frames");
              if (f < 16 || f > Integer.MAX_VALUE) {
                throw bad(source, number, w.get(1).column(), "16 frames or more", w.get(1).text());
              }
              frames = (int) f;
            } else if (head.equals("config")) {
              String given = word(source, number, w, 1, "KEY=VALUE settings, comma-separated");
              int column = w.get(1).column();
              for (String part : given.split(",", -1)) {
                try {
                  ConfigText.Setting set = ConfigText.parse(part);
                  if (set.key() == ConfigText.Key.FRAMES) {
                    throw new IllegalArgumentException("frames is its own item");
                  }
                  settings.add(set);
                } catch (IllegalArgumentException e) {
                  throw bad(source, number, column, "a setting (" + e.getMessage() + ")", part);
                }
                column += part.length() + 1;
              }
            } else if (head.equals("bug")) {
              bugs.add(bug(source, number, w));
            } else if (head.equals("seed")) {
              seed = OptionalLong.of(number(source, number, w, 1, "the hunt's seed"));
            } else if (head.equals("schedule")) {
              String what = word(source, number, w, 1, "'none' or a strategy");
              if (!what.equals("none")) {
                Strategy st;
                try {
                  st = Strategy.parse(what);
                } catch (IllegalArgumentException e) {
                  throw bad(source, number, w.get(1).column(), "'none' or a strategy", what);
                }
                long sd = number(source, number, w, 2, "the burst's seed");
                String cs = word(source, number, w, 3, "choices T*N,T*N,...");
                int[] parsed = choices(cs);
                if (parsed == null || parsed.length == 0) {
                  throw bad(
                      source,
                      number,
                      w.get(3).column(),
                      "choices T*N,T*N,... (thread T from 0, N times at least 1)",
                      cs);
                }
                schedule = Optional.of(new ConcurrentHunt.Scheduled(st, sd, parsed, List.of()));
              }
            } else {
              expect(source, number, w, 1, "sha256", "'sha256'");
              String hex = word(source, number, w, 2, "a SHA-256 digest in hex");
              if (!hex.matches("[0-9a-f]{64}")) {
                throw bad(
                    source, number, w.get(2).column(), "64 lowercase hex digits", w.get(2).text());
              }
              endView = Optional.of(hex);
            }
            int items =
                head.equals("end-view")
                    ? 3
                    : head.equals("schedule") && schedule.isPresent() ? 4 : 2;
            end(source, number, raw, w, items);
            continue;
          case "setup":
            if (section != Section.HEADER) {
              throw bad(source, number, w.get(0).column(), "an operation, 'thread' or 'end'", head);
            }
            end(source, number, raw, w, 1);
            section = Section.SETUP;
            continue;
          case "thread":
            if (section != Section.SETUP && section != Section.THREAD) {
              throw bad(source, number, w.get(0).column(), "'setup' before the threads", head);
            }
            long t = number(source, number, w, 1, "a thread number");
            if (t != thread + 1) {
              throw bad(
                  source, number, w.get(1).column(), "thread " + (thread + 1), w.get(1).text());
            }
            end(source, number, raw, w, 2);
            thread = (int) t;
            index = 0;
            lastAnswered = -1;
            section = Section.THREAD;
            continue;
          case "end":
            if (section != Section.SETUP && section != Section.THREAD) {
              throw bad(source, number, w.get(0).column(), "'setup' before the end", head);
            }
            end(source, number, raw, w, 1);
            section = Section.END;
            continue;
          default:
            break;
        }
        if (section == Section.HEADER) {
          throw bad(
              source,
              number,
              w.get(0).column(),
              "a header item (frames, config, bug, seed, schedule, end-view) or 'setup'",
              head);
        }
        where[i] = section;
        if (section != Section.THREAD) {
          shadow[i] = raw;
          continue;
        }
        long invoked = number(source, number, w, 0, "the time the call was invoked");
        long answered = number(source, number, w, 1, "the time the call answered");
        if (answered < invoked) {
          throw bad(
              source,
              number,
              w.get(1).column(),
              "a time no sooner than the call was invoked (" + invoked + ")",
              w.get(1).text());
        }
        if (invoked < lastAnswered) {
          throw bad(
              source,
              number,
              w.get(0).column(),
              "a time no sooner than the thread's last call answered (" + lastAnswered + ")",
              w.get(0).text());
        }
        lastAnswered = answered;
        if (w.size() < 3) {
          throw bad(source, number, raw.length() + 1, "an operation", Problem.END_OF_LINE);
        }
        int opColumn = w.get(2).column();
        // Blank the times: the trace parser then reports columns of the line as written.
        shadow[i] = " ".repeat(opColumn - 1) + raw.substring(opColumn - 1);
        timed.add(new Timed(number, thread, index++, invoked, answered, opColumn));
      } catch (BadLine e) {
        problems.add(e.problem);
      }
    }
    if (!magic) {
      problems.add(
          new Problem(source, Math.max(1, lines.size()), 1, "'" + MAGIC + " 1'", "end of file"));
    }

    Trace ops = null;
    while (ops == null) {
      try {
        ops = TraceParser.parse(source, String.join("\n", shadow));
      } catch (TraceSyntaxException e) {
        // Blank the bad lines and read the rest again, to check what the good ones lack.
        for (Problem p : e.problems()) {
          problems.add(p);
          shadow[p.line() - 1] = "";
          where[p.line() - 1] = null;
        }
      }
    }
    Map<Integer, TraceLine> byLine = new TreeMap<>();
    for (TraceLine l : ops.lines()) {
      byLine.put(l.line(), l);
    }
    List<TraceLine> setup = new ArrayList<>();
    List<TraceLine> end = new ArrayList<>();
    for (TraceLine l : byLine.values()) {
      Section s = where[l.line() - 1];
      if (s == Section.END && l.expect().isEmpty()) {
        problems.add(missingResult(source, l.line(), lines.get(l.line() - 1), "an end line"));
      } else if (s == Section.SETUP) {
        setup.add(l);
      } else if (s == Section.END) {
        end.add(l);
      }
    }
    List<Call> calls = new ArrayList<>();
    for (Timed t : timed) {
      TraceLine l = byLine.get(t.line());
      if (l == null) {
        continue; // a bad operation, said above
      }
      if (l.expect().isEmpty()) {
        problems.add(missingResult(source, t.line(), lines.get(t.line() - 1), "a call"));
        continue;
      }
      calls.add(
          new Call(t.thread(), t.index(), l.op(), l.expect().get(), t.invoked(), t.answered()));
    }
    if (!problems.isEmpty()) {
      problems.sort(Comparator.comparingInt(Problem::line).thenComparingInt(Problem::column));
      int shown = Math.min(problems.size(), TraceParser.MAX_PROBLEMS);
      throw new TraceSyntaxException(problems.subList(0, shown), problems.size() - shown);
    }
    return new History(
        source,
        frames,
        settings,
        bugs,
        seed,
        endView,
        new Trace(source, setup),
        calls,
        thread + 1,
        new Trace(source, end),
        schedule);
  }

  private static Problem missingResult(String source, int line, String raw, String what) {
    int hash = raw.indexOf('#');
    int endColumn =
        (hash >= 0 ? raw.substring(0, hash).stripTrailing() : raw.stripTrailing()).length();
    return new Problem(
        source,
        line,
        endColumn + 1,
        "'->' and the result " + what + " answered",
        Problem.END_OF_LINE);
  }

  private static Bug bug(String source, int line, List<Word> w) throws BadLine {
    String name = word(source, line, w, 1, "a bug name");
    for (Bug b : Bug.values()) {
      if (b.name().equalsIgnoreCase(name)) {
        return b;
      }
    }
    throw bad(source, line, w.get(1).column(), "an injected bug (impl/…/core/Bug.java)", name);
  }

  private static List<Word> words(String raw) {
    int hash = raw.indexOf('#');
    String s = hash >= 0 ? raw.substring(0, hash) : raw;
    List<Word> out = new ArrayList<>();
    int i = 0;
    while (i < s.length()) {
      while (i < s.length() && (s.charAt(i) == ' ' || s.charAt(i) == '\t')) {
        i++;
      }
      int start = i;
      while (i < s.length() && s.charAt(i) != ' ' && s.charAt(i) != '\t') {
        i++;
      }
      if (i > start) {
        out.add(new Word(s.substring(start, i), start + 1));
      }
    }
    return out;
  }

  private static String word(String source, int line, List<Word> w, int at, String what)
      throws BadLine {
    if (at >= w.size()) {
      Word last = w.get(w.size() - 1);
      throw bad(source, line, last.column() + last.text().length() + 1, what, Problem.END_OF_LINE);
    }
    return w.get(at).text();
  }

  private static void expect(
      String source, int line, List<Word> w, int at, String word, String what) throws BadLine {
    if (!word(source, line, w, at, what).equals(word)) {
      throw bad(source, line, w.get(at).column(), what, w.get(at).text());
    }
  }

  /** A non-negative number, decimal or {@code 0x} hex. */
  private static long number(String source, int line, List<Word> w, int at, String what)
      throws BadLine {
    String s = word(source, line, w, at, what);
    try {
      long v =
          s.startsWith("0x") || s.startsWith("0X")
              ? Long.parseLong(s.substring(2), 16)
              : Long.parseLong(s);
      if (v >= 0) {
        return v;
      }
    } catch (NumberFormatException e) {
      // said below
    }
    throw bad(source, line, w.get(at).column(), what + " (a number, at least 0)", s);
  }

  private static void end(String source, int line, String raw, List<Word> w, int count)
      throws BadLine {
    if (w.size() > count) {
      throw bad(source, line, w.get(count).column(), "end of line or '#'", w.get(count).text());
    }
  }

  private static BadLine bad(String source, int line, int column, String expected, String found) {
    return new BadLine(
        new Problem(
            source,
            line,
            column,
            expected,
            found.equals(Problem.END_OF_LINE) ? found : "'" + found + "'"));
  }

  /** One bad line: its first problem. */
  private static final class BadLine extends Exception {
    private static final long serialVersionUID = 1L;
    final transient Problem problem;

    BadLine(Problem problem) {
      super(problem.toString(), null, false, false);
      this.problem = problem;
    }
  }
}
