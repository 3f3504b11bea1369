package org.vmoracle.checks.nativ;

import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.PrintWriter;
import java.nio.charset.Charset;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.vmoracle.checks.gen.Generator;
import org.vmoracle.checks.gen.Profile;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceLine;

/**
 * Hunting disagreements between the model and the host kernel: runs of random, state-aware
 * operations ({@link Generator}, from seeds S, S+1, …) stepped in both side by side ({@link
 * NativeRunner.Session}). An operation the kernel cannot be asked (a rule of {@link Deviations}) is
 * simply not run on either side and the generator is told it failed, so unsupported operations
 * never end a run. A disagreement ends its run; the hunt goes on with the next seed and collects
 * disagreements of different kinds ({@link #signature}), each with the shortest reproducer it finds
 * within a time limit, written to {@code target/vmoracle/findings/native-KIND-SEED.trace}.
 *
 * <p>Entry points: {@link #run} for the command line ({@code vmoracle hunt --native}), {@link
 * #main} to run it alone.
 */
public final class NativeHunt {
  private NativeHunt() {}

  /** Operations in one run: long enough for deep fork trees, short enough to shrink. */
  public static final int OPS_PER_RUN = 400;

  /** Kinds of disagreement collected before the hunt stops early. */
  public static final int MAX_FINDINGS = 8;

  /** Longest time spent shrinking one finding by default, in milliseconds. */
  public static final long SHRINK_MILLIS = 20_000;

  /**
   * One kind of disagreement, with its reproducer.
   *
   * @param signature what kind: the operation, and what each side answered, values left out
   * @param seed the seed of the run that found it
   * @param trace the reproducer, every line with the model's answer as its expectation; the last
   *     line is the one the kernel answers differently
   * @param kernel what the kernel answered on the last line
   */
  public record Finding(String signature, long seed, List<String> trace, String kernel) {
    public Finding {
      trace = List.copyOf(trace);
    }

    /** The reproducer as a trace file. */
    public String render() {
      StringBuilder sb = new StringBuilder();
      sb.append("# vmoracle hunt --native: ").append(signature).append('\n');
      sb.append("# seed ")
          .append(seed)
          .append("; the last line's expectation is the model's, the")
          .append(" kernel answers ")
          .append(kernel)
          .append('\n');
      sb.append("# run it with: ./vmoracle native FILE\n");
      for (String l : trace) {
        sb.append(l).append('\n');
      }
      return sb.toString();
    }
  }

  /**
   * What a hunt came to.
   *
   * @param runs runs started
   * @param operations operations that both sides ran and agreed on
   * @param unsupported operations not run, by rule
   * @param findings the kinds of disagreement found, in the order found
   */
  public record Report(
      long runs, long operations, Map<String, Long> unsupported, List<Finding> findings) {}

  /**
   * Hunts from {@code seed} until {@code millis} have passed or {@link #MAX_FINDINGS} kinds of
   * disagreement were found, shrinking each finding for at most {@code shrinkMillis}. Progress
   * lines go to {@code progress}. No requirements.
   */
  public static Report hunt(
      NativeRunner runner,
      Profile profile,
      long seed,
      long millis,
      long shrinkMillis,
      PrintWriter progress) {
    long deadline = System.currentTimeMillis() + millis;
    long nextProgress = System.currentTimeMillis() + 2000;
    long runs = 0;
    long operations = 0;
    Map<String, Long> unsupported = new TreeMap<>();
    Map<String, Finding> findings = new LinkedHashMap<>();
    for (long s = seed;
        System.currentTimeMillis() < deadline && findings.size() < MAX_FINDINGS;
        s++) {
      runs++;
      Generator g = profile.generator(s);
      List<String> done = new ArrayList<>();
      try (NativeRunner.Session session = runner.open()) {
        for (int i = 0; i < OPS_PER_RUN; i++) {
          Op op = g.next();
          NativeRunner.Step step = session.step(op);
          if (step.kind() == NativeRunner.Step.Kind.AGREE) {
            operations++;
            done.add(op + " -> " + step.model());
            g.observe(op, step.model());
            continue;
          }
          if (step.kind() == NativeRunner.Step.Kind.UNSUPPORTED
              || step.kind() == NativeRunner.Step.Kind.EXHAUSTED) {
            String why = step.rule() != null ? step.rule().id() : "MEM-1";
            unsupported.merge(why, 1L, Long::sum);
            g.observe(op, Result.of(Errno.EINVAL)); // not run: the generator learns nothing
            continue;
          }
          if (step.kind() == NativeRunner.Step.Kind.ERROR) {
            progress.println("hunt --native: seed " + s + ": the runner failed: " + step.detail());
            break;
          }
          String sig = signature(op, step.model(), step.kernel());
          if (!findings.containsKey(sig)) {
            done.add(op + " -> " + step.model());
            progress.println("hunt --native: seed " + s + ": " + sig + " (" + op + "); shrinking…");
            progress.flush();
            findings.put(
                sig, shrink(runner, new Finding(sig, s, done, step.kernel()), shrinkMillis));
          }
          break;
        }
      } catch (IOException e) {
        progress.println("hunt --native: the runner did not start: " + e.getMessage());
        break;
      }
      if (System.currentTimeMillis() >= nextProgress) {
        progress.printf(
            "hunt --native: %d runs, %,d operations compared, %d kinds of disagreement%n",
            runs, operations, findings.size());
        progress.flush();
        nextProgress = System.currentTimeMillis() + 2000;
      }
    }
    return new Report(runs, operations, unsupported, List.copyOf(findings.values()));
  }

