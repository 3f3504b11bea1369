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
import org.vmoracle.checks.sched.Schedule;
import org.vmoracle.checks.sched.Scheduler;
import org.vmoracle.checks.sched.Strategy;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.model.Model;
import org.vmoracle.model.Outcome;
import org.vmoracle.model.State;
import org.vmoracle.spec.Inherit;
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
   * @param schedule how the burst's threads were scheduled, when a scheduler controlled them
   */
  public record Finding(
      State start,
      List<Call> history,
      String why,
      List<Op> setup,
      List<TraceLine> end,
      View endView,
      Optional<Scheduled> schedule) {

    /** A finding of a burst the JVM scheduled. */
    public Finding(
        State start,
        List<Call> history,
        String why,
        List<Op> setup,
        List<TraceLine> end,
        View endView) {
      this(start, history, why, setup, end, endView, Optional.empty());
    }

    /** The history, one call a line, then the schedule when there is one, for reports. */
    public String describe() {
      StringBuilder sb = new StringBuilder(why).append('\n');
      for (Call c : history) {
        sb.append("  ").append(c).append('\n');
      }
      schedule.ifPresent(
          x -> {
            sb.append("schedule (")
                .append(x.strategy().word())
                .append(", burst seed ")
                .append(x.seed())
                .append("; which thread ran which step, in order):\n");
            x.lines().forEach(l -> sb.append("  ").append(l).append('\n'));
          });
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

  /**
   * How a finding's burst was scheduled: the strategy and seed of its run, the choices that replay
   * it ({@link org.vmoracle.checks.sched.Schedule#choices}) and the schedule as people read it.
   */
  public record Scheduled(Strategy strategy, long seed, int[] choices, List<String> lines) {
    public Scheduled {
      choices = choices.clone();
      lines = List.copyOf(lines);
    }

    @Override
    public int[] choices() {
      return choices.clone();
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof Scheduled
          && ((Scheduled) o).strategy.equals(strategy)
          && ((Scheduled) o).seed == seed
          && java.util.Arrays.equals(((Scheduled) o).choices, choices);
    }

    @Override
    public int hashCode() {
      return java.util.Objects.hash(strategy, seed, java.util.Arrays.hashCode(choices));
    }
  }

  /** What a hunt did. */
  public record Report(
      long histories,
      long calls,
      long explored,
      double seconds,
      Optional<Finding> finding,
      StartStates starts) {
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

  /**
   * The shared address space's fork, made anew before many bursts ({@link #prelude}), whose
   * copy-on-write groups the threads' loads and stores then race through both address spaces.
   */
  static final int CHILD_PID = 90;

  /**
   * The regions a focused burst's threads meet in: half the bursts start with every thread loading
   * or storing one page of one of these at once (the first faults of a page, a copy-on-write and a
   * read of one page, two first stores after a fork), the races the preludes set up.
   */
  private static final long[] FOCUS = {SHARED_ANON, FILE_PRIVATE, FILE_SHARED, ANON_PRIVATE};

  /**
   * Operations of a focused burst that touch the focus page, a thread: two, so that one thread's
   * second access can land while the other's first (a fault, a copy) is still under way.
   */
  private static final int FOCUSED = 4;

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
    return run(config, threads, seed, seconds, perThread, Strategy.FREE, progress);
  }

  /**
   * {@link #run(Config, int, long, double, int, Consumer)} with the bursts' threads scheduled by
   * {@code strategy} ({@link Scheduler}); {@link Strategy#FREE} leaves them to the JVM. A
   * controlled hunt is deterministic: burst n runs under {@code strategy.forRun(n)} from a seed
   * made of {@code seed} and n, so the same seed finds the same thing after the same bursts,
   * however fast the machine.
   */
  public static Report run(
      Config config,
      int threads,
      long seed,
      double seconds,
      int perThread,
      Strategy strategy,
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
    if (strategy.controlled()) {
      Scheduler.pinSetupThread(); // setup, preludes and remakes run here, as in a replay
    }
    Tally tally = new Tally();
    tally.strategy = strategy;
    tally.seed = seed;
    try {
      for (int epoch = 0; ; epoch++) {
        Optional<Finding> f =
            epoch(config, threads, seed, epoch, perThread, pool, t0, deadline, tally, progress);
        if (f.isPresent() || System.nanoTime() >= deadline) {
          return new Report(
              tally.histories,
              tally.calls,
              tally.explored,
              (System.nanoTime() - t0) / 1e9,
              f,
              tally.starts.snapshot());
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

  /**
   * {@link #SETUP_LIMIT} of a controlled hunt: 300 operations, some 20 bursts. A controlled burst
   * runs on an implementation made anew by running the way to its start sequentially (the setup and
   * the earlier bursts in the order that linearized them), because that is what a finding's history
   * file can set up: after concurrent bursts the implementation is the same to the model but not
   * inside (which frames hold what, which objects shadow which), and a schedule replays step for
   * step only on the same inside. Remaking it costs the way's length a burst, so the way is kept
   * short.
   */
  static final int CONTROLLED_SETUP_LIMIT = 300;

  /** Histories, calls and linearization steps so far, over every epoch. */
  private static final class Tally {
    long histories;
    long calls;
    long explored;
    Strategy strategy = Strategy.FREE; // how bursts are scheduled
    long seed; // the hunt's
    int expectedSteps = 400; // PCT's K: the mean burst so far, in scheduling points
    long points; // scheduling points over every controlled burst
    final Starts starts = new Starts();
  }

  /**
   * The states bursts start from, and what they then raced, counted over a hunt: where VM races
   * live (a copy-on-write group with members in two address spaces, its first stores, a read fault
   * beside another member's copy; pages not yet faulted in; pages evicted) and how often the bursts
   * are there.
   *
   * @param bursts bursts counted
   * @param afterFork bursts that start right after a fork of the shared address space, its private
   *     pages written just before it: copy-on-write groups with members in two address spaces
   * @param minherit of those, bursts whose fork followed an minherit of part of a private region
   * @param fresh bursts whose private anonymous region was just mapped anew: no page faulted in
   * @param evicted bursts that start right after a pageout
   * @param bothStore bursts after a fork in which both address spaces store into one private page
   * @param readBesideCopy bursts after a fork in which one address space reads a private page that
   *     the other stores into
   */
  public record StartStates(
      long bursts,
      long afterFork,
      long minherit,
      long fresh,
      long evicted,
      long bothStore,
      long readBesideCopy) {
    /** One line for reports: {@code bursts start: 48% after a fork (...), ...}. */
    public String describe() {
      return String.format(
          "bursts start: %s after a fork (copy-on-write groups in 2 address spaces; %s after an"
              + " minherit), %s on a private region mapped anew, %s after a pageout; in %s both"
              + " spaces store into one forked page, in %s one reads a page the other stores into",
          share(afterFork),
          share(minherit),
          share(fresh),
          share(evicted),
          share(bothStore),
          share(readBesideCopy));
    }

    private String share(long n) {
      return bursts == 0 ? "0%" : String.format("%.0f%%", 100.0 * n / bursts);
    }
  }

  /** Counts {@link StartStates}. */
  private static final class Starts {
    long bursts;
    long afterFork;
    long minherit;
    long fresh;
    long evicted;
    long bothStore;
    long readBesideCopy;

    void count(List<Op> prelude, List<Call> history) {
      bursts++;
      boolean forked = prelude.stream().anyMatch(o -> o instanceof Op.Fork);
      afterFork += forked ? 1 : 0;
      minherit += forked && prelude.stream().anyMatch(o -> o instanceof Op.Minherit) ? 1 : 0;
      fresh += prelude.contains(anonPrivate(SHARED_PID)) ? 1 : 0;
      evicted += prelude.stream().anyMatch(o -> o instanceof Op.Pageout) ? 1 : 0;
      if (!forked) {
        return;
      }
      java.util.Map<Long, Integer> stores = new java.util.HashMap<>(); // page to spaces: bit 1, 2
      java.util.Map<Long, Integer> loads = new java.util.HashMap<>();
      for (Call c : history) {
        Op op = c.op();
        long addr;
        int pid;
        if (op instanceof Op.Write) {
          addr = ((Op.Write) op).addr();
          pid = ((Op.Write) op).pid();
        } else if (op instanceof Op.Read) {
          addr = ((Op.Read) op).addr();
          pid = ((Op.Read) op).pid();
        } else {
          continue;
        }
        if (addr < FILE_PRIVATE || addr >= ANON_PRIVATE + 4 * 4096L) {
          continue;
        }
        if (addr >= FILE_SHARED && addr < ANON_PRIVATE) {
          continue; // the file's shared mapping copies nothing
        }
        int bit = pid == CHILD_PID ? 2 : 1;
        (op instanceof Op.Write ? stores : loads).merge(addr >>> 12, bit, (a, b) -> a | b);
      }
      bothStore += stores.containsValue(3) ? 1 : 0;
      boolean beside = false;
      for (java.util.Map.Entry<Long, Integer> e : loads.entrySet()) {
        Integer st = stores.get(e.getKey());
        beside |= st != null && (st | e.getValue()) == 3 && (st != e.getValue() || st == 3);
      }
      readBesideCopy += beside ? 1 : 0;
    }

    StartStates snapshot() {
      return new StartStates(
          bursts, afterFork, minherit, fresh, evicted, bothStore, readBesideCopy);
    }
  }

  /**
   * What the hunt runs sequentially before a burst, so that bursts start where VM races live
   * ({@link StartStates}): often a fork of the shared address space ({@link #CHILD_PID}, its last
   * one exited first) with some of its private pages written just before, sometimes after an
   * minherit of one of them; the private anonymous or file mapping mapped anew, so that faults meet
   * unfaulted pages; a pageout, so that they meet evicted ones. Drawn from {@code r}, the hunt's
   * own, so that the same seed gives the same preludes.
   */
  private static List<Op> prelude(SplittableRandom r, Tally tally) {
    List<Op> out = new ArrayList<>();
    if (r.nextInt(4) == 0) {
      // One copy-on-write group in two address spaces over pages none has copied or mapped: the
      // private file mapping mapped anew, inherited shared (INH-2), forked. A read in one space
      // then races a copy in the other of the same deeper page.
      out.add(filePrivate(SHARED_PID));
      out.add(new Op.Minherit(SHARED_PID, FILE_PRIVATE, 2, Inherit.SHARE));
      out.add(new Op.Exit(CHILD_PID));
      out.add(new Op.Fork(SHARED_PID, CHILD_PID));
      return out;
    }
    if (r.nextInt(3) == 0) {
      out.add(anonPrivate(SHARED_PID));
    }
    if (r.nextInt(5) == 0) {
      out.add(filePrivate(SHARED_PID));
    }
    if (r.nextInt(5) < 3) {
      for (int k = r.nextInt(4); k >= 0; k--) {
        long base = r.nextBoolean() ? ANON_PRIVATE : FILE_PRIVATE;
        long page = r.nextInt(base == ANON_PRIVATE ? 4 : 2);
        out.add(new Op.Write(SHARED_PID, base + page * 4096 + 8L * r.nextInt(4), r.nextInt(1000)));
      }
      if (r.nextInt(3) == 0) {
        // Often share (INH-2): parent and fork are then one copy-on-write group, whose members
        // in two address spaces copy and map the same deeper pages (Fault's installDeep race).
        Inherit[] all = Inherit.values();
        Inherit how = r.nextBoolean() ? Inherit.SHARE : all[r.nextInt(all.length)];
        boolean file = r.nextBoolean();
        long base = file ? FILE_PRIVATE : ANON_PRIVATE;
        int pages = file ? 2 : 4;
        long first = r.nextInt(pages);
        out.add(
            new Op.Minherit(
                SHARED_PID, base + 4096L * first, 1 + r.nextInt((int) (pages - first)), how));
      }
      out.add(new Op.Exit(CHILD_PID));
      out.add(new Op.Fork(SHARED_PID, CHILD_PID));
    }
    if (r.nextInt(6) == 0) {
      out.add(new Op.Pageout(1 + r.nextInt(8)));
    }
    return out;
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
    return hunt(config, impl, model, done, workers, pool, t0, deadline, tally, progress);
  }

  private static Optional<Finding> hunt(
      Config config,
      ImplVm first,
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
    SplittableRandom preludes = new SplittableRandom(burstSeed(tally.seed, -1 - tally.histories));
    ImplVm impl = first;
    boolean controlled = tally.strategy.controlled();
    int limit = controlled ? CONTROLLED_SETUP_LIMIT : SETUP_LIMIT;
    while (System.nanoTime() < deadline && way.size() < limit) {
      if (controlled && way.size() > setup.size()) {
        // The implementation the burst runs on is the way's, run sequentially: what a finding's
        // file sets up, so that its schedule replays there step for step (see
        // CONTROLLED_SETUP_LIMIT).
        impl = new ImplVm(config);
        for (Op op : way) {
          impl.apply(op);
        }
        for (Worker w : workers) {
          w.impl = impl;
        }
      }
      List<Op> pre = prelude(preludes, tally);
      boolean group = pre.contains(new Op.Minherit(SHARED_PID, FILE_PRIVATE, 2, Inherit.SHARE));
      long focus =
          group || preludes.nextBoolean()
              ? group ? FILE_PRIVATE : FOCUS[preludes.nextInt(FOCUS.length)]
              : -1;
      if (focus >= 0) {
        focus += 4096L * preludes.nextInt(focus == FILE_PRIVATE || focus == FILE_SHARED ? 2 : 4);
      }
      // Split roles, half the time: thread 0 loads through its own process, the others store
      // through the fork (a read fault beside another member's copy, and first stores after it).
      boolean split = focus >= 0 && preludes.nextBoolean();
      for (Worker w : workers) {
        w.focus = focus;
        w.split = split;
      }
      for (Op op : pre) {
        Outcome o = Model.step(model, op);
        Result r;
        try {
          r = impl.apply(op);
        } catch (RuntimeException e) {
          return Optional.of(
              new Finding(
                  model, List.of(), "setup " + op + ": threw " + e, way, List.of(), impl.view()));
        }
        if (!r.equals(o.result())) {
          return Optional.of(
              new Finding(model, List.of(), "setup " + op + ": " + r, way, List.of(), impl.view()));
        }
        way.add(op);
        model = o.state();
      }
      List<Call> history;
      Optional<Scheduled> how = Optional.empty();
      try {
        if (tally.strategy.controlled()) {
          Controlled c = controlled(workers, tally);
          how = Optional.of(c.how);
          history = c.calls;
        } else {
          history = burst(workers, pool);
        }
      } catch (Crashed c) {
        tally.histories++;
        tally.calls += c.history.size();
        return Optional.of(
            new Finding(
                model,
                c.history,
                c.getMessage(),
                way,
                List.of(),
                impl.view(),
                Optional.ofNullable(c.how)));
      }
      View implView = impl.view();
      Linearizability.Verdict v =
          Linearizability.check(model, history, s -> Model.view(s).equals(implView));
      tally.histories++;
      tally.calls += history.size();
      tally.explored += v.explored();
      if (!v.linearizable()) {
        return Optional.of(
            new Finding(
                model, history, NOT_LINEARIZABLE, way, endReads(impl, history), implView, how));
      }
      try {
        impl.checkInvariants();
      } catch (IllegalStateException e) {
        return Optional.of(
            new Finding(
                model, history, e.getMessage(), way, endReads(impl, history), implView, how));
      }
      for (Call c : v.order()) {
        if (!v.unchanged().contains(c)) { // those ran out of memory and changed nothing (MEM-1)
          way.add(c.op());
        }
      }
      tally.starts.count(pre, history);
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
  static List<TraceLine> endReads(ImplVm impl, List<Call> history) {
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

  /** A controlled burst's calls and how it was scheduled. */
  private record Controlled(List<Call> calls, Scheduled how) {}

  /**
   * Runs one burst with the workers' threads under the tally's strategy ({@link Scheduler}): the
   * run's strategy and seed come from the hunt's and the number of bursts so far, so that burst n
   * of a hunt from seed S is scheduled the same way every time.
   *
   * @throws Crashed when an operation threw, or the run hung, deadlocked or stalled
   */
  private static Controlled controlled(List<Worker> workers, Tally tally) {
    long n = tally.histories;
    Strategy strategy = tally.strategy.forRun(n);
    long runSeed = burstSeed(tally.seed, n);
    List<List<Call>> out = new ArrayList<>();
    String[] crashed = new String[workers.size()];
    List<Scheduler.Body> bodies = new ArrayList<>();
    for (Worker w : workers) {
      List<Call> mine = new ArrayList<>();
      out.add(mine);
      bodies.add(
          t -> {
            try {
              mine.addAll(w.burst(() -> {}, t::operation));
            } catch (Crashed c) {
              mine.addAll(c.history);
              crashed[w.id] = c.getMessage();
            } catch (Scheduler.Aborted a) {
              throw a;
            } catch (Error e) { // an assertion of the implementation's: a crash like any other
              crashed[w.id] = "the implementation threw " + e + " in thread t" + w.id;
            }
          });
    }
    Scheduler.Run run = Scheduler.run(bodies, strategy, runSeed, tally.expectedSteps, "hunt");
    Schedule sched = run.schedule();
    // PCT's K: the bursts' mean length so far (the longest would put most change points past a
    // typical burst's end, where they change nothing).
    tally.points += run.choicePoints();
    tally.expectedSteps = (int) Math.max(1, tally.points / (n + 1));
    List<Call> all = new ArrayList<>();
    out.forEach(all::addAll);
    Scheduled how =
        new Scheduled(strategy, runSeed, sched.choices(), sched.lines(describe(workers, out)));
    String why = run.failure().orElse(null);
    for (String c : crashed) {
      why = why != null ? why : c;
    }
    if (why != null) {
      Crashed c = new Crashed(all, why);
      c.how = how;
      throw c;
    }
    return new Controlled(all, how);
  }

  /** Longest time spent anchoring a controlled finding ({@link #anchor}). */
  static final long ANCHOR_NANOS = 10_000_000_000L;

  /**
   * A controlled finding whose schedule replays from its setup alone: the burst's calls run again
   * on a fresh implementation after the setup (the earlier bursts' calls in the order that
   * linearized them, sequentially), under the same strategy, from the burst's seed and then from
   * others, until a run fails again and a replay of that run's choices fails the same way. The
   * implementation after a sequential setup is the same to the model, but not always inside (which
   * frames, which objects), so the hunt's own choices may not replay there; the anchored ones do,
   * deterministically, and are what the history file keeps. Empty when no run failed within {@link
   * #ANCHOR_NANOS}: then the finding stands, but its schedule replays only inside its hunt.
   */
  public static Optional<Finding> anchor(Config config, long seed, int threads, Finding f) {
    if (f.schedule().isEmpty() || f.history().isEmpty()) {
      return Optional.empty();
    }
    Scheduled how = f.schedule().get();
    HistoryFile.History h = HistoryFile.of(config, seed, threads, f);
    HistoryReplay.Controlled own = HistoryReplay.controlled(h, null, 0, how.choices());
    if (own.failure().isPresent() && first(own.failure().get()).equals(first(f.why()))) {
      return Optional.of(f); // the hunt's own choices replay (the usual case: see hunt)
    }
    long deadline = System.nanoTime() + ANCHOR_NANOS;
    for (long a = 0; System.nanoTime() < deadline; a++) {
      long runSeed = a == 0 ? how.seed() : burstSeed(how.seed(), a);
      HistoryReplay.Controlled c = HistoryReplay.controlled(h, how.strategy(), runSeed, null);
      if (c.failure().isEmpty() || c.endView() == null) {
        if (c.failure().map(w -> w.startsWith("setup line")).orElse(false)) {
          return Optional.empty(); // the setup itself fails: nothing to anchor to
        }
        continue; // passed, or given up (a hang, a deadlock): another seed
      }
      HistoryReplay.Controlled again = HistoryReplay.controlled(h, null, 0, c.choices());
      String why = first(c.failure().get());
      if (again.failure().isEmpty() || !first(again.failure().get()).equals(why)) {
        continue; // not deterministic from here: try another
      }
      return Optional.of(
          new Finding(
              f.start(),
              c.calls(),
              why,
              f.setup(),
              c.end(),
              c.endView(),
              Optional.of(new Scheduled(how.strategy(), runSeed, c.choices(), c.lines()))));
    }
    return Optional.empty();
  }

  /** A failure's first line: {@link #NOT_LINEARIZABLE} without its calls, or the whole. */
  private static String first(String why) {
    return why.split("\n", 2)[0];
  }

  /** The seed of burst {@code n}'s schedule in a hunt from {@code seed}: at least 0. */
  static long burstSeed(long seed, long n) {
    return (seed * 0x9E3779B97F4A7C15L + n) & Long.MAX_VALUE;
  }

  /** Names operation {@code o} of thread {@code t} for a schedule: its trace line. */
  private static java.util.function.IntFunction<java.util.function.IntFunction<String>> describe(
      List<Worker> workers, List<List<Call>> calls) {
    return t -> o -> o < calls.get(t).size() ? calls.get(t).get(o).op().toString() : "(crashed)";
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
      futures.add(pool.submit(() -> w.burst(() -> await(start), i -> {})));
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

  private static void await(CyclicBarrier start) {
    try {
      start.await();
    } catch (InterruptedException | BrokenBarrierException e) {
      throw new IllegalStateException(e);
    }
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

    /** How the burst was scheduled, when it was controlled. */
    transient Scheduled how;

    Crashed(List<Call> history, String why) {
      super(why, null, false, false);
      this.history = history;
    }
  }

  /** One thread's operations: its own generator, plus calls on what the threads share. */
  private static final class Worker {
    final int id;
    final int perThread;
    ImplVm impl; // the hunt thread's, set between bursts
    long focus = -1; // the hunt thread's, set between bursts: the page all first meet on, or -1
    boolean split; // the hunt thread's, set between bursts: thread 0 loads, the others store
    final Generator gen;
    final SplittableRandom random;

    Worker(int id, long seed, int perThread, ImplVm impl) {
      this.id = id;
      this.perThread = perThread;
      this.impl = impl;
      this.gen = new Generator(seed, 1_000 * (id + 1));
      this.random = new SplittableRandom(seed ^ 0x5DEECE66DL);
    }

    /**
     * One burst: {@code start} first (the threads' barrier when they run free), then {@code
     * perThread} operations, each announced to {@code operation} by its index before it runs.
     */
    List<Call> burst(Runnable start, java.util.function.IntConsumer operation) {
      start.run();
      List<Call> out = new ArrayList<>();
      for (int i = 0; i < perThread; i++) {
        operation.accept(i);
        boolean shared = focus >= 0 && i < FOCUSED || random.nextInt(10) < 6;
        Op op = focus >= 0 && i < FOCUSED ? focused() : shared ? sharedOp() : gen.next();
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
      int own = SHARED_PID + 1 + id;
      int pid = own;
      long value = ((long) (id + 1) << 32) | random.nextInt(1000);
      switch (random.nextInt(20)) {
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
        case 14:
          return new Op.Read(either(own), FILE_PRIVATE + word(2));
        case 7:
        case 15:
        case 16:
          return new Op.Write(either(own), FILE_PRIVATE + word(2), value);
        case 8:
          return new Op.Write(pid, FILE_SHARED + word(2), value);
        case 9:
          return new Op.Read(pid, FILE_SHARED + word(2));
        case 10:
        case 17:
          return new Op.Read(either(own), ANON_PRIVATE + word(4));
        case 11:
        case 18:
        case 19:
          return new Op.Write(either(own), ANON_PRIVATE + word(4), value);
        case 12:
          return filePrivate(pid);
        default:
          return anonPrivate(pid);
      }
    }

    /**
     * A load or store of the burst's focus page, through the thread's own process or the fork, or
     * now and then its region mapped anew: the first {@link #FOCUSED} operations of a focused
     * burst, so that the threads meet on one page.
     */
    private Op focused() {
      int own = SHARED_PID + 1 + id;
      boolean isPrivate = focus >= FILE_PRIVATE && (focus < FILE_SHARED || focus >= ANON_PRIVATE);
      int pid = isPrivate ? either(own) : own;
      long addr = focus + 8L * random.nextInt(4);
      if (split) {
        return id == 0
            ? new Op.Read(own, addr)
            : new Op.Write(isPrivate ? CHILD_PID : own, addr, ((long) (id + 1) << 32) | 7);
      }
      if (random.nextInt(6) == 0) {
        // The focus region mapped anew over itself (MMAP-7): its unmap half races the others'
        // faults on the page, and the page is unfaulted again after it.
        return focus >= ANON_PRIVATE
            ? anonPrivate(own)
            : focus >= FILE_PRIVATE && focus < FILE_SHARED ? filePrivate(own) : sharedOp();
      }
      return random.nextBoolean()
          ? new Op.Read(pid, addr)
          : new Op.Write(pid, addr, ((long) (id + 1) << 32) | random.nextInt(1000));
    }

    /**
     * The thread's own process in the shared address space, or the fork of it: a private page
     * touched through either races copy-on-write across two address spaces.
     */
    private int either(int own) {
      return random.nextBoolean() ? own : CHILD_PID;
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
