package org.vmoracle.checks.gen;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.vmoracle.spec.Boot;
import org.vmoracle.spec.Inherit;
import org.vmoracle.spec.Op;
import org.vmoracle.spec.Prot;
import org.vmoracle.spec.Result;
import org.vmoracle.spec.Sharing;
import org.vmoracle.spec.Source;

/**
 * A seeded, weighted, state-aware generator of operations: the same seed gives the same operations
 * for the same results. It learns from what the system answers ({@link #observe}): which pids are
 * alive, where mappings were placed, and aims most accesses and range operations at them, with some
 * at their edges and at unmapped addresses.
 *
 * <p>Not thread-safe; one generator drives one sequential run.
 */
public final class Generator {

  /** Most processes alive at once: enough for fork trees, few enough to keep them busy. */
  private static final int MAX_PROCESSES = 8;

  /** Most mappings remembered: older ones are forgotten first. */
  private static final int MAX_MAPPINGS = 64;

  private static final String[] FILES = {"f0", "f1", "f2", "bin/static", "lib/libc"};
  private static final long[] KEYS = {1, 2, 3};

  private final SplittableRandom random;
  private final List<Integer> pids = new ArrayList<>();

  /** What each pid has mapped, as {start, pages}; clones share one list, as they share a map. */
  private final Map<Integer, List<long[]>> mapped = new HashMap<>();

  private List<long[]> mappings = new ArrayList<>();
  private int nextPid;
  private Op last;

  public Generator(long seed) {
    this(seed, 1);
  }

  /**
   * A generator whose pids start at {@code firstPid}: generators with disjoint pid ranges can drive
   * one system from several threads without touching each other's processes.
   */
  public Generator(long seed, int firstPid) {
    this.random = new SplittableRandom(seed);
    this.nextPid = firstPid;
  }

  /** The next operation to run. Call {@link #observe} with its result before asking again. */
  public Op next() {
    if (!pids.isEmpty()) {
      int pid = anyPid();
      mappings = mapped.get(pid);
      last = choose(pid);
    } else {
      last = new Op.Spawn(freshPid());
    }
    return last;
  }

  /** Learns from the result of the operation {@link #next} gave last. */
  public void observe(Op op, Result result) {
    if (!result.succeeded()) {
      return;
    }
    if (op instanceof Op.Spawn) {
      pids.add(((Op.Spawn) op).pid());
      mapped.put(((Op.Spawn) op).pid(), new ArrayList<>());
    } else if (op instanceof Op.Fork) {
      Op.Fork f = (Op.Fork) op;
      pids.add(f.child());
      mapped.put(f.child(), new ArrayList<>(mapped.get(f.parent())));
    } else if (op instanceof Op.Clone) {
      Op.Clone c = (Op.Clone) op;
      pids.add(c.child());
      mapped.put(c.child(), mapped.get(c.parent()));
    } else if (op instanceof Op.Exit) {
      pids.remove(Integer.valueOf(((Op.Exit) op).pid()));
      mapped.remove(((Op.Exit) op).pid());
    } else if (op instanceof Op.Mmap && result instanceof Result.Value) {
      remember(((Result.Value) result).value(), ((Op.Mmap) op).pages());
    } else if (op instanceof Op.Exec) {
      mappings = new ArrayList<>();
      mapped.put(((Op.Exec) op).pid(), mappings);
      remember(0x400000L, 24);
      remember(Boot.STACK_TOP - Boot.STACK_PAGES * Boot.PAGE_SIZE, Boot.STACK_PAGES);
    }
  }

  private void remember(long start, long pages) {
    if (mappings.size() == MAX_MAPPINGS) {
      mappings.remove(0);
    }
    mappings.add(new long[] {start, pages});
  }