  /**
   * The kind of a disagreement: the operation's name and the two answers, with values (addresses,
   * words) written as {@code a value}, so that the same mistake found twice counts once.
   */
  static String signature(Op op, Result model, String kernel) {
    String name = op.toString().split(" ", 2)[0];
    String m = model instanceof Result.Value ? "a value" : model.toString();
    String k = kernel.startsWith("0x") ? "a value" : kernel;
    return name + ": model " + m + ", kernel " + k;
  }

  /**
   * The finding with a shorter reproducer of the same kind, if one is found within {@code millis}:
   * lines are removed in halves, quarters, … down to single lines (delta debugging by complement),
   * each candidate run natively from a fresh system, unsupported lines that change nothing skipped.
   * Expectations are then those of the model on the shorter trace.
   */
  static Finding shrink(NativeRunner runner, Finding f, long millis) {
    long deadline = System.currentTimeMillis() + millis;
    List<String> ops = new ArrayList<>();
    for (String l : f.trace()) {
      ops.add(l.substring(0, l.indexOf(" -> ")));
    }
    String last = ops.remove(ops.size() - 1);
    int chunk = Math.max(1, ops.size() / 2);
    while (chunk >= 1 && System.currentTimeMillis() < deadline) {
      boolean removed = false;
      for (int from = 0; from < ops.size() && System.currentTimeMillis() < deadline; ) {
        List<String> candidate = new ArrayList<>(ops.subList(0, from));
        candidate.addAll(ops.subList(Math.min(ops.size(), from + chunk), ops.size()));
        if (sameKind(runner, candidate, last, f.signature())) {
          ops = candidate;
          removed = true;
        } else {
          from += chunk;
        }
      }
      if (!removed) {
        chunk /= 2;
      }
    }
    ops.add(last);
    Optional<List<String>> expected = withExpectations(runner, ops);
    return expected.map(t -> new Finding(f.signature(), f.seed(), t, f.kernel())).orElse(f);
  }

  /** Whether the ops, then {@code last}, end in a disagreement of kind {@code signature} there. */
  private static boolean sameKind(
      NativeRunner runner, List<String> ops, String last, String signature) {
    List<String> all = new ArrayList<>(ops);
    all.add(last);
    Optional<Trace> t = parse(all);
    if (t.isEmpty()) {
      return false;
    }
    NativeVerdict v = runner.run(t.get(), true);
    if (v.kind() != NativeVerdict.Kind.DIFFER || v.line() != all.size()) {
      return false;
    }
    Result model = Protocol.parse(v.model()).orElse(null);
    return model != null && signature(v.op(), model, v.kernel()).equals(signature);
  }

