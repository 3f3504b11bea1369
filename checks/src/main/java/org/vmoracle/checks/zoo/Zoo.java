package org.vmoracle.checks.zoo;

import static java.util.Map.entry;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.function.UnaryOperator;
import org.vmoracle.checks.diff.Divergence;
import org.vmoracle.checks.gen.OpKind;
import org.vmoracle.checks.gen.Profile;
import org.vmoracle.checks.hunt.Hunt;
import org.vmoracle.checks.hunt.Reproducer;
import org.vmoracle.checks.lin.ConcurrentHunt;
import org.vmoracle.checks.lin.HistoryFile;
import org.vmoracle.checks.lin.RmapStress;
import org.vmoracle.checks.lin.WireStress;
import org.vmoracle.checks.sched.Strategy;
import org.vmoracle.checks.shrink.DivergenceShrinker;
import org.vmoracle.checks.shrink.Signature;
import org.vmoracle.impl.core.Bug;
import org.vmoracle.impl.core.Config;

/**
 * The injected-bug zoo (DESIGN.md, "Injected bugs"): for each {@link Bug}, the check best suited to
 * see it, run on the implementation with that bug switched on ({@link Config#withBug}) until it
 * finds something or its time budget is spent. A bug its check does not find is a finding about the
 * checks.
 *
 * <p>A new {@link Bug} needs one entry in {@link #TABLE}; until it has one, {@link #run} reports it
 * missed and {@code ZooTest} fails.
 */
public final class Zoo {
  private Zoo() {}

  /** Longest time spent shrinking one finding (not counted in the bug's budget). */
  public static final Duration SHRINK_BUDGET = Duration.ofSeconds(30);

  /**
   * The kinds of check: the two hunts, the reverse map's stress ({@link RmapStress}) and the wiring
   * fast path's ({@link WireStress}).
   */
  public enum Kind {
    /** The sequential hunt: model and implementation in lockstep, with a profile. */
    LOCKSTEP,
    /** The concurrent hunt: bursts on several threads, each history checked for linearizability. */
    CONCURRENT,
    /** Threads making and removing PTEs of one page through the PTE writer, records checked. */
    RMAP_STRESS,
    /** mlock of a whole 2 MiB segment by the fast path while another thread reads it. */
    WIRE_STRESS
  }

