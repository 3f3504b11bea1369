package org.vmoracle.checks.lin;

import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.SplittableRandom;
import java.util.concurrent.BrokenBarrierException;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Consumer;
import org.vmoracle.checks.sched.Scheduler;
import org.vmoracle.checks.sched.Strategy;
import org.vmoracle.impl.core.Config;
import org.vmoracle.impl.core.Machine;
import org.vmoracle.impl.map.MapEntry;
import org.vmoracle.impl.map.VmObject;
import org.vmoracle.impl.map.VmSpace;
import org.vmoracle.impl.pmap.Pmap;
import org.vmoracle.impl.pmap.Pte;
import org.vmoracle.impl.rmap.ReverseMap;
import org.vmoracle.impl.sched.Sched;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Sharing;

/**
 * A stress check of the reverse map's per-page records: {@code threads} threads, each with address
 * spaces of its own, make and remove PTEs of one page of one shared object through the one PTE
 * writer, as fast as they can, and every round the records are checked against the PTEs under the
 * exclusive map lock ({@link ReverseMap#checkMapping} for every valid leaf, then {@link
 * ReverseMap#checkInvariants}, and the record count against the leaves).
 *
 * <p>It keeps the contract the VM keeps ({@link ReverseMap}'s essay): every change comes under the
 * shared map lock; a PTE is made only with its frame busy, as a fault makes it ({@code
 * fault.Fault}); a PTE is removed without the frame busy, as copy-on-write's {@code unmapDeeper}
 * removes another member's PTE of a deeper page while a reader elsewhere maps that page. So every
 * insertion races every removal of the same page, the interleaving the per-page lock exists for,
 * which the whole-VM concurrent hunt ({@link ConcurrentHunt}) reaches only when a copy-on-write
 * fault and a read of the same deeper page meet.
 *
 * <p>Runs outside JUnit ({@code vmoracle zoo}); a finding is the first broken record, with the
 * round it was seen in. For the backing scan, which keeps no records, it checks only that every
 * leaf would be found.
 */
public final class RmapStress {
  private RmapStress() {}

  /** Address spaces per thread. */
  static final int SPACES = 4;

  /** Mappings of the page in each space, each a PTE of its own. */
  static final int MAPPINGS = 4;

  /** Changes each thread makes between two checks. */
  static final int ROUND = 20_000;

  /**
   * What a run gave.
   *
   * @param changes PTEs made and removed, over every thread
   * @param rounds rounds run, each ended by a check
   * @param seconds time run
   * @param finding the first broken record, or empty
   */
  public record Report(long changes, long rounds, double seconds, Optional<String> finding) {}

  /** Runs {@code threads} threads for up to {@code seconds}, stopping at the first finding. */
  public static Report run(
      Config config, int threads, long seed, double seconds, Consumer<String> progress) {
    return run(config, threads, seed, seconds, Strategy.FREE, progress);
  }

  /**
   * Changes each thread makes in a round of a controlled stress: a schedule of some 1,000 points.
   */
  static final int CONTROLLED_ROUND = 32;

  /**
   * {@link #run(Config, int, long, double, Consumer)} with the threads under {@code strategy}
   * ({@link Scheduler}): rounds of {@link #CONTROLLED_ROUND} changes a thread, round n scheduled by
   * {@code strategy.forRun(n)} from a seed made of {@code seed} and n, each checked as a free round
   * is. Deterministic: the same seed finds the same thing in the same round.
   */
  public static Report run(
      Config config,
      int threads,
      long seed,
      double seconds,
      Strategy strategy,
      Consumer<String> progress) {
    return run(config, threads, seed, seconds, strategy, progress, Long.MAX_VALUE);
  }