  private Op choose(int pid) {
    int w = random.nextInt(100);
    if (w < 24) {
      return new Op.Read(pid, wordAddress());
    }
    if (w < 48) {
      return new Op.Write(pid, wordAddress(), value());
    }
    if (w < 58) {
      return mmap(pid);
    }
    if (w < 62) {
      long[] r = range();
      return new Op.Munmap(pid, r[0], r[1]);
    }
    if (w < 66) {
      long[] r = range();
      return new Op.Mprotect(pid, r[0], r[1], pick(Prot.values()));
    }
    if (w < 68) {
      long[] r = range();
      return new Op.Minherit(pid, r[0], r[1], pick(Inherit.values()));
    }
    if (w < 71) {
      long[] r = range();
      return new Op.Mlock(pid, r[0], r[1]);
    }
    if (w < 73) {
      long[] r = range();
      return new Op.Munlock(pid, r[0], r[1]);
    }
    if (w < 78) {
      return pids.size() < MAX_PROCESSES ? new Op.Fork(pid, freshPid()) : new Op.Exit(pid);
    }
    if (w < 79) {
      return pids.size() < MAX_PROCESSES ? new Op.Clone(pid, freshPid()) : new Op.Exit(pid);
    }
    if (w < 80) {
      return new Op.Exec(pid, random.nextBoolean() ? "static" : "dynamic");
    }
    if (w < 83) {
      return new Op.Exit(pid);
    }
    if (w < 84) {
      return new Op.Spawn(pids.size() < MAX_PROCESSES ? freshPid() : pid);
    }
    if (w < 86) {
      return new Op.File(pick(FILES), random.nextInt(5));
    }
    if (w < 89) {
      return new Op.Fwrite(pick(FILES), random.nextInt(5 * 512) * 8L, value());
    }
    if (w < 92) {
      return new Op.Fread(pick(FILES), random.nextInt(5 * 512) * 8L);
    }
    if (w < 94) {
      return new Op.Shmget(KEYS[random.nextInt(KEYS.length)], 1 + random.nextInt(4));
    }
    if (w < 95) {
      return new Op.Shmrm(KEYS[random.nextInt(KEYS.length)]);
    }
    if (w < 97) {
      return new Op.Pageout(random.nextInt(64));
    }
    return new Op.Collapse(pid, wordAddress());
  }

  private Op mmap(int pid) {
    long pages = 1 + random.nextInt(random.nextInt(8) == 0 ? 600 : 8);
    Sharing sharing = random.nextBoolean() ? Sharing.PRIVATE : Sharing.SHARED;
    Source source;
    int s = random.nextInt(4);
    if (s < 2) {
      source = new Source.Anon();
    } else if (s == 2) {
      source = new Source.FileRange(pick(FILES), random.nextInt(4));
    } else {
      source = new Source.Shm(KEYS[random.nextInt(KEYS.length)]);
    }
    long addr = 0;
    boolean fixed = false;
    int a = random.nextInt(10);
    if (a == 0 && !mappings.isEmpty()) {
      addr = range()[0];
      fixed = random.nextBoolean();
    } else if (a == 1) {
      addr = Boot.MMAP_BASE + random.nextInt(64) * Boot.PAGE_SIZE;
    }
    Prot prot = random.nextInt(4) == 0 ? pick(Prot.values()) : Prot.RW;
    return new Op.Mmap(pid, addr, pages, prot, sharing, source, fixed);
  }

  /** A page-aligned range, mostly inside or across a remembered mapping. */
  private long[] range() {
    if (mappings.isEmpty() || random.nextInt(10) == 0) {
      return new long[] {
        Boot.MMAP_BASE + random.nextInt(32) * Boot.PAGE_SIZE, 1 + random.nextInt(4)
      };
    }
    long[] m = mappings.get(random.nextInt(mappings.size()));
    long first = random.nextLong(m[1]);
    long pages = 1 + random.nextLong(Math.max(1, m[1] - first + (random.nextInt(4) == 0 ? 2 : 0)));
    return new long[] {m[0] + first * Boot.PAGE_SIZE, pages};
  }

  /** A word address, mostly inside a remembered mapping, sometimes just past one. */
  private long wordAddress() {
    if (mappings.isEmpty() || random.nextInt(20) == 0) {
      return random.nextBoolean()
          ? Boot.SHARED_PAGE + random.nextInt(512) * 8L
          : Boot.MMAP_BASE + random.nextInt(64 * 512) * 8L;
    }
    long[] m = mappings.get(random.nextInt(mappings.size()));
    long page = random.nextInt(8) == 0 ? m[1] : random.nextLong(Math.min(m[1], 16));
    return m[0] + page * Boot.PAGE_SIZE + random.nextInt(4) * 8L;
  }

  private long value() {
    return random.nextInt(4) == 0 ? random.nextLong() : 1 + random.nextInt(1000);
  }

  private int anyPid() {
    return pids.get(random.nextInt(pids.size()));
  }

  private int freshPid() {
    return nextPid++;
  }

  private <T> T pick(T[] xs) {
    return xs[random.nextInt(xs.length)];
  }
}