  /**
   * How a bug is hunted: the sequential hunt ({@link Hunt}: model and implementation in lockstep)
   * with a profile, the concurrent hunt ({@link ConcurrentHunt}: bursts of {@code burst} operations
   * on each of {@code threads} threads, each burst's history checked for linearizability), or the
   * reverse map's stress ({@link RmapStress}) on {@code threads} threads.
   *
   * @param kind which check
   * @param profile the sequential hunt's profile; null for the others
   * @param threads 1 for the sequential hunt, at least 2 for the others
   * @param burst operations a thread runs in one burst of the concurrent hunt; 0 for the others
   * @param rmap the reverse map the bug lives in, which the check then uses whatever {@code --rmap}
   *     says; null for a bug of no one design (the check uses the settings given)
   * @param sharing whether the check turns segment page-table sharing on (seed 001, off by
   *     default), for a bug that lives in it
   * @param strategy how the threads of a concurrent check are scheduled ({@link Strategy}); free
   *     for the sequential hunt
   * @param checkEvery for the sequential hunt, invariants and views compared every this many
   *     operations of a run as well as at its end ({@link Hunt.Settings#checkEvery}); 0, and for
   *     the others always 0: only at each run's end
   * @param runLength for the sequential hunt, operations in one run on freshly booted systems; 0,
   *     and for the others always 0: {@link Hunt#RUN_LENGTH}
   */
  public record Check(
      Kind kind,
      Profile profile,
      int threads,
      int burst,
      Config.Rmap rmap,
      boolean sharing,
      Strategy strategy,
      int checkEvery,
      int runLength) {

    /**
     * A check that leaves page-table sharing as the settings given say, checks at each run's end,
     * and schedules a concurrent check's threads by the random strategy.
     */
    public Check(Kind kind, Profile profile, int threads, int burst, Config.Rmap rmap) {
      this(
          kind,
          profile,
          threads,
          burst,
          rmap,
          false,
          kind == Kind.LOCKSTEP ? Strategy.FREE : Strategy.RANDOM,
          0,
          0);
    }

    public Check {
      Objects.requireNonNull(kind, "kind");
      Objects.requireNonNull(strategy, "strategy");
      if (kind == Kind.LOCKSTEP && strategy.controlled()) {
        throw new IllegalArgumentException(
            "the sequential hunt has one thread: nothing to schedule");
      }
      boolean ok;
      switch (kind) {
        case LOCKSTEP:
          ok = profile != null && threads == 1 && burst == 0;
          break;
        case CONCURRENT:
          ok = profile == null && threads > 1 && burst > 0;
          break;
        default:
          ok = profile == null && threads > 1 && burst == 0;
      }
      if (!ok) {
        throw new IllegalArgumentException(
            "a profile with 1 thread, 2 or more threads and a burst without one, or a stress of 2"
                + " or more threads");
      }
      if (checkEvery < 0
          || runLength < 0
          || ((checkEvery > 0 || runLength > 0) && kind != Kind.LOCKSTEP)) {
        throw new IllegalArgumentException(
            "a check interval and run length of 0 or more, above 0 only for the sequential hunt,"
                + " not "
                + checkEvery
                + " and "
                + runLength);
      }
    }

    /** The sequential lockstep hunt with profile {@code p}. */
    public static Check lockstep(Profile p) {
      return new Check(Kind.LOCKSTEP, Objects.requireNonNull(p, "profile"), 1, 0, null);
    }

    /** The concurrent hunt with {@code threads} threads, {@code burst} operations a burst each. */
    public static Check concurrent(int threads, int burst) {
      return new Check(Kind.CONCURRENT, null, threads, burst, null);
    }

    /** The reverse map's stress on {@code threads} threads, on reverse map {@code r}. */
    public static Check rmapStress(int threads, Config.Rmap r) {
      return new Check(Kind.RMAP_STRESS, null, threads, 0, Objects.requireNonNull(r, "rmap"));
    }

    /** The wiring fast path's stress: an mlock and a reader, 2 threads. */
    public static Check wireStress() {
      return new Check(Kind.WIRE_STRESS, null, 2, 0, null);
    }

    /** This check, on reverse map {@code r}: for a bug that lives in that design. */
    public Check on(Config.Rmap r) {
      return new Check(
          kind,
          profile,
          threads,
          burst,
          Objects.requireNonNull(r, "rmap"),
          sharing,
          strategy,
          checkEvery,
          runLength);
    }

    /** This check with page-table sharing on: for a bug that lives in it (seed 001). */
    public Check withSharing() {
      return new Check(kind, profile, threads, burst, rmap, true, strategy, checkEvery, runLength);
    }

    /** This concurrent check with its threads scheduled by {@code s}. */
    public Check under(Strategy s) {
      return new Check(kind, profile, threads, burst, rmap, sharing, s, checkEvery, runLength);
    }

    /**
     * This sequential hunt with invariants and views compared every {@code n} operations of a run
     * as well as at its end: for a bug that shows only there, so that a run need not reach its end
     * (5,000 operations) before the bug is seen.
     */
    public Check checkingEvery(int n) {
      if (kind != Kind.LOCKSTEP || n < 1) {
        throw new IllegalArgumentException(
            "a check interval of 1 or more, for the sequential hunt only, not " + n);
      }
      return new Check(kind, profile, threads, burst, rmap, sharing, strategy, n, runLength);
    }

    /**
     * This sequential hunt in runs of {@code n} operations each, on freshly booted systems: for a
     * bug whose state arises soon after boot and is gone again (or cheaper to reach afresh) long
     * before a run of {@link Hunt#RUN_LENGTH} ends, which is where it would be checked.
     */
    public Check inRunsOf(int n) {
      if (kind != Kind.LOCKSTEP || n < 1) {
        throw new IllegalArgumentException(
            "a run length of 1 or more, for the sequential hunt only, not " + n);
      }
      return new Check(kind, profile, threads, burst, rmap, sharing, strategy, checkEvery, n);
    }

    /** Operations in one run of the sequential hunt: the check's, or {@link Hunt#RUN_LENGTH}. */
    public int runOps() {
      return runLength > 0 ? runLength : Hunt.RUN_LENGTH;
    }

    /** {@code c} with this check's reverse map, when it names one, and its sharing. */
    public Config applyTo(Config c) {
      Config r = rmap == null ? c : c.withRmap(rmap);
      return sharing ? r.with(Config.Switch.SHARE_PAGE_TABLES, true) : r;
    }

    /**
     * The check's options, as {@code vmoracle hunt} takes them: {@code --profile fork} (then {@code
     * --check-every 100} when it checks within runs, {@code --run-length 500} when its runs are
     * shorter than the hunt's), {@code --threads 2 --burst 16} or {@code --threads 2}, then {@code
     * --rmap pv} when the check names a reverse map.
     */
    public String options() {
      return own(true);
    }

    private String own(boolean withStrategy) {
      String own;
      String st = withStrategy ? " --strategy " + strategy.word() : "";
      switch (kind) {
        case LOCKSTEP:
          own =
              "--profile "
                  + profile.word()
                  + (checkEvery > 0 ? " --check-every " + checkEvery : "")
                  + (runLength > 0 ? " --run-length " + runLength : "");
          break;
        case CONCURRENT:
          own = "--threads " + threads + " --burst " + burst + st;
          break;
        default:
          own = "--threads " + threads + st;
      }
      return own
          + (rmap == null ? "" : " --rmap " + rmap.word())
          + (sharing ? " --config sharePageTables=true" : "");
    }

    /**
     * {@code hunt --profile fork}, {@code rmap stress --threads 2 --strategy random --rmap pv}, or
     * {@code wire stress --threads 2 --strategy random}.
     */
    public String describe() {
      return what() + options();
    }

    /**
     * The detector without its strategy, for the zoo's table: {@code hunt --threads 2 --burst 4}.
     */
    public String detector() {
      return what() + own(false);
    }

    private String what() {
      return kind == Kind.RMAP_STRESS
          ? "rmap stress "
          : kind == Kind.WIRE_STRESS ? "wire stress " : "hunt ";
    }
  }

