package org.vmoracle.checks.lin;

import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import org.vmoracle.checks.gen.Generator;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.model.Model;
import org.vmoracle.model.Outcome;
import org.vmoracle.model.State;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;
import org.vmoracle.spec.View;
import org.vmoracle.spec.trace.TraceLine;

/**
 * Concurrency hunting: {@code threads} threads run bursts of operations on one implementation at
 * once; each burst's history is then checked for linearizability against the model ({@link
 * Linearizability}), with the implementation's view after the burst as the end state to reach, and
 * its invariants checked. The next burst starts from the state the check found.
 *
 * <p>The threads interact: they share one address space (a process and its clones, PROC-4) whose
 * shared memory they all read and write, a file they all write and read, and the files and segments
 * their own generators create, map and truncate; each also forks, execs and maps in processes of
 * its own. The shared address space also maps the file twice, privately and shared, and holds a
 * private anonymous region: the threads' loads and stores there race copy-on-write copies of the
 * file's pages against stores into them (FileCopyRaceLincheckTest's two windows), and zero-fill
 * faults against each other; mapping either private region again over itself (MMAP-7) makes its
 * pages uncopied and unfilled again, and the unmap half of that runs beside the others' faults.
 *
 * <p>An operation that throws instead of answering, and a burst that does not end within {@code
 * BURST_LIMIT_SECONDS} (30 s), are findings too (the sequential hunt's CRASH), with the calls that
 * did answer as their history.
 *
 * <p>A finding keeps the way to its burst's start ({@link Finding#setup}: the setup, then every
 * earlier burst in the order that linearized it) and what the implementation showed after it, so
 * that {@link HistoryFile} can write it and {@link HistoryReplay} check it again. After {@link
 * #SETUP_LIMIT} operations the hunt starts again on a fresh implementation.
 */
public final class ConcurrentHunt {

  /**
   * What a hunt found.
   *
   * @param start the model's state before the burst: the state {@code setup} leads to
   * @param history the burst's calls (those that answered, when one threw or the burst hung)
   * @param why what was wrong: {@link #NOT_LINEARIZABLE}, or the invariant broken, or the crash
   * @param setup sequential operations from boot to {@code start}: the hunt's setup, then every
   *     earlier burst's calls in the order that linearized it (an out-of-memory failure the model
   *     would not give left out: it changed nothing)
   * @param end reads of every word and file offset the burst's calls touched, each with what the
   *     implementation answered right after the burst
   * @param endView the implementation's view right after the burst
   */
  public record Finding(
      State start,
      List<Call> history,
      String why,
      List<Op> setup,
      List<TraceLine> end,
      View endView) {
    /** The history, one call a line, for reports. */
    public String describe() {
      StringBuilder sb = new StringBuilder(why).append('\n');
      for (Call c : history) {
        sb.append("  ").append(c).append('\n');
      }
      return sb.toString();
    }

    /**
     * What kind of finding, one word for a file name: nonlinearizable, crash, invariant or setup.
     */
    public String kind() {
      if (why.equals(NOT_LINEARIZABLE)) {
        return "nonlinearizable";
      }
      if (why.startsWith("setup ")) {
        return "setup";
      }
      return why.startsWith("the implementation threw") || why.startsWith("a burst did not end")
          ? "crash"
          : "invariant";
    }
  }

  /** What a hunt did. */
  public record Report(
      long histories, long calls, long explored, double seconds, Optional<Finding> finding) {
    public double callsPerHistory() {
      return histories == 0 ? 0 : (double) calls / histories;
    }
  }

  /**
   * Operations each thread runs in one burst by default: histories of 2 x 4 = 8 calls check
   * quickly.
   */
  public static final int BURST = 4;

  /** Why a finding's history is one: it is not linearizable (else an invariant broke). */
  public static final String NOT_LINEARIZABLE =
      "no order of this history gives the model's answers and the implementation's view";

  /** The implementation's frames by default: 2,048 (8 MiB), room for what the threads map. */
  public static final int FRAMES = 2048;

  private static final int SHARED_PID = 1;
  private static final String SHARED_FILE = "g";

  /** Where the shared address space maps: shared anonymous memory (4 pages, placed first), */
  private static final long SHARED_ANON = 0x10000000L;

  /** the shared file privately (2 pages), */
  private static final long FILE_PRIVATE = 0x20000000L;