  /** The ops with the model's answers as expectations, as a native run gives them. */
  private static Optional<List<String>> withExpectations(NativeRunner runner, List<String> ops) {
    Optional<Trace> t = parse(ops);
    if (t.isEmpty()) {
      return Optional.empty();
    }
    List<String> out = new ArrayList<>();
    try (NativeRunner.Session s = runner.open()) {
      for (TraceLine l : t.get().lines()) {
        NativeRunner.Step step = s.step(l.op());
        if (step.model() == null) {
          return Optional.empty();
        }
        out.add(l.op() + " -> " + step.model());
        if (step.kind() == NativeRunner.Step.Kind.DIFFER) {
          break;
        }
      }
    } catch (IOException e) {
      return Optional.empty();
    }
    return Optional.of(out);
  }

  private static Optional<Trace> parse(List<String> lines) {
    try {
      return Optional.of(
          org.vmoracle.spec.trace.TraceParser.parse("shrunk", String.join("\n", lines) + "\n"));
    } catch (org.vmoracle.spec.trace.TraceSyntaxException e) {
      return Optional.empty();
    }
  }

  /** Where a finding is written: {@code target/vmoracle/findings/native-KIND-SEED.trace}. */
  static Path findingPath(Finding f) {
    String slug =
        f.signature().toLowerCase(Locale.ROOT).replaceAll("[^a-z0-9]+", "-").replaceAll("-$", "");
    return Paths.get(
        "target", "vmoracle", "findings", "native-" + slug + "-" + f.seed() + ".trace");
  }

  /**
   * The command line's entry: hunts for {@code seconds} from {@code seed} with {@code profile},
   * prints each finding (and writes it to {@link #findingPath}) and a summary as the last line.
   * Answers the exit code: 0 nothing found, 1 something found, 2 the runner cannot run here.
   */
  public static int run(
      double seconds, long seed, Profile profile, PrintWriter out, PrintWriter err) {
    NativeRunner runner;
    try {
      runner = NativeRunner.create();
    } catch (NativeUnavailableException e) {
      err.println("vmoracle hunt --native: " + e.getMessage());
      return 2;
    }
    out.println(
        "hunt --native: profile "
            + profile.word()
            + ", seeds from "
            + seed
            + ", "
            + OPS_PER_RUN
            + " operations a run, model against the host kernel");
    out.flush();
    Report r = hunt(runner, profile, seed, (long) (seconds * 1000), SHRINK_MILLIS, err);
    for (Finding f : r.findings()) {
      out.println(
          "FOUND " + f.signature() + " (seed " + f.seed() + ", " + f.trace().size() + " lines)");
      for (String l : f.trace()) {
        out.println("  " + l);
      }
      try {
        Path p = findingPath(f);
        Files.createDirectories(p.getParent());
        Files.writeString(p, f.render(), StandardCharsets.UTF_8);
        out.println("  written to " + p);
      } catch (IOException e) {
        err.println("vmoracle hunt --native: cannot write the finding: " + e.getMessage());
      }
    }
    out.println(
        "hunt --native: "
            + r.runs()
            + " runs, "
            + r.operations()
            + " operations compared, not run: "
            + (r.unsupported().isEmpty() ? "none" : r.unsupported())
            + ", "
            + r.findings().size()
            + (r.findings().size() == 1 ? " kind" : " kinds")
            + " of disagreement");
    out.flush();
    return r.findings().isEmpty() ? 0 : 1;
  }

  /** {@code NativeHunt [SECONDS [SEED [PROFILE]]]}: {@link #run} alone; exits with its code. */
  public static void main(String[] args) {
    Charset cs = Charset.defaultCharset();
    PrintWriter out = new PrintWriter(new OutputStreamWriter(System.out, cs), true);
    PrintWriter err = new PrintWriter(new OutputStreamWriter(System.err, cs), true);
    try {
      double seconds = args.length > 0 ? Double.parseDouble(args[0]) : 10;
      long seed = args.length > 1 ? Long.parseLong(args[1]) : 1;
      Optional<Profile> profile =
          args.length > 2 ? Profile.byWord(args[2]) : Profile.byWord("mixed");
      if (profile.isEmpty()) {
        err.println("NativeHunt: unknown profile; one of " + Profile.words());
        System.exit(2);
      }
      System.exit(run(seconds, seed, profile.get(), out, err));
    } catch (NumberFormatException e) {
      err.println("usage: NativeHunt [SECONDS [SEED [PROFILE]]]: " + e.getMessage());
      System.exit(2);
    }
  }
}