  /**
   * Each bug's check, chosen by trying: the profile that found it soonest over a few seeds (and
   * whose finding shrank fast), or for the races, the concurrent hunt's burst length that caught
   * them most often. Sequential bugs are found within the first run (5,000 operations, about a
   * second). The races are seen only when a burst happens to interleave just so: in 20 s of bursts
   * of 16 operations a thread, LOST_ZERO_FILL_RACE was caught in 10 of 14 tries (median time about
   * 8 s) and UNLOCKED_FAULTS in 6 of 6; bursts of 4 caught them in 5 and 8 of 10. The bugs of one
   * reverse-map design run on it: CHAIN_HEAD_MOVE_DROPS needs a page mapped three times (the shared
   * page after two forks), which the fork profile makes in its first run; PV_LEFT_ON_PARTIAL_MUNMAP
   * falls to the mixed profile's first partial munmap. PV_UNLOCKED_INSERT was missed by the
   * concurrent hunt in 60 s (a fault maps a page only with it busy, so two inserts of one page
   * never meet, and an insert meets a removal only when a copy-on-write and a read of one deeper
   * page coincide); the reverse map's stress, which makes that meeting its whole work, caught it in
   * 3 of 3 tries, in 0.7 to 4.6 s. The nine sequential bugs from kernel history
   * (MPROTECT_SKIPS_WIRED onward) each went to the profile, check interval and run length that
   * caught it soonest over seeds 1 to 5 (mixed, pressure, wire, fork and file tried for the slow,
   * with checks every 50 to 1,000 operations and runs of 100 to 5,000), every seed within a second
   * or two: six of them show only in the invariants or views, which runs of 5,000 compare only at
   * their end (a comparison of views costs some 25 ms, as much as 250 operations), so they are
   * checked sooner: in short runs when their state arises soon after boot and is gone again before
   * 5,000 (MPROTECT_SKIPS_WIRED, TRUNCATE_KEEPS_PRIVATE_COPIES, PAGEOUT_EVICTS_WIRED), with checks
   * within runs when it lasts (EXIT_LEAKS_ROOT_TABLE), or both, when only a few runs ever reach it
   * (MLOCK_NO_ROLLBACK needs an mlock across a PROT_NONE or past-the-end entry, which the file
   * profile makes most often; FORK_SKIPS_WIRED_COPY). The other three are seen by a result or a
   * crash within the first few hundred operations of the profile of their state.
   */
  private static final Map<Bug, Check> TABLE =
      new EnumMap<>(
          Map.ofEntries(
              entry(Bug.LOST_ZERO_FILL_RACE, Check.concurrent(2, 4)),
              entry(Bug.UNLOCKED_FAULTS, Check.concurrent(2, 4)),
              entry(Bug.COPY_PUBLISHED_BEFORE_FILL, Check.concurrent(2, 4)),
              entry(Bug.COW_FRONT_UNDER_SHARED_LOCK, Check.concurrent(2, 4)),
              entry(Bug.DEEP_INSTALL_SKIPS_RECHECK, Check.concurrent(2, 4)),
              entry(Bug.COLLAPSE_DROPS_FILE, Check.lockstep(Profile.FILE)),
              entry(Bug.SHARED_PAGE_REMOVED_WHILE_SHARED, Check.lockstep(Profile.MIXED)),
              entry(Bug.STALE_PTE_AFTER_MUNMAP, Check.lockstep(Profile.MIXED)),
              entry(Bug.FORK_NO_WRITE_PROTECT, Check.lockstep(Profile.FORK)),
              entry(Bug.DOUBLE_COUNTED_PT_PAGES, Check.lockstep(Profile.PRESSURE)),
              entry(Bug.SHARED_ANON_COPY_FILLS_PRIVATELY, Check.lockstep(Profile.FORK)),
              entry(Bug.WIRE_KEPT_ON_REPOINT, Check.lockstep(Profile.COLLAPSE)),
              entry(
                  Bug.CHAIN_HEAD_MOVE_DROPS, Check.lockstep(Profile.FORK).on(Config.Rmap.PTECHAIN)),
              entry(
                  Bug.PV_LEFT_ON_PARTIAL_MUNMAP, Check.lockstep(Profile.MIXED).on(Config.Rmap.PV)),
              entry(Bug.PV_UNLOCKED_INSERT, Check.rmapStress(2, Config.Rmap.PV)),
              entry(Bug.FAST_WIRE_EXPOSES_INVALID, Check.wireStress()),
              entry(Bug.DEMOTION_LOSES_PAGE, Check.lockstep(Profile.WIRE)),
              entry(Bug.SHARED_TABLE_UNDER_COW, Check.lockstep(Profile.SHM).withSharing()),
              entry(Bug.UNMAP_CLEARS_SHARED_TABLE, Check.lockstep(Profile.SHM).withSharing()),
              entry(Bug.MPROTECT_SKIPS_WIRED, Check.lockstep(Profile.WIRE).inRunsOf(150)),
              entry(Bug.TRUNCATE_KEEPS_PRIVATE_COPIES, Check.lockstep(Profile.FILE).inRunsOf(300)),
              entry(Bug.PAGEOUT_EVICTS_WIRED, Check.lockstep(Profile.PRESSURE).inRunsOf(500)),
              entry(
                  Bug.MLOCK_NO_ROLLBACK,
                  Check.lockstep(Profile.FILE).checkingEvery(100).inRunsOf(500)),
              entry(
                  Bug.FORK_SKIPS_WIRED_COPY,
                  Check.lockstep(Profile.PRESSURE).checkingEvery(100).inRunsOf(1000)),
              entry(Bug.FILE_READ_ONTO_DIRTY_FRAME, Check.lockstep(Profile.FILE)),
              entry(Bug.EXIT_LEAKS_ROOT_TABLE, Check.lockstep(Profile.FORK).checkingEvery(200)),
              entry(Bug.CLIP_LEAVES_USER_OFF_LIST, Check.lockstep(Profile.MIXED)),
              entry(Bug.COLLAPSE_SHARES_SWAP_SLOT, Check.lockstep(Profile.COLLAPSE))));

