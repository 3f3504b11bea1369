package org.vmoracle.checks.nativ;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.vmoracle.model.Model;
import org.vmoracle.model.Outcome;
import org.vmoracle.model.State;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.trace.Trace;
import org.vmoracle.spec.trace.TraceLine;

/**
 * Runs traces in the model and on the host Linux kernel side by side, operation by operation, and
 * reports the first disagreement, the first operation the kernel cannot be asked, or agreement.
 *
 * <p>Each step: the model answers first, from its state before the operation; {@link Deviations}
 * decides from the operation, that state and the model's answer whether the kernel can be asked at
 * all; then the kernel is asked (with the model's address for a placed {@code mmap}, {@link
 * Protocol}) and the two answers are compared. The one answer that may differ is the kernel running
 * out of memory where the model allows it (MEM-1: ENOMEM, or EAGAIN for mlock): the run goes on
 * from the model's state before the operation, as if it had not been asked for, and the verdict
 * lists the line.
 *
 * <p>Every trace runs on a freshly booted host system of its own ({@link HostKernel}), as replay
 * boots a fresh model. Expectations ({@code -> R}) in the trace are not checked here: {@code
 * vmoracle replay} does that.
 */
public final class NativeRunner {

  /** The most one operation may wire on the host: 256 MiB, or a quarter of what is available. */
  static final long WIRE_BUDGET_MAX = 256L << 20;

  /**
   * Where work directories go when no tmpfs will do: next to the binary. Its file system may take
   * smaller files than FILE-12's largest (ext4: 16 TiB - 4 KiB); HOST-4 then covers the rest.
   */
  private static final String RUNS = "runs";

  private final Path binary;
  private final Path runs;
  private final long lowest;
  private final long wireBudget;
  private final boolean shmNoexec;
  private final int maxProcesses;

  private NativeRunner(
      Path binary, Path runs, long lowest, long wireBudget, boolean shmNoexec, int maxProcesses) {
    this.binary = binary;
    this.runs = runs;
    this.lowest = lowest;
    this.wireBudget = wireBudget;
    this.shmNoexec = shmNoexec;
    this.maxProcesses = maxProcesses;
  }

  /**
   * A runner, with the C part built if needed, making at most {@link Deviations#MAX_PROCESSES} live
   * processes. No requirements.
   *
   * @throws NativeUnavailableException when this machine cannot run it (not Linux on x86-64, no
   *     gcc, no static C library)
   */
  public static NativeRunner create() throws NativeUnavailableException {
    return create(Deviations.MAX_PROCESSES);
  }

  /**
   * A runner that makes at most {@code maxProcesses} live processes on the host (HOST-5). No
   * requirements.
   *
   * @throws NativeUnavailableException as {@link #create()}
   */
  public static NativeRunner create(int maxProcesses) throws NativeUnavailableException {
    if (maxProcesses < 1) {
      throw new IllegalArgumentException("maxProcesses " + maxProcesses + ": at least 1");
    }
    Path b = NativeBinary.ensureBuilt();
    return new NativeRunner(b, workRoot(b), mmapMinAddr(), wireBudget(), shmNoexec(), maxProcesses);
  }

  /**
   * Where the runs' work directories (the trace's files) go: {@code /dev/shm} when it is a writable
   * tmpfs that allows execution (tmpfs takes files of 2^63 - 1 bytes, so the kernel's own limit is
   * FILE-12's RLIMIT_FSIZE; exec images map their files executable), else next to the binary. The
   * coordinator probes whichever it gets (HOST-4).
   */
  static Path workRoot(Path binary) {
    Path shm = Paths.get("/dev/shm");
    try {
      for (String l : Files.readAllLines(Paths.get("/proc/mounts"), StandardCharsets.UTF_8)) {
        String[] f = l.split(" ");
        if (f.length >= 4
            && f[1].equals("/dev/shm")
            && f[2].equals("tmpfs")
            && !List.of(f[3].split(",")).contains("noexec")
            && !List.of(f[3].split(",")).contains("ro")
            && Files.isWritable(shm)) {
          return shm;
        }
      }
    } catch (IOException e) {
      // Unknown: the directory next to the binary.
    }
    return binary.getParent().resolve(RUNS);
  }

  /**
   * Runs {@code trace} on a fresh host system and the model; stops at the first unsupported line.
   */
  public NativeVerdict run(Trace trace) {
    return run(trace, false);
  }

