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
 * A seeded, weighted, state-aware generator of operations: the same seed and {@link Mix} give the
 * same operations for the same results. It learns from what the system answers ({@link #observe}):
 * which pids are alive, where mappings were placed, and aims most accesses and range operations at
 * them, with some at their edges and at unmapped addresses. What it makes, and how often, is its
 * mix ({@link Mix#MIXED} unless told; the hunting profiles of {@link Profile} have their own).
 *
 * <p>Not thread-safe; one generator drives one sequential run.
 */
public final class Generator {

  /** Most mappings remembered: older ones are forgotten first. */
  private static final int MAX_MAPPINGS = 64;

  /** Pages of a whole 2 MiB segment: shared page tables need mappings this large (seed 001). */
  private static final int SEGMENT_PAGES = 512;

  private static final String[] FILES = {"f0", "f1", "f2", "bin/static", "lib/libc"};
  private static final long[] KEYS = {1, 2, 3};

  private final SplittableRandom random;
  private final Mix mix;
  private final int[] weights = new int[ORDER.length];
  private final int totalWeight;
  private final List<Integer> pids = new ArrayList<>();

  /** What each pid has mapped, as {start, pages}; clones share one list, as they share a map. */
  private final Map<Integer, List<long[]>> mapped = new HashMap<>();

  private List<long[]> mappings = new ArrayList<>();
  private int nextPid;
  private Op last;

  /** The original mix ({@link Mix#MIXED}), pids from 1. */
  public Generator(long seed) {
    this(seed, 1);
  }

  /**
   * A generator whose pids start at {@code firstPid}: generators with disjoint pid ranges can drive
   * one system from several threads without touching each other's processes.
   */
  public Generator(long seed, int firstPid) {
    this(seed, firstPid, Mix.MIXED);
  }

  /** A generator of {@code mix}, pids from {@code firstPid}. */
  public Generator(long seed, int firstPid, Mix mix) {
    this.random = new SplittableRandom(seed);
    this.nextPid = firstPid;
    this.mix = mix;
    int total = 0;
    for (int i = 0; i < ORDER.length; i++) {
      weights[i] = mix.weight(ORDER[i]);
      total += weights[i];
    }
    if (total <= 0) {
      throw new IllegalArgumentException("a mix with every weight 0 makes nothing");
    }
    this.totalWeight = total;
  }

  /** The next operation to run. Call {@link #observe} with its result before asking again. */
  public Op next() {
    if (!pids.isEmpty()) {
      int pid = actor();
      mappings = mapped.get(pid);
      last = choose(pid);
    } else {
      last = new Op.Spawn(freshPid());
    }
    return last;
  }

  /** The pid that acts next: any live one, or with a fork-line mix often the newest. */
  private int actor() {
    if (mix.youngestPercent > 0 && random.nextInt(100) < mix.youngestPercent) {
      return pids.get(pids.size() - 1);
    }
    return anyPid();
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

  /**
   * The order in which weights are laid out on [0, total): the order of the original generator, so
   * {@link Mix#MIXED} draws exactly what it always drew for a seed.
   */
  private static final OpKind[] ORDER = {
    OpKind.READ,
    OpKind.WRITE,
    OpKind.MMAP,
    OpKind.MUNMAP,
    OpKind.MPROTECT,
    OpKind.MINHERIT,
    OpKind.MLOCK,
    OpKind.MUNLOCK,
    OpKind.FORK,
    OpKind.CLONE,
    OpKind.EXEC,
    OpKind.EXIT,
    OpKind.SPAWN,
    OpKind.FILE,
    OpKind.FWRITE,
    OpKind.FREAD,
    OpKind.SHMGET,
    OpKind.SHMRM,
    OpKind.PAGEOUT,
    OpKind.COLLAPSE
  };

  private OpKind kind() {
    int w = random.nextInt(totalWeight);
    for (int i = 0; i < ORDER.length; i++) {
      w -= weights[i];
      if (w < 0) {
        return ORDER[i];
      }
    }
    throw new AssertionError("weights sum to " + totalWeight);
  }

  private Op choose(int pid) {
    OpKind kind = kind();
    switch (kind) {
      case READ:
        return new Op.Read(pid, wordAddress());
      case WRITE:
        return new Op.Write(pid, wordAddress(), value());
      case MMAP:
        return mmap(pid);
      case MUNMAP:
        {
          long[] r = range();
          return new Op.Munmap(pid, r[0], r[1]);
        }
      case MPROTECT:
        {
          long[] r = range();
          return new Op.Mprotect(pid, r[0], r[1], pick(Prot.values()));
        }
      case MINHERIT:
        {
          long[] r = range();
          return new Op.Minherit(pid, r[0], r[1], pick(Inherit.values()));
        }
      case MLOCK:
        {
          long[] r = range();
          return new Op.Mlock(pid, r[0], r[1]);
        }
      case MUNLOCK:
        {
          long[] r = range();
          return new Op.Munlock(pid, r[0], r[1]);
        }
      case FORK:
        return pids.size() < mix.maxProcesses
            ? new Op.Fork(pid, freshPid())
            : new Op.Exit(exiting(pid));
      case CLONE:
        return pids.size() < mix.maxProcesses
            ? new Op.Clone(pid, freshPid())
            : new Op.Exit(exiting(pid));
      case EXEC:
        return new Op.Exec(pid, random.nextBoolean() ? "static" : "dynamic");
      case EXIT:
        return new Op.Exit(exiting(pid));
      case SPAWN:
        return new Op.Spawn(pids.size() < mix.maxProcesses ? freshPid() : pid);
      case FILE:
        return new Op.File(pick(FILES), random.nextInt(mix.filePages));
      case FWRITE:
        return new Op.Fwrite(pick(FILES), random.nextInt(mix.filePages * 512) * 8L, value());
      case FREAD:
        return new Op.Fread(pick(FILES), random.nextInt(mix.filePages * 512) * 8L);
      case SHMGET:
        return new Op.Shmget(
            KEYS[random.nextInt(KEYS.length)], segment() ? SEGMENT_PAGES : 1 + random.nextInt(4));
      case SHMRM:
        return new Op.Shmrm(KEYS[random.nextInt(KEYS.length)]);
      case PAGEOUT:
        return new Op.Pageout(random.nextInt(64));
      case COLLAPSE:
        return new Op.Collapse(pid, wordAddress());
    }
    throw new AssertionError(kind);
  }

  /** The pid an exit ends: the acting one, or with a fork-line mix sometimes the oldest. */
  private int exiting(int pid) {
    if (mix.exitOldestPercent > 0 && random.nextInt(100) < mix.exitOldestPercent) {
      return pids.get(0);
    }
    return pid;
  }

  /** Whether a segment or its mapping takes a whole 2 MiB segment this time. */
  private boolean segment() {
    return mix.segmentPercent > 0 && random.nextInt(100) < mix.segmentPercent;
  }

  private Op mmap(int pid) {
    boolean big = mix.bigOneIn > 0 && random.nextInt(mix.bigOneIn) == 0;
    long pages = 1 + random.nextInt(big ? 600 : 8);
    boolean isPrivate =
        mix.privatePercent == 50 ? random.nextBoolean() : random.nextInt(100) < mix.privatePercent;
    Sharing sharing = isPrivate ? Sharing.PRIVATE : Sharing.SHARED;
    Source source;
    int s = random.nextInt(mix.anon + mix.file + mix.shm);
    if (s < mix.anon) {
      source = new Source.Anon();
    } else if (s < mix.anon + mix.file) {
      source = new Source.FileRange(pick(FILES), random.nextInt(4));
    } else {
      source = new Source.Shm(KEYS[random.nextInt(KEYS.length)]);
      if (segment()) {
        pages = SEGMENT_PAGES;
      }
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