  /** The check that hunts {@code bug}; empty when the table has no entry for it. */
  public static Optional<Check> check(Bug bug) {
    return Optional.ofNullable(TABLE.get(bug));
  }

  /**
   * What hunting one bug gave.
   *
   * @param bug the bug
   * @param check how it was hunted; empty when the table has none (then it was not hunted)
   * @param caught whether the check found something
   * @param seconds until the finding, or the whole budget when nothing was found
   * @param operations operations run until the finding (included), or in the whole budget; for a
   *     controlled check, the schedules tried (bursts, or rounds of a stress)
   * @param found what was found, one line; empty when nothing was
   * @param reproducer the reproducer's operations: the shrunk trace's, or a concurrent finding's
   *     calls
   * @param choices a controlled finding's schedule: its choices, which replay it
   * @param file where the reproducer was written, when it was
   * @param note what else to say (shrinking stopped by its budget, not reproducible, not written)
   * @param second a second finding met while shrinking, a failure of another kind ({@code VIEW at
   *     collapse, 3 operations}); empty when there was none
   * @param secondFile where the second finding was written, when it was
   */
  public record Verdict(
      Bug bug,
      Optional<Check> check,
      boolean caught,
      double seconds,
      long operations,
      String found,
      Optional<Integer> reproducer,
      Optional<Integer> choices,
      Optional<Path> file,
      String note,
      String second,
      Optional<Path> secondFile) {}