  /**
   * Runs {@code trace} on a fresh host system and the model. With {@code skip}, a line the kernel
   * cannot be asked (a rule of {@link Deviations} applies) but that changed nothing in the model (a
   * read, a failed operation) is listed in the verdict and passed over instead of ending the run:
   * the kernel is not asked either, so both sides are as they were and the lines after it stay
   * comparable. A line that changed the model still ends the run as unsupported. No requirements.
   */
  public NativeVerdict run(Trace trace, boolean skip) {
    Session session;
    try {
      session = open();
    } catch (IOException e) {
      return verdict(NativeVerdict.Kind.ERROR, trace, null, null, null, null, e.getMessage(), 0);
    }
    List<Integer> exhausted = new ArrayList<>();
    List<NativeVerdict.Skip> skipped = new ArrayList<>();
    int agreed = 0;
    try (Session s = session) {
      for (TraceLine line : trace.lines()) {
        Step step = s.step(line.op());
        switch (step.kind()) {
          case AGREE:
            agreed++;
            continue;
          case EXHAUSTED:
            exhausted.add(line.line()); // MEM-1: as if not asked; the model keeps its state
            agreed++;
            continue;
          case UNSUPPORTED:
            if (skip && !step.modelWouldChange()) {
              skipped.add(new NativeVerdict.Skip(line.line(), step.rule()));
              continue; // the model changes nothing, and the kernel was not asked
            }
            return verdict(
                    NativeVerdict.Kind.UNSUPPORTED,
                    trace,
                    line,
                    null,
                    null,
                    step.rule(),
                    "",
                    agreed)
                .with(exhausted, skipped);
          case DIFFER:
            return verdict(
                    NativeVerdict.Kind.DIFFER,
                    trace,
                    line,
                    step.model().toString(),
                    step.kernel(),
                    null,
                    step.detail(),
                    agreed)
                .with(exhausted, skipped);
          case ERROR:
            return verdict(
                    NativeVerdict.Kind.ERROR, trace, line, null, null, null, step.detail(), agreed)
                .with(exhausted, skipped);
        }
        throw new AssertionError(step.kind());
      }
    }
    return new NativeVerdict(
        NativeVerdict.Kind.AGREE,
        trace.source(),
        0,
        null,
        null,
        null,
        null,
        "",
        agreed,
        exhausted,
        skipped);
  }

  /**
   * A freshly booted host system and model, to be stepped one operation at a time. The caller
   * closes it. No requirements.
   *
   * @throws IOException when the runner cannot start
   */
  public Session open() throws IOException {
    return new Session(HostKernel.start(binary, runs, maxProcesses));
  }

  /**
   * What one operation came to in a {@link Session}.
   *
   * @param kind the outcome
   * @param model the model's answer
   * @param kernel the kernel's reply ({@link Kind#AGREE}, {@link Kind#EXHAUSTED}, {@link
   *     Kind#DIFFER}), or {@code null}
   * @param rule the rule that kept the kernel from being asked ({@link Kind#UNSUPPORTED}), or
   *     {@code null}
   * @param detail the runner's failure ({@link Kind#ERROR}) or a note on a difference, or empty
   * @param modelWouldChange whether the model's state after the operation differs from before it
   */
  public record Step(
      Kind kind,
      Result model,
      String kernel,
      Deviations.Rule rule,
      String detail,
      boolean modelWouldChange) {

    /** The outcomes of one step. */
    public enum Kind {
      /** Both answered the same; both moved on. */
      AGREE,
      /** The kernel ran out of memory where the model allows it (MEM-1); neither moved on. */
      EXHAUSTED,
      /** The kernel was not asked (a rule of {@link Deviations}); neither moved on. */
      UNSUPPORTED,
      /** The answers differ; the session cannot go on. */
      DIFFER,
      /** The runner failed; the session cannot go on. */
      ERROR
    }
  }

  /**
   * One host system and the model's state beside it. {@link #step} runs an operation in both when
   * the kernel can be asked; after {@link Step.Kind#DIFFER} or {@link Step.Kind#ERROR} the two are
   * out of step and the session should be closed. Not thread-safe.
   */
  public final class Session implements AutoCloseable {
    private final HostKernel kernel;
    private final Deviations.Host host;
    private final List<Deviations.Rule> extra;
    private State state = Model.boot();

    private Session(HostKernel kernel) {
      this.kernel = kernel;
      this.host =
          new Deviations.Host(
              kernel.reserved(),
              lowest,
              wireBudget,
              Math.min(Deviations.FILE_MAX, kernel.fileMax()),
              Math.min(Deviations.FILE_MAX, kernel.shmMax()),
              maxProcesses);
      this.extra = List.of(Deviations.host3(shmNoexec));
    }

    /** The model's state: every operation so far that both sides ran. */
    public State state() {
      return state;
    }