  /** the same file shared (2 pages), */
  private static final long FILE_SHARED = 0x20002000L;

  /** and private anonymous memory (4 pages). */
  private static final long ANON_PRIVATE = 0x20004000L;

  private ConcurrentHunt() {}

  /**
   * Hunts for {@code seconds} (or until a finding) with {@code threads} threads, each running
   * {@code perThread} operations a burst. {@code progress} gets a line every ~2 seconds.
   */
  public static Report run(
      Config config,
      int threads,
      long seed,
      double seconds,
      int perThread,
      Consumer<String> progress) {
    long t0 = System.nanoTime();
    long deadline = t0 + (long) (seconds * 1e9);
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "concurrent-hunt");
              t.setDaemon(true); // one stuck in a hung implementation must not keep the JVM up
              return t;
            });
    Tally tally = new Tally();
    try {
      for (int epoch = 0; ; epoch++) {
        Optional<Finding> f =
            epoch(config, threads, seed, epoch, perThread, pool, t0, deadline, tally, progress);
        if (f.isPresent() || System.nanoTime() >= deadline) {
          return new Report(
              tally.histories, tally.calls, tally.explored, (System.nanoTime() - t0) / 1e9, f);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /**
   * Operations kept as the way to a finding's start ({@link Finding#setup}) at most: past them the
   * hunt starts again on a fresh implementation, so that a long hunt's memory stays bounded (some
   * 50 bytes an operation) and a finding's file stays replayable. At the concurrent hunt's few
   * thousand operations a second, a fresh start every few minutes.
   */
  static final int SETUP_LIMIT = 500_000;

  /** Histories, calls and linearization steps so far, over every epoch. */
  private static final class Tally {
    long histories;
    long calls;
    long explored;
  }

  /**
   * One epoch: a fresh implementation and model, the setup, then bursts until a finding, the
   * deadline or {@link #SETUP_LIMIT}. Epoch 0's workers are seeded from {@code seed} alone.
   */
  private static Optional<Finding> epoch(
      Config config,
      int threads,
      long seed,
      int epoch,
      int perThread,
      ExecutorService pool,
      long t0,
      long deadline,
      Tally tally,
      Consumer<String> progress) {
    ImplVm impl = new ImplVm(config);
    State model = Model.boot();
    // A shared address space with shared memory, and a file: sequential, checked as we go.
    List<Op> setup = new ArrayList<>();
    setup.add(new Op.Spawn(SHARED_PID));
    setup.add(new Op.Mmap(SHARED_PID, 0, 4, Prot.RW, Sharing.SHARED, new Source.Anon(), false));
    setup.add(new Op.File(SHARED_FILE, 2));
    setup.add(filePrivate(SHARED_PID));
    setup.add(
        new Op.Mmap(
            SHARED_PID,
            FILE_SHARED,
            2,
            Prot.RW,
            Sharing.SHARED,
            new Source.FileRange(SHARED_FILE, 0),
            true));
    setup.add(anonPrivate(SHARED_PID));
    for (int t = 0; t < threads; t++) {
      setup.add(new Op.Clone(SHARED_PID, SHARED_PID + 1 + t));
    }
    List<Op> done = new ArrayList<>();
    for (Op op : setup) {
      Outcome o = Model.step(model, op);
      Result r = impl.apply(op);
      if (!r.equals(o.result())) {
        return Optional.of(
            new Finding(model, List.of(), "setup " + op + ": " + r, done, List.of(), impl.view()));
      }
      done.add(op);
      model = o.state();
    }
    List<Worker> workers = new ArrayList<>();
    for (int t = 0; t < threads; t++) {
      workers.add(new Worker(t, seed * 1_000_003 + t + epoch * 7_919L, perThread, impl));
    }
    return hunt(impl, model, done, workers, pool, t0, deadline, tally, progress);
  }

  private static Optional<Finding> hunt(
      ImplVm impl,
      State start,
      List<Op> setup,
      List<Worker> workers,
      ExecutorService pool,
      long t0,
      long deadline,
      Tally tally,
      Consumer<String> progress) {
    State model = start;
    List<Op> way = new ArrayList<>(setup); // from boot to model
    long nextProgress = t0 + 2_000_000_000L;
    while (System.nanoTime() < deadline && way.size() < SETUP_LIMIT) {
      List<Call> history;
      try {
        history = burst(workers, pool);
      } catch (Crashed c) {
        tally.histories++;
        tally.calls += c.history.size();
        return Optional.of(
            new Finding(model, c.history, c.getMessage(), way, List.of(), impl.view()));
      }
      View implView = impl.view();
      Linearizability.Verdict v =
          Linearizability.check(model, history, s -> Model.view(s).equals(implView));
      tally.histories++;
      tally.calls += history.size();
      tally.explored += v.explored();
      if (!v.linearizable()) {
        return Optional.of(
            new Finding(model, history, NOT_LINEARIZABLE, way, endReads(impl, history), implView));
      }
      try {
        impl.checkInvariants();
      } catch (IllegalStateException e) {
        return Optional.of(
            new Finding(model, history, e.getMessage(), way, endReads(impl, history), implView));
      }
      for (Call c : v.order()) {
        if (!v.unchanged().contains(c)) { // those ran out of memory and changed nothing (MEM-1)
          way.add(c.op());
        }
      }
      model = v.end().orElseThrow();
      long now = System.nanoTime();
      if (now >= nextProgress) {
        double secs = (now - t0) / 1e9;
        progress.accept(
            String.format(
                "hunt: %,d histories, %,d operations, %,.0f ops/s, %.0f s",
                tally.histories, tally.calls, tally.calls / secs, secs));
        nextProgress = now + 2_000_000_000L;
      }
    }
    return Optional.empty();
  }

  /**
   * What the implementation answers, right after a burst, to a read of every word and file offset
   * {@code history} read or wrote: the end of a finding's history file, for people and for a replay
   * without the view digest.
   */
  private static List<TraceLine> endReads(ImplVm impl, List<Call> history) {
    Set<Op> reads = new LinkedHashSet<>();
    for (Call c : history) {
      Op op = c.op();
      if (op instanceof Op.Read) {
        reads.add(op);
      } else if (op instanceof Op.Write) {
        reads.add(new Op.Read(((Op.Write) op).pid(), ((Op.Write) op).addr()));
      } else if (op instanceof Op.Fread) {
        reads.add(op);
      } else if (op instanceof Op.Fwrite) {
        reads.add(new Op.Fread(((Op.Fwrite) op).name(), ((Op.Fwrite) op).offset()));
      }
    }
    List<TraceLine> out = new ArrayList<>();
    for (Op op : reads) {
      Result r;
      try {
        r = impl.apply(op);
      } catch (RuntimeException e) {
        break; // the implementation is broken past reading: the digest still says what it showed
      }
      out.add(new TraceLine(out.size() + 1, op, Optional.of(r)));
    }
    return out;
  }

  /**
   * Runs one burst on every worker at once and answers the calls, in no particular order.
   *
   * @throws Crashed when an operation threw instead of answering, or the burst did not end within
   *     {@link #BURST_LIMIT_SECONDS}
   */
  private static List<Call> burst(List<Worker> workers, ExecutorService pool) {
    CyclicBarrier start = new CyclicBarrier(workers.size());
    List<Future<List<Call>>> futures = new ArrayList<>();
    for (Worker w : workers) {
      futures.add(pool.submit(() -> w.burst(start)));
    }
    long limit = System.nanoTime() + BURST_LIMIT_SECONDS * 1_000_000_000L;
    List<Call> all = new ArrayList<>();
    String why = null;
    for (Future<List<Call>> f : futures) {
      try {
        all.addAll(f.get(Math.max(0, limit - System.nanoTime()), TimeUnit.NANOSECONDS));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted", e);
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof Crashed)) {
          throw new IllegalStateException("a hunt thread failed: " + e.getCause(), e.getCause());
        }
        Crashed c = (Crashed) e.getCause();
        all.addAll(c.history);
        why = why != null ? why : c.getMessage();
      } catch (TimeoutException e) {
        why =
            why != null
                ? why
                : "a burst did not end within "
                    + BURST_LIMIT_SECONDS
                    + " s: the implementation hangs (the calls listed are those that answered)";
      }
    }
    if (why != null) {
      throw new Crashed(all, why);
    }
    return all;
  }

  /** Longest a burst of a few operations may take before the implementation counts as hung. */
  private static final long BURST_LIMIT_SECONDS = 30;

  /**
   * A burst ended without answers for all its calls: an operation threw (the implementation's
   * exception, like the sequential hunt's CRASH), or the burst hung. A finding.
   */
  private static final class Crashed extends RuntimeException {
    private static final long serialVersionUID = 1L;

    /** The calls that answered. */
    final transient List<Call> history;

    Crashed(List<Call> history, String why) {
      super(why, null, false, false);
      this.history = history;
    }
  }

  /** One thread's operations: its own generator, plus calls on what the threads share. */
  private static final class Worker {
    final int id;
    final int perThread;
    final ImplVm impl;
    final Generator gen;
    final SplittableRandom random;

    Worker(int id, long seed, int perThread, ImplVm impl) {
      this.id = id;
      this.perThread = perThread;
      this.impl = impl;
      this.gen = new Generator(seed, 1_000 * (id + 1));
      this.random = new SplittableRandom(seed ^ 0x5DEECE66DL);
    }

    List<Call> burst(CyclicBarrier start) {
      try {
        start.await();
      } catch (InterruptedException | BrokenBarrierException e) {
        throw new IllegalStateException(e);
      }
      List<Call> out = new ArrayList<>();
      for (int i = 0; i < perThread; i++) {
        boolean shared = random.nextInt(10) < 4;
        Op op = shared ? sharedOp() : gen.next();
        if (op instanceof Op.Exec) {
          // Implementation note: exec is left to the sequential hunt. An exec'd image shows tens
          // of thousands of words, and every history's check builds views; without it the
          // concurrent hunt checks several times more histories.
          op = new Op.Pageout(1);
          shared = true; // not the generator's operation: nothing to tell it
        }
        long invoked = System.nanoTime();
        Result r;
        try {
          r = impl.apply(op);
        } catch (RuntimeException e) {
          throw new Crashed(
              out, "the implementation threw " + e + " at t" + id + "#" + i + " " + op);
        }
        long answered = System.nanoTime();
        if (!shared) {
          gen.observe(op, r);
        }
        out.add(new Call(id, i, op, r, invoked, answered));
      }
      return out;
    }

    /**
     * An operation on what every thread shares: the shared memory, the shared file and its two
     * mappings, the private anonymous region. Words are picked from the first few of each page, so
     * that threads meet on them.
     */
    private Op sharedOp() {
      int pid = SHARED_PID + 1 + id;
      long value = ((long) (id + 1) << 32) | random.nextInt(1000);
      switch (random.nextInt(14)) {
        case 0:
        case 1:
          return new Op.Write(pid, SHARED_ANON + 8L * random.nextInt(4 * 512), value);
        case 2:
        case 3:
          return new Op.Read(pid, SHARED_ANON + 8L * random.nextInt(4 * 512));
        case 4:
          return new Op.Fwrite(SHARED_FILE, word(2), random.nextInt(1000));
        case 5:
          return new Op.Fread(SHARED_FILE, word(2));
        case 6:
          return new Op.Read(pid, FILE_PRIVATE + word(2));
        case 7:
          return new Op.Write(pid, FILE_PRIVATE + word(2), value);
        case 8:
          return new Op.Write(pid, FILE_SHARED + word(2), value);
        case 9:
          return new Op.Read(pid, FILE_SHARED + word(2));
        case 10:
          return new Op.Read(pid, ANON_PRIVATE + word(4));
        case 11:
          return new Op.Write(pid, ANON_PRIVATE + word(4), value);
        case 12:
          return filePrivate(pid);
        default:
          return anonPrivate(pid);
      }
    }

    /** The offset of one of the first four words of one of {@code pages} pages. */
    private long word(int pages) {
      return random.nextInt(pages) * 4096L + 8L * random.nextInt(4);
    }
  }

  /** Maps the shared file privately at its place, anew over what is there (MMAP-7). */
  private static Op filePrivate(int pid) {
    return new Op.Mmap(
        pid, FILE_PRIVATE, 2, Prot.RW, Sharing.PRIVATE, new Source.FileRange(SHARED_FILE, 0), true);
  }

  /** Maps the private anonymous region at its place, anew over what is there (MMAP-7). */
  private static Op anonPrivate(int pid) {
    return new Op.Mmap(pid, ANON_PRIVATE, 4, Prot.RW, Sharing.PRIVATE, new Source.Anon(), true);
  }
}