  /**
   * Hunts {@code bug} with its check for up to {@code seconds} from {@code seed}, stopping at the
   * first finding; a sequential finding is shrunk (within {@link #SHRINK_BUDGET}) and written into
   * {@code findings}; a concurrent finding is written there as a history file ({@link
   * HistoryFile}).
   */
  public static Verdict run(Bug bug, double seconds, long seed, Path findings) {
    return run(bug, seconds, seed, findings, UnaryOperator.identity());
  }

  /**
   * Like {@link #run(Bug, double, long, Path)}, with the implementation's settings of the bug's
   * check (its profile's, or the concurrent hunt's) passed through {@code tune} before the bug is
   * switched on: {@code vmoracle zoo --config}. With {@code findings} null the bug is only
   * detected: nothing is shrunk, anchored or written (the quick zoo of the tests).
   */
  public static Verdict run(
      Bug bug, double seconds, long seed, Path findings, UnaryOperator<Config> tune) {
    Optional<Check> c = check(bug);
    if (c.isEmpty()) {
      return new Verdict(
          bug,
          c,
          false,
          0,
          0,
          "",
          Optional.empty(),
          Optional.empty(),
          Optional.empty(),
          "no check for it in the zoo's table (Zoo.TABLE)",
          "",
          Optional.empty());
    }
    switch (c.get().kind()) {
      case LOCKSTEP:
        return lockstep(bug, c.get(), seconds, seed, findings, tune);
      case CONCURRENT:
        return concurrent(bug, c.get(), seconds, seed, findings, tune);
      case WIRE_STRESS:
        return wireStress(bug, c.get(), seconds, seed, tune);
      default:
        return stress(bug, c.get(), seconds, seed, tune);
    }
  }

