package org.vmoracle.checks.lin;

import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.vmoracle.checks.sched.Scheduler;
import org.vmoracle.checks.sched.Strategy;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.impl.sched.Sched;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * A stress check of the wiring fast path (seed 003) against the faults that could see its pages
 * before they are valid (W1 of {@code impl.Wiring}, the review of FreeBSD D43594): one thread maps
 * a 2 MiB segment of private anonymous memory and mlocks it, which the fast path claims under the
 * exclusive map lock and zeroes with the lock downgraded to shared; the other reads words of the
 * segment meanwhile, faulting its pages in under the shared lock. No one ever writes the segment
 * while it is mapped, so every read must answer 0 (ACC-4). Between rounds the wirer writes every
 * page of the segment and unmaps it, so the free pool's run that the next mlock gets back holds
 * those old words until the fast path zeroes them: a page seen before that reads one of them.
 *
 * <p>The whole-VM concurrent hunt ({@link ConcurrentHunt}) meets this window only if an mlock of a
 * whole segment whose run holds old data coincides with a read of that segment; here every round is
 * that meeting. Runs outside JUnit ({@code vmoracle zoo}); a finding is the first read that saw a
 * word no one wrote, or an implementation error, with its round; every 64 rounds the
 * implementation's invariants are checked as well.
 */
public final class WireStress {
  private WireStress() {}

  /** Pages of the segment. */
  static final int SEGMENT_PAGES = (int) (Boot.SEGMENT_SIZE / Boot.PAGE_SIZE);

  /** Where the segment is mapped (fixed): MMAP_BASE, 2 MiB aligned. */
  static final long SEGMENT = Boot.MMAP_BASE;

  /** What the wirer leaves in every page between rounds. */
  static final long OLD = 0xDEAD_0000L;

  /** The frames a run needs: two runs and room for page tables. */
  public static final int FRAMES = 2 * SEGMENT_PAGES + 128;

  /**
   * What a run gave.
   *
   * @param rounds mlocks raced
   * @param reads reads of the segment made while they ran
   * @param superpages rounds whose segment ended up mapped by one 2 MiB leaf (the fast path taken,
   *     no read having built a table first)
   * @param seconds time run
   * @param finding the first wrong read or error, or empty
   */
  public record Report(
      long rounds, long reads, long superpages, double seconds, Optional<String> finding) {}

  /** Runs for up to {@code seconds}, stopping at the first finding. */
  public static Report run(Config config, long seed, double seconds, Consumer<String> progress) {
    return run(config, seed, seconds, Strategy.FREE, progress);
  }

  /**
   * {@link #run(Config, long, double, Consumer)} with the wirer and the reader under {@code
   * strategy} ({@link Scheduler}): round n scheduled by {@code strategy.forRun(n)} from a seed made
   * of {@code seed} and n. The reader polls: after each read it waits a turn ({@link
   * Sched#waiting}), so that a strategy that favours it still lets the wirer move. Deterministic.
   */
  public static Report run(
      Config config, long seed, double seconds, Strategy strategy, Consumer<String> progress) {
    return run(config, seed, seconds, strategy, progress, Long.MAX_VALUE);
  }

  /** The stress, stopping after {@code maxRounds} rounds too. */
  public static Report run(
      Config config,
      long seed,
      double seconds,
      Strategy strategy,
      Consumer<String> progress,
      long maxRounds) {
    if (strategy.controlled()) {
      Scheduler.pinSetupThread(); // the same frames in every run of one seed
    }
    ImplVm vm = new ImplVm(config);
    must(vm, new Op.Spawn(1));
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    long t0 = System.nanoTime();
    AtomicReference<String> finding = new AtomicReference<>();
    SplittableRandom rnd = new SplittableRandom(seed);
    long rounds = 0;
    long reads = 0;
    long superpages = 0;
    try {
      while (finding.get() == null && System.nanoTime() < deadline && rounds < maxRounds) {
        must(
            vm,
            new Op.Mmap(
                1, SEGMENT, SEGMENT_PAGES, Prot.RW, Sharing.PRIVATE, new Source.Anon(), true));
        AtomicBoolean wiring = new AtomicBoolean(true);
        long[] seen = {0};
        long round = rounds;
        long readerSeed = rnd.nextLong();
        Thread reader =
            new Thread(
                () -> {
                  SplittableRandom r = new SplittableRandom(readerSeed);
                  try {
                    do {
                      long va = SEGMENT + (long) r.nextInt(SEGMENT_PAGES) * Boot.PAGE_SIZE + 8;
                      Result got = vm.apply(new Op.Read(1, va));
                      seen[0]++;
                      if (!got.equals(Result.value(0))) {
                        finding.compareAndSet(
                            null,
                            String.format(
                                "round %d: read 1 0x%x during mlock of the segment answered %s,"
                                    + " not 0: a page seen before it was zeroed (W1)",
                                round, va, got));
                        return;
                      }
                      // A poll: under a scheduler, let the wirer move before the next read.
                      Sched.waiting(Sched.Step.WAIT, 0);
                    } while (wiring.get());
                  } catch (RuntimeException e) {
                    finding.compareAndSet(
                        null, "round " + round + ": the reader's read threw " + e);
                  }
                },
                "wire-stress-reader");
        long wirerRound = rounds;
        Runnable wirer =
            () -> {
              try {
                Result r = vm.apply(new Op.Mlock(1, SEGMENT, SEGMENT_PAGES));
                if (!r.succeeded()) {
                  finding.compareAndSet(null, "round " + wirerRound + ": mlock answered " + r);
                }
              } catch (RuntimeException e) {
                finding.compareAndSet(null, "round " + wirerRound + ": mlock threw " + e);
              } finally {
                wiring.set(false);
              }
            };
        if (strategy.controlled()) {
          Scheduler.Run run =
              Scheduler.run(
                  List.of(w -> wirer.run(), w -> reader.run()),
                  strategy.forRun(rounds),
                  ConcurrentHunt.burstSeed(seed, rounds),
                  4_000,
                  "wire-stress");
          run.failure()
              .ifPresent(why -> finding.compareAndSet(null, "round " + round + ": " + why));
        } else {
          reader.start();
          wirer.run();
          reader.join();
        }
        reads += seen[0];
        rounds++;
        if (vm.stats().get("superpagesLive") > 0) {
          superpages++;
        }
        for (int p = 0; p < SEGMENT_PAGES && finding.get() == null; p++) {
          must(vm, new Op.Write(1, SEGMENT + (long) p * Boot.PAGE_SIZE + 8, OLD + p));
        }
        must(vm, new Op.Munmap(1, SEGMENT, SEGMENT_PAGES));
        if (rounds % 64 == 0) {
          vm.checkInvariants();
          progress.accept(
              String.format(
                  "wire stress: %,d rounds, %,d reads, %.1f s",
                  rounds, reads, (System.nanoTime() - t0) / 1e9));
        }
      }
      if (finding.get() == null) {
        vm.checkInvariants();
      }
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      finding.compareAndSet(null, "interrupted");
    } catch (RuntimeException e) {
      finding.compareAndSet(null, "round " + rounds + ": " + e);
    }
    return new Report(
        rounds,
        reads,
        superpages,
        (System.nanoTime() - t0) / 1e9,
        Optional.ofNullable(finding.get()));
  }

  private static void must(ImplVm vm, Op op) {
    Result r = vm.apply(op);
    if (!r.succeeded()) {
      throw new IllegalStateException(op + " answered " + r);
    }
  }
}
