package org.vmoracle.checks.impl;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.lang.management.ManagementFactory;
import java.lang.management.ThreadInfo;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;
import org.vmoracle.checks.gen.Generator;
import org.vmoracle.impl.ImplVm;
import org.vmoracle.impl.core.Config;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Errno;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * Concurrent stress of the implementation: threads run mixed operations at once, on processes of
 * their own (random operations from a {@link Generator} each, over shared files and segments) and
 * on one address space they all share (PROC-4), where each thread checks its own words and
 * everyone's words in shared memory. A watchdog turns a deadlock into a failure with a thread dump.
 * At the end every process exits, and {@code checkInvariants()} must pass, which also proves no
 * frame leaked: every frame in use must then belong to a file or a segment.
 */
class ImplStressTest {

  /** Threads: the machine has 2 cores; a third thread makes them contend for time too. */
  private static final int THREADS = 3;

  /** Operations per thread: 3 x 40,000, beyond the 100,000 the issue asks for. */
  private static final int OPS = 40_000;

  /** The shared address space's pid, and the segment every thread maps. */
  private static final int SHARED_PID = 1_000;

  private static final long KEY = 77;

  /** A small machine, so pageout and out-of-memory paths run too. */
  private static final Config CONFIG = Config.defaults().withFrames(1024).withSwapSlots(4096);

  @Test
  void mixedOperations_threeThreads_invariantsHoldAndNothingLeaks() throws Exception {
    ImplVm vm = new ImplVm(CONFIG);
    ok(vm.apply(new Op.Spawn(SHARED_PID)));
    ok(vm.apply(new Op.Shmget(KEY, 4)));
    long shm = value(vm.apply(mmap(SHARED_PID, 4, Sharing.SHARED, new Source.Shm(KEY))));
    long priv =
        value(vm.apply(mmap(SHARED_PID, 32L * THREADS, Sharing.PRIVATE, new Source.Anon())));
    for (int t = 1; t < THREADS; t++) {
      ok(vm.apply(new Op.Clone(SHARED_PID, SHARED_PID + t)));
    }
    AtomicLong done = new AtomicLong();
    CyclicBarrier start = new CyclicBarrier(THREADS);
    ExecutorService pool = Executors.newFixedThreadPool(THREADS);
    List<Future<?>> futures = new ArrayList<>();
    for (int t = 0; t < THREADS; t++) {
      int me = t;
      futures.add(
          pool.submit(
              () -> {
                start.await();
                work(vm, me, shm, priv + me * 32L * Boot.PAGE_SIZE, done);
                return null;
              }));
    }
    try {
      for (Future<?> f : futures) {
        f.get(240, TimeUnit.SECONDS); // the watchdog
      }
    } catch (TimeoutException e) {
      fail("stress run hung after " + done.get() + " operations:\n" + threadDump());
    } finally {
      pool.shutdownNow();
    }
    assertTrue(done.get() >= 100_000, "operations run: " + done.get());
    vm.checkInvariants();
    for (int pid : vm.pids()) {
      ok(vm.apply(new Op.Exit(pid)));
    }
    vm.checkInvariants(); // every used frame now belongs to a file or a segment
    assertEquals(List.of(), vm.pids());
  }