  /** The controlled stress, stopping after {@code maxRounds} rounds too. */
  public static Report run(
      Config config,
      int threads,
      long seed,
      double seconds,
      Strategy strategy,
      Consumer<String> progress,
      long maxRounds) {
    if (threads < 2) {
      throw new IllegalArgumentException("threads " + threads + ": a stress needs at least 2");
    }
    if (strategy.controlled()) {
      Scheduler.pinSetupThread(); // the same frames in every run of one seed
    }
    Machine m = new Machine(config);
    VmObject o = m.newSharedAnon();
    List<List<MapEntry>> mine = new ArrayList<>();
    int f;
    m.lock.writeLock();
    try {
      f = m.mem.allocate();
      m.own(f, o, 0);
      o.pages.put(0, f);
      for (int t = 0; t < threads; t++) {
        List<MapEntry> es = new ArrayList<>();
        for (int s = 0; s < SPACES; s++) {
          Pmap p = m.mmu.newPmap();
          VmSpace sp = m.newSpace(p);
          sp.users = 1;
          for (int k = 0; k < MAPPINGS; k++) {
            long va = 0x10000000L + k * 0x200000L; // one table each
            MapEntry e =
                new MapEntry(
                    sp,
                    va,
                    va + Pmap.PAGE_SIZE,
                    0,
                    Prot.RW,
                    Sharing.SHARED,
                    Inherit.SHARE,
                    o,
                    null);
            sp.entries.put(va, e);
            o.users.add(e);
            es.add(e);
          }
        }
        mine.add(es);
      }
    } finally {
      m.lock.writeUnlock();
    }
    int frame = f;
    long deadline = System.nanoTime() + (long) (seconds * 1e9);
    long t0 = System.nanoTime();
    AtomicReference<String> finding = new AtomicReference<>();
    if (strategy.controlled()) {
      long total = 0;
      long round = 0;
      while (finding.get() == null && System.nanoTime() < deadline && round < maxRounds) {
        long[] made = new long[threads];
        List<Scheduler.Body> bodies = new ArrayList<>();
        for (int t = 0; t < threads; t++) {
          int id = t;
          SplittableRandom rnd = new SplittableRandom(seed + 7919L * t + 104_729L * round);
          bodies.add(
              w ->
                  made[id] =
                      churn(
                          m, mine.get(id), frame, rnd, finding, Long.MAX_VALUE, CONTROLLED_ROUND));
        }
        Scheduler.Run r =
            Scheduler.run(
                bodies,
                strategy.forRun(round),
                ConcurrentHunt.burstSeed(seed, round),
                1_000,
                "rmap-stress");
        round++;
        for (long x : made) {
          total += x;
        }
        if (r.failure().isPresent()) {
          finding.compareAndSet(null, "round " + round + ": " + r.failure().get());
          break;
        }
        String why = check(m, mine, o, frame);
        if (why != null) {
          finding.compareAndSet(null, "round " + round + ": " + why);
        }
      }
      return new Report(
          total, round, (System.nanoTime() - t0) / 1e9, Optional.ofNullable(finding.get()));
    }
    long[] rounds = {0};
    boolean[] stop = {false}; // decided by the barrier's action, read by all after it trips
    CyclicBarrier end =
        new CyclicBarrier(
            threads,
            () -> {
              rounds[0]++;
              String why = check(m, mine, o, frame);
              if (why != null) {
                finding.compareAndSet(null, "round " + rounds[0] + ": " + why);
              }
              stop[0] = finding.get() != null || System.nanoTime() > deadline;
              if (rounds[0] % 50 == 0) {
                progress.accept(
                    String.format(
                        "rmap stress: %,d rounds, %.1f s",
                        rounds[0], (System.nanoTime() - t0) / 1e9));
              }
            });
    List<Thread> workers = new ArrayList<>();
    long[] changes = new long[threads];
    for (int t = 0; t < threads; t++) {
      int id = t;
      SplittableRandom rnd = new SplittableRandom(seed + 7919L * t);
      Thread w =
          new Thread(
              () -> {
                while (true) {
                  try {
                    changes[id] += churn(m, mine.get(id), frame, rnd, finding, deadline, ROUND);
                    end.await(60, TimeUnit.SECONDS);
                  } catch (InterruptedException | BrokenBarrierException | TimeoutException e) {
                    finding.compareAndSet(null, "the stress hung or was interrupted: " + e);
                    end.reset();
                    return;
                  }
                  if (stop[0]) {
                    return; // every thread sees the one decision: the barrier orders it
                  }
                }
              },
              "rmap-stress-" + t);
      workers.add(w);
      w.start();
    }
    for (Thread w : workers) {
      try {
        w.join();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    long total = 0;
    for (long c : changes) {
      total += c;
    }
    return new Report(
        total, rounds[0], (System.nanoTime() - t0) / 1e9, Optional.ofNullable(finding.get()));
  }

  /**
   * One thread's round: {@code changes} changes of its own mappings, fewer when {@code deadline}
   * passes first; answers how many it made.
   */
  private static long churn(
      Machine m,
      List<MapEntry> es,
      int f,
      SplittableRandom rnd,
      AtomicReference<String> finding,
      long deadline,
      int changes) {
    long made = 0;
    long pte = Pte.make(f, false, false);
    for (int n = 0; n < changes && finding.get() == null; n++) {
      if ((n & 255) == 0 && System.nanoTime() > deadline) {
        break; // the budget is spent: end the round early, checked as any other
      }
      MapEntry e = es.get(rnd.nextInt(es.size()));
      int token = m.lock.readLock();
      try {
        if (e.space.pmap.lookup(e.start) == 0) {
          while (!m.mem.tryBusy(f)) {
            Sched.waiting(Sched.Step.BUSY, f); // a fault maps a page it holds busy
          }
          try {
            if (m.mmu.install(e, e.start, 0, pte) != Pmap.Install.INSTALLED) {
              finding.compareAndSet(null, "install of a PTE no one else makes failed");
            }
          } finally {
            m.mem.unbusy(f);
          }
        } else if (!m.mmu.replace(e, e.start, pte, 0)) {
          finding.compareAndSet(null, "removal of a PTE no one else changes failed");
        }
        made++;
      } catch (RuntimeException ex) {
        finding.compareAndSet(null, "the reverse map threw: " + ex);
      } finally {
        m.lock.readUnlock(token);
      }
    }
    return made;
  }

  /** The records against the leaves, under the exclusive lock; null when they agree. */
  private static String check(Machine m, List<List<MapEntry>> all, VmObject o, int f) {
    m.lock.writeLock();
    try {
      long leaves = 0;
      for (List<MapEntry> es : all) {
        for (MapEntry e : es) {
          long pte = e.space.pmap.lookup(e.start);
          if (Pte.isPresent(pte)) {
            leaves++;
            m.rmap.checkMapping(e, e.start, pte, m.mem);
          }
        }
      }
      m.rmap.checkInvariants();
      ReverseMap.Figures r = m.rmap.figures();
      if (m.config.rmap() != Config.Rmap.BACKING && r.ptes() != leaves) {
        return "the reverse map records " + r.ptes() + " PTEs, the page tables hold " + leaves;
      }
      int[] found = {0};
      m.rmap.forEachMapping(o, 0, f, (e, va, pte) -> found[0]++);
      if (found[0] != leaves) {
        return "a walk of the page finds " + found[0] + " PTEs, the page tables hold " + leaves;
      }
      return null;
    } catch (IllegalStateException e) {
      return e.getMessage();
    } finally {
      m.lock.writeUnlock();
    }
  }
}