    /** Runs {@code op} in the model and, when it can be asked, in the kernel. No requirements. */
    public Step step(Op op) {
      Outcome outcome;
      try {
        outcome = Model.step(state, op);
      } catch (RuntimeException e) {
        return new Step(Step.Kind.ERROR, null, null, null, "the model threw " + e, false);
      }
      Result model = outcome.result();
      boolean changes = outcome.state() != state;
      Optional<Deviations.Rule> rule =
          Deviations.check(new Deviations.Context(op, state, model, host), extra);
      if (rule.isPresent()) {
        return new Step(Step.Kind.UNSUPPORTED, model, null, rule.get(), "", changes);
      }
      String reply;
      try {
        reply = kernel.ask(Protocol.command(op, model));
      } catch (IOException e) {
        return new Step(Step.Kind.ERROR, model, null, null, e.getMessage(), changes);
      }
      if (reply.startsWith("ERROR")) {
        String why = "the runner failed: " + reply.substring(5).strip() + kernel.stderrTail();
        return new Step(Step.Kind.ERROR, model, null, null, why, changes);
      }
      Optional<Result> answer = Protocol.parse(reply);
      if (answer.isPresent() && answer.get().equals(model)) {
        state = outcome.state();
        return new Step(Step.Kind.AGREE, model, reply, null, "", changes);
      }
      Optional<Result> exhaustion = op.exhaustion().map(Result::of);
      if (model.succeeded() && answer.isPresent() && answer.equals(exhaustion)) {
        return new Step(Step.Kind.EXHAUSTED, model, reply, null, "", changes);
      }
      return new Step(Step.Kind.DIFFER, model, reply, null, note(op, reply, kernel), changes);
    }

    /** Ends the host system: its processes, files and shared memory go. No requirements. */
    @Override
    public void close() {
      kernel.close();
    }
  }

  /** A hint for a difference the host's limits may explain. */
  private static String note(Op op, String reply, HostKernel k) {
    boolean wiring = op instanceof Op.Mlock || op instanceof Op.Mprotect;
    if (wiring
        && (reply.equals(Errno.ENOMEM.name()) || reply.equals(Errno.EAGAIN.name()))
        && !k.memlock().equals("unlimited")
        && !hasIpcLock()) {
      return "the workers' RLIMIT_MEMLOCK is "
          + k.memlock()
          + " bytes: without CAP_IPC_LOCK the kernel refuses to lock more";
    }
    return "";
  }

  private static NativeVerdict verdict(
      NativeVerdict.Kind kind,
      Trace trace,
      TraceLine line,
      String model,
      String kernel,
      Deviations.Rule rule,
      String detail,
      int agreed) {
    return new NativeVerdict(
        kind,
        trace.source(),
        line == null ? 0 : line.line(),
        line == null ? null : line.op(),
        model,
        kernel,
        rule,
        detail == null ? "" : detail,
        agreed,
        List.of(),
        List.of());
  }

  /** CAP_IPC_LOCK, bit 14 of the capability sets: mlock is then not limited by RLIMIT_MEMLOCK. */
  static final int CAP_IPC_LOCK = 14;

  /** Whether this process (and so the runner it starts) has CAP_IPC_LOCK in effect. */
  static boolean hasIpcLock() {
    try {
      for (String l :
          Files.readAllLines(Paths.get("/proc/self/status"), StandardCharsets.US_ASCII)) {
        if (l.startsWith("CapEff:")) {
          long caps = Long.parseUnsignedLong(l.substring(7).trim(), 16);
          return (caps & (1L << CAP_IPC_LOCK)) != 0;
        }
      }
    } catch (IOException | NumberFormatException e) {
      // Unknown: say nothing about the limit's part.
    }
    return true;
  }

  /** {@code vm.mmap_min_addr}, but at least Linux's default of 64 KiB (DEV-5). */
  static long mmapMinAddr() {
    try {
      String s =
          Files.readString(Paths.get("/proc/sys/vm/mmap_min_addr"), StandardCharsets.US_ASCII);
      return Math.max(Deviations.LINUX_MMAP_MIN, Long.parseLong(s.trim()));
    } catch (IOException | NumberFormatException e) {
      return Deviations.LINUX_MMAP_MIN;
    }
  }

  /** {@link #WIRE_BUDGET_MAX}, or a quarter of MemAvailable when that is less. */
  static long wireBudget() {
    try {
      for (String l : Files.readAllLines(Paths.get("/proc/meminfo"), StandardCharsets.US_ASCII)) {
        if (l.startsWith("MemAvailable:")) {
          long kib = Long.parseLong(l.replaceAll("[^0-9]", ""));
          return Math.min(WIRE_BUDGET_MAX, kib * 1024 / 4);
        }
      }
    } catch (IOException | NumberFormatException e) {
      // Unknown: the fixed budget below.
    }
    return WIRE_BUDGET_MAX / 4;
  }

  /** Whether /dev/shm is mounted noexec (HOST-3). */
  static boolean shmNoexec() {
    try {
      for (String l : Files.readAllLines(Paths.get("/proc/mounts"), StandardCharsets.UTF_8)) {
        String[] f = l.split(" ");
        if (f.length >= 4 && f[1].equals("/dev/shm")) {
          return List.of(f[3].split(",")).contains("noexec");
        }
      }
    } catch (IOException e) {
      // Unknown: assume executable; an EPERM would then show as a difference.
    }
    return false;
  }
}