  /** One thread's run. */
  private static void work(ImplVm vm, int me, long shm, long mine, AtomicLong done) {
    SplittableRandom random = new SplittableRandom(42 + me);
    Generator g = new Generator(7 + me, 10_000 * (me + 1));
    int pid = SHARED_PID + me;
    long[] expect = new long[32];
    long counter = 0;
    for (int i = 0; i < OPS; i++) {
      int kind = random.nextInt(11);
      if (kind < 5) {
        Op op = g.next();
        Result r = vm.apply(op);
        g.observe(op, r);
      } else if (kind < 8) {
        // Own words in the shared address space: no one else writes them.
        int page = random.nextInt(32);
        long addr = mine + page * Boot.PAGE_SIZE + 8L * random.nextInt(4);
        if (random.nextBoolean()) {
          long v = ((long) (me + 1) << 48) | ++counter;
          Result r = vm.apply(new Op.Write(pid, addr, v));
          if (r.succeeded()) {
            expect[page] = addr == mine + page * Boot.PAGE_SIZE ? v : expect[page];
          } else {
            assertEquals(Result.of(Errno.OOM), r, "write of own word");
          }
        } else if (addr == mine + page * Boot.PAGE_SIZE) {
          Result r = vm.apply(new Op.Read(pid, addr));
          if (!r.equals(Result.of(Errno.OOM))) {
            assertEquals(Result.value(expect[page]), r, "thread " + me + " own page " + page);
          }
        }
      } else if (kind < 9) {
        // Shared memory: any word read is 0 or one some thread wrote (tag in the high bits).
        long addr = shm + 8L * random.nextInt(4 * 512);
        if (random.nextBoolean()) {
          Result r = vm.apply(new Op.Write(pid, addr, ((long) (me + 1) << 48) | i));
          assertTrue(r.succeeded() || r.equals(Result.of(Errno.OOM)), r.toString());
        } else {
          Result r = vm.apply(new Op.Read(pid, addr));
          if (r instanceof Result.Value) {
            long tag = ((Result.Value) r).value() >>> 48;
            assertTrue(tag <= THREADS, "garbage in shared memory: " + r);
          }
        }
      } else if (kind < 10) {
        // Fork the shared address space while the others write into it, then let the child go;
        // or ask for some pageout.
        if (random.nextBoolean()) {
          int child = 100_000 * (me + 1) + i;
          if (vm.apply(new Op.Fork(pid, child)).succeeded()) {
            Result r = vm.apply(new Op.Read(child, mine));
            assertTrue(r instanceof Result.Value || r.equals(Result.of(Errno.OOM)), r.toString());
            ok(vm.apply(new Op.Exit(child)));
          }
        } else {
          ok(vm.apply(new Op.Pageout(random.nextInt(16))));
        }
      } else {
        scratch(vm, pid, random);
      }
      done.incrementAndGet();
    }
  }

  /**
   * A private region of the shared address space, mapped, written, read back and unmapped while the
   * others fault next to it: munmap's second half (clearing PTEs, freeing frames) runs under the
   * shared lock beside their faults in the same page tables (Config.unmapUnderSharedLock).
   */
  private static void scratch(ImplVm vm, int pid, SplittableRandom random) {
    int pages = 1 + random.nextInt(8);
    Result m = vm.apply(mmap(pid, pages, Sharing.PRIVATE, new Source.Anon()));
    if (!m.succeeded()) {
      assertEquals(Result.of(Errno.ENOMEM), m, "scratch mmap");
      return;
    }
    long base = value(m);
    boolean[] written = new boolean[pages];
    for (int p = 0; p < pages; p++) {
      Result w = vm.apply(new Op.Write(pid, base + p * Boot.PAGE_SIZE, base + p));
      written[p] = w.succeeded();
      assertTrue(written[p] || w.equals(Result.of(Errno.OOM)), "scratch write: " + w);
    }
    for (int p = 0; p < pages; p++) {
      Result r = vm.apply(new Op.Read(pid, base + p * Boot.PAGE_SIZE));
      if (!r.equals(Result.of(Errno.OOM))) {
        assertEquals(Result.value(written[p] ? base + p : 0), r, "scratch page " + p);
      }
    }
    ok(vm.apply(new Op.Munmap(pid, base, pages))); // another thread may map the range next
  }

  private static Op.Mmap mmap(int pid, long pages, Sharing sharing, Source source) {
    return new Op.Mmap(pid, 0, pages, Prot.RW, sharing, source, false);
  }

  private static void ok(Result r) {
    assertTrue(r.succeeded(), r.toString());
  }

  private static long value(Result r) {
    return ((Result.Value) r).value();
  }

  private static String threadDump() {
    StringBuilder sb = new StringBuilder();
    for (ThreadInfo t : ManagementFactory.getThreadMXBean().dumpAllThreads(true, true)) {
      sb.append(t);
    }
    return sb.toString();
  }
}