  private static Verdict wireStress(
      Bug bug, Check c, double seconds, long seed, UnaryOperator<Config> tune) {
    Config config = c.applyTo(tune.apply(Config.defaults().withFrames(WireStress.FRAMES)));
    WireStress.Report r =
        WireStress.run(config.withBug(bug), seed, seconds, c.strategy(), line -> {});
    if (r.finding().isEmpty()) {
      return missed(bug, c, r.seconds(), r.rounds());
    }
    return new Verdict(
        bug,
        Optional.of(c),
        true,
        r.seconds(),
        r.rounds(),
        "mlock of a 2 MiB segment raced by reads, " + r.finding().get(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        "",
        "",
        Optional.empty());
  }

  private static Verdict stress(
      Bug bug, Check c, double seconds, long seed, UnaryOperator<Config> tune) {
    Config config = c.applyTo(tune.apply(Config.defaults().withFrames(256))).withBug(bug);
    RmapStress.Report r =
        RmapStress.run(config, c.threads(), seed, seconds, c.strategy(), line -> {});
    if (r.finding().isEmpty()) {
      return missed(bug, c, r.seconds(), r.changes());
    }
    return new Verdict(
        bug,
        Optional.of(c),
        true,
        r.seconds(),
        r.changes(),
        "PTE changes of one page on " + c.threads() + " threads, " + r.finding().get(),
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        "",
        "",
        Optional.empty());
  }

  private static Verdict lockstep(
      Bug bug, Check c, double seconds, long seed, Path findings, UnaryOperator<Config> tune) {
    Profile p = c.profile();
    Hunt.Settings s =
        new Hunt.Settings(
            p,
            c.applyTo(tune.apply(p.config())).withBug(bug),
            seed,
            0,
            seconds,
            c.runOps(),
            c.checkEvery());
    Hunt.Report r = Hunt.run(s, progress -> {}, 0);
    if (r.finding().isEmpty()) {
      return missed(bug, c, r.progress().seconds(), r.progress().operations());
    }
    Hunt.Finding f = r.finding().get();
    if (findings == null) {
      return detected(bug, c, f.seconds(), f.operationsBefore() + 1, what(f.divergence()));
    }
    Reproducer made = Reproducer.make(s, f, SHRINK_BUDGET, findings);
    String note = made.problem();
    if (made.shrunk().isPresent() && !made.shrunk().get().complete()) {
      note = "shrinking stopped by its " + SHRINK_BUDGET.toSeconds() + " s budget";
    }
    return new Verdict(
        bug,
        Optional.of(c),
        true,
        f.seconds(),
        f.operationsBefore() + 1,
        what(f.divergence()),
        made.shrunk().map(x -> x.ops().size()),
        Optional.empty(),
        made.file(),
        note,
        made.shrunk()
            .flatMap(DivergenceShrinker.Shrunk::other)
            .map(o -> Signature.of(o.divergence()) + ", " + o.ops().size() + " operations")
            .orElse(""),
        made.second());
  }

  private static Verdict concurrent(
      Bug bug, Check c, double seconds, long seed, Path findings, UnaryOperator<Config> tune) {
    Config config =
        c.applyTo(tune.apply(Config.defaults().withFrames(ConcurrentHunt.FRAMES))).withBug(bug);
    ConcurrentHunt.Report r =
        ConcurrentHunt.run(config, c.threads(), seed, seconds, c.burst(), c.strategy(), line -> {});
    if (r.finding().isEmpty()) {
      return missed(bug, c, r.seconds(), tries(c, r));
    }
    ConcurrentHunt.Finding f = r.finding().get();
    if (findings == null) {
      return detected(bug, c, r.seconds(), tries(c, r), f.why().split("\n", 2)[0]);
    }
    Optional<Path> file = Optional.empty();
    String note = "";
    if (f.schedule().isPresent()) {
      Optional<ConcurrentHunt.Finding> anchored =
          ConcurrentHunt.anchor(config, seed, c.threads(), f);
      if (anchored.isPresent()) {
        f = anchored.get();
      } else {
        note = "its schedule replays only inside the hunt";
      }
    }
    try {
      HistoryFile.Written w = HistoryFile.write(findings, config, seed, c.threads(), c.burst(), f);
      file = Optional.of(w.file());
      if (w.replays().isPresent() && !w.replays().get()) {
        note = "hunt --replay-schedule does not reproduce it";
      } else if (w.verdict().linearizable() && w.replays().isEmpty()) {
        note = "the history recorded passes replay-history; only its reruns may fail";
      }
    } catch (IOException e) {
      note = "cannot write the history to " + findings + ": " + e;
    }
    return new Verdict(
        bug,
        Optional.of(c),
        true,
        r.seconds(),
        tries(c, r),
        f.why().equals(ConcurrentHunt.NOT_LINEARIZABLE)
            ? String.format("a history of %d operations not linearizable", f.history().size())
            : String.format(
                "after a history of %d operations: %s",
                f.history().size(), f.why().split("\n", 2)[0]),
        Optional.of(f.history().size()),
        f.schedule().map(x -> x.choices().length),
        file,
        note,
        "",
        Optional.empty());
  }

  /** What a concurrent check counts as tried: schedules (bursts) when controlled, else calls. */
  private static long tries(Check c, ConcurrentHunt.Report r) {
    return c.strategy().controlled() ? r.histories() : r.calls();
  }

  /** {@code RESULT at read}: the kind of divergence, and of operation it was found at. */
  private static String what(Divergence d) {
    return d.op() == null ? d.kind().name() : d.kind() + " at " + OpKind.of(d.op()).word();
  }

  /** A finding detected, not shrunk or written. */
  private static Verdict detected(Bug bug, Check c, double seconds, long operations, String what) {
    return bare(bug, c, true, seconds, operations, what);
  }

  private static Verdict missed(Bug bug, Check c, double seconds, long operations) {
    return bare(bug, c, false, seconds, operations, "");
  }

  /** A verdict with no reproducer, file, note or second finding. */
  private static Verdict bare(
      Bug bug, Check c, boolean caught, double seconds, long operations, String what) {
    return new Verdict(
        bug,
        Optional.of(c),
        caught,
        seconds,
        operations,
        what,
        Optional.empty(),
        Optional.empty(),
        Optional.empty(),
        "",
        "",
        Optional.empty());
  }
}
